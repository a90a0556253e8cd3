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
  if (const Family *family = lookupFamily(c.arch)) {
    TensorList layer;
    family->addLayerTensors(c, layer);
    for (int64_t l = 0; l < c.layers; ++l)
      for (auto &[kind, shape] : layer)
        expected.push_back({"blk." + std::to_string(l) + "." + kind, shape});
  }
  expected.push_back({"output_norm", {c.dim}});
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

static llvm::Error checkConfig(const ImportedModel &model) {
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
