//===- SafetensorsImporter.cpp - Hugging Face LlamaForCausalLM -------*- C++ -*-===//
//
// A Hugging Face checkpoint is a folder: config.json (the hyper-parameters)
// and either model.safetensors or shards model-0000x-of-0000y.safetensors
// listed in model.safetensors.index.json. A safetensors file is a u64 header
// length, a JSON header {name: {dtype, shape, data_offsets}}, then the data.
//
// HF stores q_proj/k_proj rows permuted so that RoPE can rotate halves
// (element i with i + head_dim/2); llama2.c and GGUF rotate adjacent pairs.
// Unless asked to keep the HF layout, the importer undoes the permutation
// so that every format yields the same graph and the same weights.
//
//===----------------------------------------------------------------------===//

#include "compiler/import/Import.h"
#include "compiler/import/common/BinaryReader.h"
#include "compiler/import/common/CheckedJson.h"
#include "compiler/import/family/Family.h"
#include "compiler/import/safetensors/HFLayout.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <tuple>

using namespace tlmc;
using mlir::tlm::StorageFormat;

namespace {
/// A tensor as a safetensors header describes it.
struct RawTensor {
  StorageFormat format;
  std::vector<int64_t> shape;
  llvm::ArrayRef<char> bytes;
  std::shared_ptr<const void> owner;
};
} // namespace

/// Reads every tensor of one .safetensors file into `out`.
static llvm::Error readSafetensors(const ModelFiles &files,
                                   llvm::StringRef path,
                                   llvm::StringMap<RawTensor> &out) {
  auto buffer = files.map(path);
  if (!buffer)
    return buffer.takeError();
  llvm::ArrayRef<char> bytes = getBytes(**buffer);
  BinaryReader r(path, bytes);
  uint64_t headerSize = r.read<uint64_t>("header length");
  if (r.hasFailed())
    return r.takeError();
  if (headerSize > r.getRemaining() || headerSize > (uint64_t(100) << 20))
    return makeImportError(path, 0,
                           llvm::formatv("header length {0} exceeds the file "
                                         "({1} bytes) or 100 MiB",
                                         headerSize, bytes.size()));
  llvm::ArrayRef<char> headerBytes = r.readBytes(headerSize, "JSON header");
  auto header = parseCheckedJson(
      path, llvm::StringRef(headerBytes.data(), headerBytes.size()),
      /*offsetInFile=*/8, "JSON header");
  if (!header)
    return header.takeError();
  const llvm::json::Object *entries = header->getAsObject();
  if (!entries)
    return makeImportError(path, 8, "JSON header: expected an object");
  uint64_t dataStart = 8 + headerSize;
  uint64_t dataSize = bytes.size() - dataStart;
  struct Range {
    uint64_t begin, end;
    std::string name;
  };
  std::vector<Range> ranges;

  for (const auto &[key, value] : *entries) {
    std::string name = key.str();
    if (name == "__metadata__")
      continue;
    auto fieldError = [&](const llvm::Twine &msg) {
      return makeImportError(path, "tensor '" + name + "': " + msg);
    };
    const llvm::json::Object *entry = value.getAsObject();
    if (!entry)
      return fieldError("expected an object");
    std::optional<llvm::StringRef> dtype = entry->getString("dtype");
    const llvm::json::Array *shape = entry->getArray("shape");
    const llvm::json::Array *offsets = entry->getArray("data_offsets");
    if (!dtype || !shape || !offsets)
      return fieldError("expected 'dtype', 'shape' and 'data_offsets'");
    RawTensor t;
    if (*dtype == "F32")
      t.format = StorageFormat::F32;
    else if (*dtype == "F16")
      t.format = StorageFormat::F16;
    else if (*dtype == "BF16")
      t.format = StorageFormat::BF16;
    else
      return fieldError("dtype '" + *dtype +
                        "' is not supported (expected F32, F16 or BF16)");
    for (const llvm::json::Value &d : *shape) {
      std::optional<int64_t> dim = d.getAsInteger();
      if (!dim || *dim <= 0 || *dim > (int64_t(1) << 40))
        return fieldError("shape: expected positive integers up to 2^40");
      t.shape.push_back(*dim);
    }
    std::optional<int64_t> begin, end;
    if (offsets->size() == 2) {
      begin = (*offsets)[0].getAsInteger();
      end = (*offsets)[1].getAsInteger();
    }
    if (!begin || !end || *begin < 0 || *end < *begin)
      return fieldError("data_offsets: expected [begin, end] with begin <= end");
    std::optional<int64_t> count = checkedProduct(t.shape);
    std::optional<int64_t> size =
        count ? mlir::tlm::getStorageBytes(t.format, *count) : std::nullopt;
    if (!size)
      return fieldError("element count overflows");
    if (*end - *begin != *size)
      return fieldError(llvm::formatv("data_offsets span {0} bytes, shape and "
                                      "dtype need {1}",
                                      *end - *begin, *size));
    if (uint64_t(*end) > dataSize)
      return makeImportError(path, dataStart + *begin,
                             llvm::formatv("tensor '{0}': data ends at {1}, "
                                           "past the {2}-byte data section",
                                           name, *end, dataSize));
    t.bytes = bytes.slice(dataStart + *begin, *size);
    t.owner = *buffer;
    ranges.push_back({uint64_t(*begin), uint64_t(*end), name});
    if (!out.try_emplace(name, std::move(t)).second)
      return fieldError("appears in more than one file");
  }
  // The spec: the data is entirely indexed, with no holes and no overlaps
  // (so that a file cannot hide a second payload, or alias two tensors).
  llvm::sort(ranges, [](const auto &a, const auto &b) {
    return std::tie(a.begin, a.end) < std::tie(b.begin, b.end);
  });
  uint64_t covered = 0;
  for (const auto &r : ranges) {
    if (r.begin != covered)
      return makeImportError(
          path, dataStart + std::min(r.begin, covered),
          llvm::formatv("tensor '{0}': data starts at {1}, but the previous "
                        "tensor ends at {2} ({3}; the spec forbids holes and "
                        "overlaps)",
                        r.name, r.begin, covered,
                        r.begin > covered ? "a hole" : "an overlap"));
    covered = r.end;
  }
  if (covered != dataSize)
    return makeImportError(path, dataStart + covered,
                           llvm::formatv("{0} bytes after the last tensor are "
                                         "not indexed by the header (the "
                                         "spec forbids holes)",
                                         dataSize - covered));
  return llvm::Error::success();
}

