//===- ModelChecks.cpp - structural checks shared by all importers -*- C++ -*-===//

#include "compiler/import/Import.h"
#include "compiler/import/common/BinaryReader.h"
#include "compiler/import/family/Family.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>

using namespace tlmc;

int64_t ImportedTensor::getNumElements() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

const ImportedTensor *ImportedModel::findTensor(llvm::StringRef name) const {
  for (const ImportedTensor &t : tensors)
    if (t.name == name)
      return &t;
  return nullptr;
}

int64_t ImportedModel::getParameterCount() const {
  int64_t n = 0;
  for (const ImportedTensor &t : tensors)
    n += t.getNumElements();
  return n;
}

int64_t ImportedModel::getWeightBytes() const {
  int64_t n = 0;
  for (const ImportedTensor &t : tensors)
    n += t.bytes.size();
  return n;
}

std::vector<std::pair<std::string, std::vector<int64_t>>>
tlmc::getExpectedTensors(const ModelConfig &c) {
  TensorList expected;
  expected.push_back({"token_embd", {c.vocab, c.dim}});
  // An unknown family has no layers to expect; checkModel refuses it first.
  const Family *family = lookupFamily(c.arch);
  if (family) {
    family->addInputTensors(c, expected);
    TensorList layer;
    family->addLayerTensors(c, layer);
    for (int64_t l = 0; l < c.layers; ++l)
      for (auto &[kind, shape] : layer)
        expected.push_back({"blk." + std::to_string(l) + "." + kind, shape});
    family->addOutputNormTensors(c, expected);
  } else {
    expected.push_back({"output_norm", {c.dim}});
  }
  if (!c.tiedEmbeddings)
    expected.push_back({"output", {c.vocab, c.dim}});
  return expected;
}

static std::string formatShape(llvm::ArrayRef<int64_t> shape) {
  return "[" + llvm::join(llvm::map_range(shape, [](int64_t d) {
                            return std::to_string(d);
                          }),
                          ", ") +
         "]";
}

std::vector<std::pair<std::string, std::vector<int64_t>>>
tlmc::getStoredTensors(const ModelConfig &c) {
  TensorList graph = getExpectedTensors(c);
  const Family *family = lookupFamily(c.arch);
  if (!family || family->getFusedTensors().empty())
    return graph;
  llvm::StringMap<std::vector<int64_t>> shapes;
  for (auto &[name, shape] : graph)
    shapes[name] = shape;
  TensorList stored;
  llvm::StringSet<> done;
  for (auto &[name, shape] : graph) {
    llvm::StringRef rest = name;
    if (!rest.consume_front("blk.")) {
      stored.push_back({name, shape});
      continue;
    }
    std::string prefix = "blk." + rest.split('.').first.str() + ".";
    llvm::StringRef kind = rest.split('.').second;
    const FusedTensor *fusion = nullptr;
    std::vector<FusedTensor> fused = family->getFusedTensors();
    for (const FusedTensor &f : fused)
      if (llvm::is_contained(f.parts, kind))
        fusion = &f;
    if (!fusion) {
      stored.push_back({name, shape});
      continue;
    }
    std::string fusedName = prefix + fusion->fused.str();
    if (!done.insert(fusedName).second)
      continue;
    // Parts stack by rows (a fused bias: by elements).
    std::vector<int64_t> fusedShape = shape;
    fusedShape[0] = 0;
    for (llvm::StringRef part : fusion->parts)
      fusedShape[0] += shapes[prefix + part.str()][0];
    stored.push_back({fusedName, fusedShape});
  }
  return stored;
}

/// The shapes of one layer's graph tensors, by kind (`attn_q`).
static llvm::StringMap<std::vector<int64_t>>
getLayerShapes(const Family &family, const ModelConfig &config) {
  TensorList layer;
  family.addLayerTensors(config, layer);
  llvm::StringMap<std::vector<int64_t>> shapes;
  for (auto &[kind, shape] : layer)
    shapes[kind] = shape;
  return shapes;
}