/// Reads `rope_scaling`: Llama-3's is the one kind tlmc implements.
static llvm::Expected<Llama3RopeScaling>
readRopeScaling(llvm::StringRef path, const llvm::json::Value &value) {
  const llvm::json::Object *o = value.getAsObject();
  if (!o)
    return makeImportError(path, "field 'rope_scaling': expected an object");
  std::optional<llvm::StringRef> type = o->getString("rope_type");
  if (!type)
    type = o->getString("type");
  if (type != llvm::StringRef("llama3"))
    return makeImportError(path, "field 'rope_scaling': type '" +
                                     type.value_or("").str() +
                                     "' is not supported (expected llama3)");
  Llama3RopeScaling s;
  auto number = [&](llvm::StringRef key, double &out) -> llvm::Error {
    const llvm::json::Value *v = o->get(key);
    std::optional<double> d = v ? v->getAsNumber() : std::nullopt;
    if (!d || !(*d > 0) || !std::isfinite(*d))
      return makeImportError(path, "field 'rope_scaling." + key +
                                       "': expected a positive number");
    out = *d;
    return llvm::Error::success();
  };
  double factor, low, high, original;
  for (auto [key, out] : {std::pair{"factor", &factor},
                          std::pair{"low_freq_factor", &low},
                          std::pair{"high_freq_factor", &high},
                          std::pair{"original_max_position_embeddings",
                                    &original}})
    if (auto err = number(key, *out))
      return std::move(err);
  if (!(high > low))
    return makeImportError(path, "field 'rope_scaling': high_freq_factor "
                                 "must exceed low_freq_factor");
  s.factor = float(factor);
  s.lowFreqFactor = float(low);
  s.highFreqFactor = float(high);
  s.originalContext = int64_t(original);
  return s;
}

/// Reads config.json into `c`; returns the model's family.
static llvm::Expected<const Family *>
readConfig(const ModelFiles &files, llvm::StringRef path, ModelConfig &c) {
  auto json = files.parseJson(path);
  if (!json)
    return json.takeError();
  const llvm::json::Object *o = json->getAsObject();
  if (!o)
    return makeImportError(path, "expected a JSON object");
  llvm::json::Object normalized;
  std::optional<llvm::StringRef> modelType = o->getString("model_type");
  const Family *family = modelType ? lookupHFFamily(*modelType) : nullptr;
  if (!family)
    return makeImportError(
        path, "model_type '" + modelType.value_or("").str() +
                  "' is not supported (expected one of " +
                  getHFModelTypeNames() + ")");
  normalized = *o;
  family->normalizeHFConfig(normalized);
  o = &normalized;
  if (const llvm::json::Array *archs = o->getArray("architectures"))
    for (const llvm::json::Value &a : *archs)
      if (a.getAsString() != family->getHFArchitecture())
        return makeImportError(
            path, "architectures: expected " + family->getHFArchitecture() +
                      " for model_type '" + *modelType + "'");
  c.arch = family->getName().str();
  auto getInt = [&](llvm::StringRef key, int64_t &out,
                    std::optional<int64_t> fallback = {}) -> llvm::Error {
    const llvm::json::Value *v = o->get(key);
    if (!v || v->kind() == llvm::json::Value::Null) {
      if (fallback) {
        out = *fallback;
        return llvm::Error::success();
      }
      return makeImportError(path, "field '" + key + "' is missing");
    }
    std::optional<int64_t> i = v->getAsInteger();
    if (!i)
      return makeImportError(path, "field '" + key + "': expected an integer");
    out = *i;
    return llvm::Error::success();
  };
  auto getFloat = [&](llvm::StringRef key, float &out,
                      float fallback) -> llvm::Error {
    const llvm::json::Value *v = o->get(key);
    if (!v) {
      out = fallback;
      return llvm::Error::success();
    }
    std::optional<double> d = v->getAsNumber();
    if (!d)
      return makeImportError(path, "field '" + key + "': expected a number");
    out = float(*d);
    return llvm::Error::success();
  };
  if (auto e = getInt("hidden_size", c.dim)) return e;
  if (auto e = getInt("intermediate_size", c.ffnDim)) return e;
  if (auto e = getInt("num_hidden_layers", c.layers)) return e;
  if (auto e = getInt("num_attention_heads", c.heads)) return e;
  if (auto e = getInt("num_key_value_heads", c.kvHeads, c.heads)) return e;
  if (auto e = getInt("vocab_size", c.vocab)) return e;
  if (auto e = getInt("max_position_embeddings", c.context)) return e;
  if (auto e = getInt("bos_token_id", c.bos, 1)) return e;
  if (const llvm::json::Value *eos = o->get("eos_token_id");
      eos && eos->getAsArray()) {
    // Some configs list several end tokens; the first is the canonical one.
    const llvm::json::Array &list = *eos->getAsArray();
    std::optional<int64_t> first =
        list.empty() ? std::nullopt : list[0].getAsInteger();
    if (!first)
      return makeImportError(path, "field 'eos_token_id': expected integers");
    c.eos = *first;
  } else if (auto e = getInt("eos_token_id", c.eos, 2)) {
    return e;
  }
  if (auto e = getFloat("rms_norm_eps", c.normEps, 1e-6f)) return e;
  if (auto e = getFloat("rope_theta", c.ropeTheta, 10000.0f)) return e;
  if (auto e = getInt("head_dim", c.headDim,
                      c.heads > 0 ? c.dim / c.heads : 0))
    return e;
  if (const llvm::json::Value *scaling = o->get("rope_scaling");
      scaling && scaling->kind() != llvm::json::Value::Null) {
    auto rope = readRopeScaling(path, *scaling);
    if (!rope)
      return rope.takeError();
    c.llama3RopeScaling = *rope;
    c.ropeFreqFactors = rope->getFreqFactors(c.ropeTheta, c.headDim);
  }
  if (auto err = family->readHFConfig(*o, path, c))
    return std::move(err);
  c.tiedEmbeddings = o->getBoolean("tie_word_embeddings").value_or(false);
  return family;
}