llvm::Error tlmc::splitFusedTensors(ImportedModel &model) {
  const Family *family = lookupFamily(model.config.arch);
  std::vector<FusedTensor> fusions =
      family ? family->getFusedTensors() : std::vector<FusedTensor>();
  if (fusions.empty())
    return llvm::Error::success();
  llvm::StringMap<std::vector<int64_t>> shapes =
      getLayerShapes(*family, model.config);
  // The file's tensors, not the config's layer count, drive the loop: a
  // hostile count is refused later, by checkModel.
  std::vector<ImportedTensor> tensors = std::move(model.tensors);
  model.tensors.clear();
  for (ImportedTensor &whole : tensors) {
    llvm::StringRef rest = whole.name;
    const FusedTensor *fusion = nullptr;
    if (rest.consume_front("blk."))
      for (const FusedTensor &f : fusions)
        if (rest.split('.').second == f.fused)
          fusion = &f;
    if (!fusion) {
      model.tensors.push_back(std::move(whole));
      continue;
    }
    std::string prefix = "blk." + rest.split('.').first.str() + ".";
    // Parts stack by rows (a fused bias: by elements).
    std::vector<int64_t> expected = shapes[fusion->parts.front()];
    expected[0] = 0;
    for (llvm::StringRef part : fusion->parts)
      expected[0] += shapes[part][0];
    int64_t rows = expected[0];
    if (whole.shape != expected || rows == 0 ||
        whole.bytes.size() % rows != 0)
      return makeImportError(
          model.path, "tensor '" + whole.name + "': expected shape " +
                          formatShape(expected) + " (" +
                          llvm::join(fusion->parts, ", ") + " fused), got " +
                          formatShape(whole.shape));
    size_t rowBytes = whole.bytes.size() / rows, offset = 0;
    for (llvm::StringRef part : fusion->parts) {
      ImportedTensor t = whole;
      t.name = prefix + part.str();
      t.shape = shapes[part];
      t.bytes = whole.bytes.slice(offset, t.shape[0] * rowBytes);
      offset += t.bytes.size();
      model.tensors.push_back(std::move(t));
    }
  }
  return llvm::Error::success();
}

ImportedModel tlmc::joinFusedTensors(const ImportedModel &model) {
  ImportedModel out = model;
  const Family *family = lookupFamily(model.config.arch);
  if (!family)
    return out;
  for (const FusedTensor &fusion : family->getFusedTensors())
    for (int64_t l = 0; l < model.config.layers; ++l) {
      std::string prefix = "blk." + std::to_string(l) + ".";
      auto bytes = std::make_shared<std::vector<char>>();
      ImportedTensor whole;
      for (llvm::StringRef part : fusion.parts) {
        auto it = llvm::find_if(out.tensors, [&](const ImportedTensor &t) {
          return t.name == prefix + part.str();
        });
        if (it == out.tensors.end())
          return out;
        if (whole.shape.empty())
          whole = *it;
        else
          whole.shape[0] += it->shape[0];
        bytes->insert(bytes->end(), it->bytes.begin(), it->bytes.end());
        out.tensors.erase(it);
      }
      whole.name = prefix + fusion.fused.str();
      whole.bytes = llvm::ArrayRef<char>(bytes->data(), bytes->size());
      whole.owner = bytes;
      out.tensors.push_back(std::move(whole));
    }
  return out;
}


llvm::Error tlmc::checkConfig(const ImportedModel &model) {
  const ModelConfig &c = model.config;
  if (!lookupFamily(c.arch))
    return makeImportError(model.path,
                           "architecture '" + c.arch +
                               "' is not supported (expected one of " +
                               getFamilyNames() + ")");
  // Limits far beyond any model tlmc targets (a 70B LLaMA has 80 layers,
  // dim 8192, 128K vocabulary). They keep size arithmetic far from overflow
  // and stop a hostile header from making the checks below allocate much.
  struct Field {
    const char *name;
    int64_t value;
    int64_t max;
  };
  for (Field f : {Field{"vocab", c.vocab, 1 << 22},
                  Field{"dim", c.dim, 1 << 17},
                  Field{"ffn_dim", c.ffnDim, 1 << 19},
                  Field{"layers", c.layers, 1024},
                  Field{"heads", c.heads, 1024},
                  Field{"kv_heads", c.kvHeads, 1024},
                  Field{"head_dim", c.headDim, 1 << 12},
                  Field{"context", c.context, 1 << 24}})
    if (f.value <= 0 || f.value > f.max)
      return makeImportError(model.path,
                             llvm::formatv("config '{0}' = {1}: expected a "
                                           "positive size of at most {2}",
                                           f.name, f.value, f.max));
  if (c.headDim % 2 != 0)
    return makeImportError(
        model.path,
        llvm::formatv("config head_dim {0}: expected an even number for RoPE",
                      c.headDim));
  if (c.heads % c.kvHeads != 0)
    return makeImportError(
        model.path, llvm::formatv("config kv_heads {0} does not divide heads {1}",
                                  c.kvHeads, c.heads));
  if (!(c.ropeTheta > 0) || !(c.normEps > 0))
    return makeImportError(model.path,
                           "config rope_theta and norm_eps must be positive");
  if (!c.ropeFreqFactors.empty() &&
      int64_t(c.ropeFreqFactors.size()) != c.headDim / 2)
    return makeImportError(
        model.path, llvm::formatv("RoPE frequency factors: expected head_dim "
                                  "/ 2 = {0} values, got {1}",
                                  c.headDim / 2, c.ropeFreqFactors.size()));
  for (float f : c.ropeFreqFactors)
    if (!(f > 0) || !std::isfinite(f))
      return makeImportError(
          model.path, llvm::formatv("RoPE frequency factor {0}: expected a "
                                    "positive finite number",
                                    f));
  if (c.bos < 0 || c.bos >= c.vocab || c.eos < 0 || c.eos >= c.vocab)
    return makeImportError(
        model.path, llvm::formatv("config bos {0} / eos {1}: expected token "
                                  "ids below the vocabulary size {2}",
                                  c.bos, c.eos, c.vocab));
  return llvm::Error::success();
}

llvm::Error tlmc::checkModel(const ImportedModel &model) {
  if (llvm::Error err = checkConfig(model))
    return err;
  // After --context: learned positions bound it.
  const ModelConfig &c = model.config;
  if (c.positions > 0 && c.context > c.positions)
    return makeImportError(
        model.path,
        llvm::formatv("context {0} is beyond the {1} positions the model "
                      "learned embeddings for (compile with --context {1} or "
                      "less)",
                      c.context, c.positions));
  const Family *family = lookupFamily(c.arch);
  if (!(c.attnLogitSoftcap >= 0 && c.finalLogitSoftcap >= 0 &&
        std::isfinite(c.attnLogitSoftcap) && std::isfinite(c.finalLogitSoftcap)))
    return makeImportError(model.path, "logit soft-capping: expected caps "
                                       ">= 0 (0: none)");
  if ((c.attnLogitSoftcap > 0 || c.finalLogitSoftcap > 0) && family &&
      !family->appliesLogitSoftcapping())
    return makeImportError(model.path, "logit soft-capping is not supported "
                                       "for " + c.arch);
  // A family that builds no window (Phi-3's) is exact only where the
  // window masks nothing, in a context that fits it.
  bool windowed = family && family->appliesSlidingWindow();
  if (!windowed && c.slidingWindow > 0 && c.context > c.slidingWindow)
    return makeImportError(
        model.path,
        llvm::formatv("sliding-window attention over {0} positions is not "
                      "supported; compile with --context {0} or less, where "
                      "the window changes nothing (the context is {1})",
                      c.slidingWindow, c.context));

  llvm::StringMap<const ImportedTensor *> byName;
  for (const ImportedTensor &t : model.tensors)
    byName[t.name] = &t;
  auto expected = getExpectedTensors(model.config);
  for (auto &[name, shape] : expected) {
    auto it = byName.find(name);
    if (it == byName.end())
      return makeImportError(model.path, "tensor '" + name +
                                             "' is missing: expected shape " +
                                             formatShape(shape));
    const ImportedTensor &t = *it->second;
    if (t.shape != shape)
      return makeImportError(model.path,
                             "tensor '" + name + "': expected shape " +
                                 formatShape(shape) + ", got " +
                                 formatShape(t.shape));
    std::optional<int64_t> bytes =
        mlir::tlm::getStorageBytes(t.format, t.getNumElements());
    if (!bytes || *bytes != static_cast<int64_t>(t.bytes.size()))
      return makeImportError(
          model.path, llvm::formatv("tensor '{0}': expected {1} bytes of "
                                    "data, got {2}",
                                    name, bytes.value_or(-1), t.bytes.size()));
  }
  // A tensor the graph does not use is math that would be silently left
  // out (a Llama-3 file's rope_freqs: RoPE frequency factors).
  llvm::StringSet<> known;
  for (auto &[name, shape] : expected)
    known.insert(name);
  for (const ImportedTensor &t : model.tensors)
    if (!known.contains(t.name))
      return makeImportError(
          model.path,
          "tensor '" + t.name + "' is not part of the " + model.config.arch +
              " graph tlmc builds; its math would be left out (a variant "
              "of the architecture tlmc does not support)");
  if (model.tokenizer.kind != TokenizerData::Kind::None &&
      static_cast<int64_t>(model.tokenizer.tokens.size()) != model.config.vocab)
    return makeImportError(
        model.path,
        llvm::formatv("tokenizer from {0} has {1} tokens, the model's "
                      "vocabulary has {2}",
                      model.tokenizer.source, model.tokenizer.tokens.size(),
                      model.config.vocab));
  return checkTokenizer(model.tokenizer, model.tokenizer.source);
}