/// `norm`'s weight plus one, in f32: Gemma's RMSNorm multiplies by 1 + w,
/// GGUF (and tlm.rms_norm) by the stored weight.
static ImportedTensor offsetNormByOne(ImportedTensor t) {
  int64_t n = t.getNumElements();
  auto buffer = std::make_shared<std::vector<char>>(n * sizeof(float));
  float *values = reinterpret_cast<float *>(buffer->data());
  mlir::tlm::decodeToF32(t.format, t.bytes, n, values);
  for (int64_t i = 0; i < n; ++i)
    values[i] += 1.0f;
  t.format = mlir::tlm::StorageFormat::F32;
  t.bytes = llvm::ArrayRef<char>(buffer->data(), buffer->size());
  t.owner = buffer;
  return t;
}

/// Undoes HF's rotate-half row order of a q or k projection.
static ImportedTensor toAdjacentPairs(ImportedTensor t, int64_t heads) {
  auto buffer = std::make_shared<std::vector<char>>(
      permuteQKRows(t.bytes, t.shape[0], heads, /*toRotateHalf=*/false));
  t.bytes = llvm::ArrayRef<char>(buffer->data(), buffer->size());
  t.owner = buffer;
  return t;
}

llvm::Expected<ImportedModel>
tlmc::importSafetensors(const ModelFiles &files, llvm::StringRef path,
                        bool keepRotateHalf) {
  // Accept the folder, its config.json, or a .safetensors file in it.
  llvm::SmallString<256> dir(path);
  if (!files.isDirectory(path))
    dir = llvm::sys::path::parent_path(path);
  if (dir.empty())
    dir = ".";
  auto inDir = [&](llvm::StringRef name) {
    llvm::SmallString<256> p = dir;
    llvm::sys::path::append(p, name);
    return std::string(p);
  };

  ImportedModel model;
  model.path = path.str();
  model.format = "safetensors";
  std::string configPath = inDir("config.json");
  if (!files.exists(configPath))
    return makeImportError(path, "no config.json beside the model (a Hugging "
                                 "Face checkpoint needs one)");
  auto family = readConfig(files, configPath, model.config);
  if (!family)
    return family.takeError();
  if (auto err = checkConfig(model))
    return std::move(err);

  llvm::StringMap<RawTensor> raw;
  std::string single = inDir("model.safetensors");
  std::string index = inDir("model.safetensors.index.json");
  if (llvm::StringRef(path).ends_with(".safetensors")) {
    if (auto err = readSafetensors(files, path, raw))
      return std::move(err);
  } else if (files.exists(single)) {
    if (auto err = readSafetensors(files, single, raw))
      return std::move(err);
  } else if (files.exists(index)) {
    auto json = files.parseJson(index);
    if (!json)
      return json.takeError();
    const llvm::json::Object *o = json->getAsObject();
    const llvm::json::Object *map = o ? o->getObject("weight_map") : nullptr;
    if (!map)
      return makeImportError(index, "expected an object 'weight_map'");
    std::set<std::string> shards;
    for (const auto &[name, file] : *map) {
      std::optional<llvm::StringRef> shard = file.getAsString();
      if (!shard || shard->contains('/') || shard->contains('\\'))
        return makeImportError(index, "weight_map '" + name.str() +
                                          "': expected a file name beside "
                                          "the index");
      shards.insert(shard->str());
    }
    for (const std::string &shard : shards)
      if (auto err = readSafetensors(files, inDir(shard), raw))
        return std::move(err);
    for (const auto &[name, file] : *map)
      if (!raw.count(name))
        return makeImportError(index, "tensor '" + name.str() +
                                          "' is listed but not in " +
                                          file.getAsString()->str());
  } else {
    return makeImportError(path, "no model.safetensors or "
                                 "model.safetensors.index.json beside "
                                 "config.json");
  }

  // Names some checkpoints of the family prefix (GPT-2's `transformer.`).
  if (llvm::StringRef prefix = (*family)->getHFOptionalPrefix(); !prefix.empty()) {
    llvm::StringMap<RawTensor> renamed;
    for (auto &entry : raw) {
      llvm::StringRef name = entry.getKey();
      name.consume_front(prefix);
      if (!renamed.try_emplace(name, std::move(entry.getValue())).second)
        return makeImportError(path, "tensor '" + name +
                                         "' appears with and without '" +
                                         prefix + "'");
    }
    raw = std::move(renamed);
  }

  ModelConfig &c = model.config;
  // HF stores q/k rows for rotate-half RoPE. Where the family's GGUF files
  // pair adjacent rows (LLaMA), the rows are reordered so that both forms
  // compile to the same module, unless asked to keep them.
  bool toAdjacent =
      (*family)->getGGUFRopeStyle() == mlir::tlm::RopeStyle::Adjacent &&
      !keepRotateHalf;
  c.ropeStyle = toAdjacent ? mlir::tlm::RopeStyle::Adjacent
                           : mlir::tlm::RopeStyle::RotateHalf;
  for (auto &[name, expectedShape] : getStoredTensors(c)) {
    std::string hfName = getHFTensorName(**family, name);
    auto it = raw.find(hfName);
    if (it == raw.end())
      continue; // checkModel reports it by its canonical name
    ImportedTensor t;
    t.name = name;
    t.shape = it->second.shape;
    t.format = it->second.format;
    t.bytes = it->second.bytes;
    t.owner = it->second.owner;
    llvm::StringRef kind = llvm::StringRef(name).rsplit(".attn_").second;
    bool isQ = kind == "q" || kind == "q.bias";
    bool isK = kind == "k" || kind == "k.bias";
    if ((isQ || isK) && toAdjacent && t.shape == expectedShape)
      t = toAdjacentPairs(std::move(t), isQ ? c.heads : c.kvHeads);
    llvm::StringRef layerKind = llvm::StringRef(name).starts_with("blk.")
                                    ? llvm::StringRef(name).split('.').second.split('.').second
                                    : llvm::StringRef();
    if (t.shape.size() == 2 && (*family)->isHFTransposed(layerKind)) {
      auto buffer = std::make_shared<std::vector<char>>(
          transposeMatrix(t.bytes, t.shape[0], t.shape[1]));
      t.bytes = llvm::ArrayRef<char>(buffer->data(), buffer->size());
      t.owner = buffer;
      std::swap(t.shape[0], t.shape[1]);
    }
    if ((*family)->hfNormsOffsetByOne() &&
        llvm::StringRef(name).ends_with("norm") && t.shape == expectedShape)
      t = offsetNormByOne(std::move(t));
    model.tensors.push_back(std::move(t));
    raw.erase(it);
  }
  // A tensor the family's graph does not read is math left out (a bias the
  // config did not announce, LongRoPE factors); only RoPE's inverse
  // frequencies, which some checkpoints store, are derived from the config.
  for (const auto &entry : raw)
    if (!entry.getKey().ends_with("rotary_emb.inv_freq") &&
        !(*family)->isHFBuffer(entry.getKey()) &&
        !(c.tiedEmbeddings && entry.getKey() == "lm_head.weight"))
      return makeImportError(path, "tensor '" + entry.getKey() +
                                       "' is not part of the " + c.arch +
                                       " graph tlmc builds; its math would "
                                       "be left out");
  if (auto err = splitFusedTensors(model))
    return std::move(err);
  return model;
}
