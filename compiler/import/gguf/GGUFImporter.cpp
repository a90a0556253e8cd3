//===- GGUFImporter.cpp - GGUF (llama architecture) to ImportedModel -*- C++ -*-===//

#include "compiler/import/Import.h"
#include "compiler/import/common/BinaryReader.h"
#include "compiler/import/family/Family.h"
#include "compiler/import/gguf/GGUFFile.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringSwitch.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/MemoryBuffer.h"

#include <iterator>
#include <cstring>

using namespace tlmc;
using mlir::tlm::StorageFormat;

namespace {
/// Reads the llama-architecture metadata of a parsed GGUF file.
class MetadataReader {
public:
  MetadataReader(llvm::StringRef fileName, const gguf::File &file)
      : fileName(fileName), file(file) {}

  /// A count, size or token id: the spec and llama.cpp's writer store
  /// these as unsigned integers (u32; the spec allows u64). A signed, bool,
  /// float or string value is refused rather than converted.
  llvm::Expected<int64_t> getUnsigned(llvm::StringRef key,
                                      std::optional<int64_t> fallback = {}) {
    const gguf::Value *v = file.find(key);
    if (!v) {
      if (fallback)
        return *fallback;
      return makeImportError(fileName,
                             "metadata '" + key +
                                 "' is missing (expected an unsigned integer)");
    }
    if (!v->isUnsigned())
      return makeImportError(
          fileName, v->offset,
          llvm::formatv("metadata '{0}': expected an unsigned integer, found "
                        "{1}",
                        key, describe(*v)));
    return v->integer;
  }

  /// A float32 value (the spec's type for epsilons and RoPE bases).
  llvm::Expected<float> getFloat(llvm::StringRef key, float fallback) {
    const gguf::Value *v = file.find(key);
    if (!v)
      return fallback;
    if (v->type != gguf::ValueType::F32)
      return makeImportError(fileName, v->offset,
                             llvm::formatv("metadata '{0}': expected an f32, "
                                           "found {1}",
                                           key, describe(*v)));
    return float(v->real);
  }

  llvm::Expected<bool> getBool(llvm::StringRef key, bool fallback) {
    const gguf::Value *v = file.find(key);
    if (!v)
      return fallback;
    if (v->type != gguf::ValueType::Bool)
      return makeImportError(fileName, v->offset,
                             llvm::formatv("metadata '{0}': expected a bool, "
                                           "found {1}",
                                           key, describe(*v)));
    return v->integer != 0;
  }

  llvm::Expected<std::string> getString(llvm::StringRef key) {
    const gguf::Value *v = file.find(key);
    if (!v)
      return makeImportError(fileName,
                             "metadata '" + key + "' is missing (expected a string)");
    if (v->type != gguf::ValueType::String)
      return makeImportError(fileName, v->offset,
                             llvm::formatv("metadata '{0}': expected a "
                                           "string, found {1}",
                                           key, describe(*v)));
    return v->string;
  }

  /// An array whose elements are exactly `element` (tokens and merges:
  /// string; scores: f32; token types: i32), or null if absent.
  llvm::Expected<const gguf::Value *> getArray(llvm::StringRef key,
                                              gguf::ValueType element) {
    const gguf::Value *v = file.find(key);
    if (!v)
      return nullptr;
    if (!v->isArray() || v->elementType != element)
      return makeImportError(
          fileName, v->offset,
          llvm::formatv("metadata '{0}': expected an array of {1}, found {2}",
                        key, gguf::getTypeName(element), describe(*v)));
    return v;
  }

private:
  static std::string describe(const gguf::Value &v) {
    if (!v.isArray())
      return gguf::getTypeName(v.type).str();
    return ("an array of " + gguf::getTypeName(v.elementType)).str();
  }

  llvm::StringRef fileName;
  const gguf::File &file;
};
} // namespace

static llvm::Error readTokenizer(llvm::StringRef path, const gguf::File &file,
                                 MetadataReader &meta, ImportedModel &model) {
  const gguf::Value *modelName = file.find("tokenizer.ggml.model");
  if (!modelName)
    return llvm::Error::success(); // no tokenizer in this file
  if (modelName->type != gguf::ValueType::String)
    return makeImportError(path, modelName->offset,
                           "tokenizer.ggml.model: expected a string");
  TokenizerData &tok = model.tokenizer;
  if (modelName->string == "llama")
    tok.kind = TokenizerData::Kind::SentencePiece;
  else if (modelName->string == "gpt2")
    tok.kind = TokenizerData::Kind::GPT2;
  else
    return makeImportError(path, modelName->offset,
                           "tokenizer.ggml.model '" + modelName->string +
                               "' is not supported (expected llama or gpt2)");
  tok.source = path.str();

  auto tokens = meta.getArray("tokenizer.ggml.tokens", gguf::ValueType::String);
  if (!tokens)
    return tokens.takeError();
  if (!*tokens)
    return makeImportError(path, "metadata 'tokenizer.ggml.tokens' is missing");
  for (const std::string &t : (*tokens)->strings)
    tok.tokens.push_back(tok.kind == TokenizerData::Kind::SentencePiece
                             ? fromSentencePieceSpaces(t)
                             : t);
  size_t n = tok.tokens.size();

  auto scores = meta.getArray("tokenizer.ggml.scores", gguf::ValueType::F32);
  if (!scores)
    return scores.takeError();
  if (*scores) {
    if ((*scores)->numbers.size() != n)
      return makeImportError(
          path, (*scores)->offset,
          llvm::formatv("tokenizer.ggml.scores has {0} entries, expected {1}",
                        (*scores)->numbers.size(), n));
    for (double s : (*scores)->numbers)
      tok.scores.push_back(float(s));
  } else if (tok.kind == TokenizerData::Kind::SentencePiece) {
    return makeImportError(path, "metadata 'tokenizer.ggml.scores' is missing "
                                 "(a llama tokenizer merges by score)");
  }

  auto types = meta.getArray("tokenizer.ggml.token_type", gguf::ValueType::I32);
  if (!types)
    return types.takeError();
  if (*types) {
    if ((*types)->numbers.size() != n)
      return makeImportError(path, (*types)->offset,
                             llvm::formatv("tokenizer.ggml.token_type has {0} "
                                           "entries, expected {1}",
                                           (*types)->numbers.size(), n));
    for (double t : (*types)->numbers)
      tok.types.push_back(int32_t(t));
  }
  // Control (3) and user-defined (4) tokens are matched whole in text, as
  // llama.cpp does when it parses special tokens.
  for (size_t i = 0; i < tok.types.size(); ++i)
    if (tok.types[i] == 3 || tok.types[i] == 4)
      tok.addedTokens.push_back(int32_t(i));
  if (tok.kind == TokenizerData::Kind::SentencePiece) {
    auto prefix = meta.getBool("tokenizer.ggml.add_space_prefix", true);
    if (!prefix)
      return prefix.takeError();
    tok.addPrefixSpace = *prefix;
  }
  if (const gguf::Value *pre = file.find("tokenizer.ggml.pre");
      pre && tok.kind == TokenizerData::Kind::GPT2) {
    // llama.cpp's names for the split patterns (llama-vocab.cpp).
    using Pre = TokenizerData::PreTokenizer;
    std::optional<Pre> kind;
    if (pre->type == gguf::ValueType::String)
      kind = llvm::StringSwitch<std::optional<Pre>>(pre->string)
                 .Cases("default", "gpt-2", "gpt2", Pre::GPT2)
                 .Cases("llama3", "llama-v3", "llama-bpe", Pre::Llama3)
                 .Case("qwen2", Pre::Qwen2)
                 .Case("smollm", Pre::SmolLM)
                 .Default(std::nullopt);
    if (!kind)
      return makeImportError(
          path, pre->offset,
          "tokenizer.ggml.pre '" + pre->string +
              "' is not supported (expected default, gpt-2, llama-bpe, qwen2 "
              "or smollm)");
    tok.preTokenizer = *kind;
    // llama.cpp's llama-bpe vocabularies come from Llama-3's tokenizer.json,
    // which ignores merges for words that are tokens.
    tok.ignoreMerges = *kind == Pre::Llama3;
  }

  auto merges = meta.getArray("tokenizer.ggml.merges", gguf::ValueType::String);
  if (!merges)
    return merges.takeError();
  if (*merges)
    tok.merges = (*merges)->strings;
  else if (tok.kind == TokenizerData::Kind::GPT2)
    return makeImportError(path, "metadata 'tokenizer.ggml.merges' is missing "
                                 "(a gpt2 tokenizer needs its merges)");

  // The chat template (attachChatFormat renders it) and the text of the
  // special tokens it may print.
  if (file.find("tokenizer.chat_template")) {
    auto chat = meta.getString("tokenizer.chat_template");
    if (!chat)
      return chat.takeError();
    tok.chatTemplate = std::move(*chat);
    tok.chatTemplateSource = (path + ": tokenizer.chat_template").str();
  }
  for (auto [name, key] : {std::pair{"bos_token", "tokenizer.ggml.bos_token_id"},
                           std::pair{"eos_token", "tokenizer.ggml.eos_token_id"},
                           std::pair{"unk_token", "tokenizer.ggml.unknown_token_id"},
                           std::pair{"pad_token", "tokenizer.ggml.padding_token_id"}}) {
    auto id = meta.getUnsigned(key, -1);
    if (!id)
      return id.takeError();
    if (*id >= 0 && size_t(*id) < tok.tokens.size())
      tok.specialTokens.emplace_back(name, tok.tokens[*id]);
  }
  return llvm::Error::success();
}

/// ggml's name for a tensor type id it defines (ggml.h's enum ggml_type),
/// or an empty string: a file's unsupported type is named in the message,
/// since "Q4_K" tells a user what "12" does not.
static llvm::StringRef getGgmlTypeName(uint32_t type) {
  static const char *const kNames[] = {
      "F32",   "F16",   "Q4_0",    "Q4_1",   "",        "",      "Q5_0",
      "Q5_1",  "Q8_0",  "Q8_1",    "Q2_K",   "Q3_K",    "Q4_K",  "Q5_K",
      "Q6_K",  "Q8_K",  "IQ2_XXS", "IQ2_XS", "IQ3_XXS", "IQ1_S", "IQ4_NL",
      "IQ3_S", "IQ2_S", "IQ4_XS",  "I8",     "I16",     "I32",   "I64",
      "F64",   "IQ1_M", "BF16",    "",       "",        "",      "TQ1_0",
      "TQ2_0", "",      "",        "",       "MXFP4"};
  return type < std::size(kNames) ? kNames[type] : "";
}

static llvm::Expected<StorageFormat> getFormat(llvm::StringRef path,
                                               const gguf::TensorInfo &info) {
  switch (info.ggmlType) {
  case gguf::GGML_F32: return StorageFormat::F32;
  case gguf::GGML_F16: return StorageFormat::F16;
  case gguf::GGML_BF16: return StorageFormat::BF16;
  case gguf::GGML_Q8_0: return StorageFormat::Q8_0;
  case gguf::GGML_Q4_0: return StorageFormat::Q4_0;
  default: {
    llvm::StringRef name = getGgmlTypeName(info.ggmlType);
    std::string type =
        name.empty() ? llvm::formatv("{0}", info.ggmlType).str()
                     : llvm::formatv("{0} ({1})", info.ggmlType, name).str();
    // K-quant and i-quant files (Q4_K_M and the like) are the common
    // downloads this compiler does not read yet: say how to get one it does.
    return makeImportError(
        path, info.infoOffset,
        llvm::formatv(
            "tensor '{0}': ggml type {1} is not supported (expected "
            "F32, F16, BF16, Q8_0 or Q4_0; llama.cpp's llama-quantize "
            "--allow-requantize FILE OUT Q8_0 or Q4_0 converts it, "
            "or quantize the F16/BF16 original)",
            info.name, type));
  }
  }
}

static llvm::Error readTensors(llvm::StringRef path, const gguf::File &file,
                               std::shared_ptr<llvm::MemoryBuffer> buffer,
                               ImportedModel &model) {
  llvm::ArrayRef<char> bytes = getBytes(*buffer);
  uint64_t dataSize = bytes.size() - file.dataOffset;
  struct Range {
    uint64_t begin, end;
    const gguf::TensorInfo *info;
  };
  std::vector<Range> ranges;
  for (const gguf::TensorInfo &info : file.tensors) {
    auto format = getFormat(path, info);
    if (!format)
      return format.takeError();
    ImportedTensor tensor;
    tensor.name = llvm::StringRef(info.name).str();
    if (llvm::StringRef(tensor.name).ends_with(".weight"))
      tensor.name.resize(tensor.name.size() - 7);
    tensor.format = *format;
    for (auto it = info.dims.rbegin(); it != info.dims.rend(); ++it) {
      if (*it == 0 || *it > (uint64_t(1) << 40))
        return makeImportError(path, info.infoOffset,
                               llvm::formatv("tensor '{0}': dimension {1} is "
                                             "out of range (1 to 2^40)",
                                             info.name, *it));
      tensor.shape.push_back(int64_t(*it));
    }
    std::optional<int64_t> count = checkedProduct(tensor.shape);
    if (!count)
      return makeImportError(path, info.infoOffset,
                             "tensor '" + info.name +
                                 "': element count overflows");
    std::optional<int64_t> size = mlir::tlm::getStorageBytes(*format, *count);
    bool isBlockFormat =
        *format == StorageFormat::Q8_0 || *format == StorageFormat::Q4_0;
    if (!size || (isBlockFormat && info.dims[0] % 32 != 0))
      return makeImportError(path, info.infoOffset,
                             "tensor '" + info.name +
                                 "': rows are not whole 32-value blocks");
    if (info.offset % file.alignment != 0)
      return makeImportError(
          path, info.infoOffset,
          llvm::formatv("tensor '{0}': data offset {1} is not a multiple of "
                        "general.alignment ({2})",
                        info.name, info.offset, file.alignment));
    if (info.offset > dataSize || uint64_t(*size) > dataSize - info.offset)
      return makeImportError(
          path, file.dataOffset + info.offset,
          llvm::formatv("tensor '{0}': data [{1}, {2}) runs past the end of "
                        "the data section ({3} bytes)",
                        info.name, info.offset, info.offset + uint64_t(*size),
                        dataSize));
    tensor.bytes = bytes.slice(file.dataOffset + info.offset, *size);
    tensor.owner = buffer;
    model.tensors.push_back(std::move(tensor));
    ranges.push_back({info.offset, info.offset + uint64_t(*size), &info});
  }
  // Two tensors sharing bytes would make one weight silently alias another.
  llvm::sort(ranges, [](const Range &a, const Range &b) {
    return a.begin < b.begin;
  });
  for (size_t i = 1; i < ranges.size(); ++i)
    if (ranges[i].begin < ranges[i - 1].end)
      return makeImportError(
          path, ranges[i].info->infoOffset,
          llvm::formatv("tensor '{0}': data [{1}, {2}) overlaps tensor "
                        "'{3}' at [{4}, {5})",
                        ranges[i].info->name, ranges[i].begin, ranges[i].end,
                        ranges[i - 1].info->name, ranges[i - 1].begin,
                        ranges[i - 1].end));
  return llvm::Error::success();
}

/// Moves a Llama-3 file's `rope_freqs` tensor (one f32 divisor per RoPE
/// pair) from the weights into the config: it is a constant of tlm.rope.
static llvm::Error takeRopeFreqs(llvm::StringRef path, ImportedModel &model) {
  auto it = llvm::find_if(model.tensors, [](const ImportedTensor &t) {
    return t.name == "rope_freqs";
  });
  if (it == model.tensors.end())
    return llvm::Error::success();
  int64_t pairs = model.config.headDim / 2;
  if (it->format != StorageFormat::F32 || it->shape.size() != 1 ||
      it->shape[0] != pairs)
    return makeImportError(path, llvm::formatv("tensor 'rope_freqs.weight': "
                                               "expected {0} f32 values (one "
                                               "per RoPE pair)",
                                               pairs));
  std::vector<float> &factors = model.config.ropeFreqFactors;
  factors.resize(pairs);
  std::memcpy(factors.data(), it->bytes.data(), pairs * sizeof(float));
  model.tensors.erase(it);
  return llvm::Error::success();
}

llvm::Expected<TokenizerData> tlmc::readGGUFTokenizer(const ModelFiles &files,
                                                      llvm::StringRef path) {
  auto buffer = files.map(path);
  if (!buffer)
    return buffer.takeError();
  auto file = gguf::parse(path, getBytes(**buffer));
  if (!file)
    return file.takeError();
  MetadataReader meta(path, *file);
  ImportedModel model;
  if (auto err = readTokenizer(path, *file, meta, model))
    return std::move(err);
  if (model.tokenizer.kind == TokenizerData::Kind::None)
    return makeImportError(path, "has no tokenizer (tokenizer.ggml.model)");
  return std::move(model.tokenizer);
}

llvm::Expected<ImportedModel> tlmc::importGGUF(const ModelFiles &files,
                                               llvm::StringRef path) {
  auto buffer = files.map(path);
  if (!buffer)
    return buffer.takeError();
  auto file = gguf::parse(path, getBytes(**buffer));
  if (!file)
    return file.takeError();

  ImportedModel model;
  model.path = path.str();
  model.format = "gguf";
  MetadataReader meta(path, *file);
  auto arch = meta.getString("general.architecture");
  if (!arch)
    return arch.takeError();
  const Family *family = lookupFamily(*arch);
  if (!family)
    return makeImportError(path, "architecture '" + *arch +
                                     "' is not supported (expected one of " +
                                     getFamilyNames() + ")");
  ModelConfig &c = model.config;
  c.arch = *arch;
  c.ropeStyle = family->getGGUFRopeStyle();
  std::string p = *arch + ".";
  auto readInt = [&](llvm::StringRef key, int64_t &out,
                     std::optional<int64_t> fallback = {}) -> llvm::Error {
    auto v = meta.getUnsigned(p + key.str(), fallback);
    if (!v)
      return v.takeError();
    out = *v;
    return llvm::Error::success();
  };
  if (auto err = readInt("embedding_length", c.dim))
    return std::move(err);
  if (auto err = readInt("feed_forward_length", c.ffnDim))
    return std::move(err);
  if (auto err = readInt("block_count", c.layers))
    return std::move(err);
  if (auto err = readInt("attention.head_count", c.heads))
    return std::move(err);
  if (auto err = readInt("attention.head_count_kv", c.kvHeads, c.heads))
    return std::move(err);
  if (auto err = readInt("context_length", c.context))
    return std::move(err);
  if (auto err = readInt("attention.key_length", c.headDim,
                         c.heads > 0 ? c.dim / c.heads : 0))
    return std::move(err);
  int64_t valueDim = 0;
  if (auto err = readInt("attention.value_length", valueDim, c.headDim))
    return std::move(err);
  if (valueDim != c.headDim)
    return makeImportError(path, llvm::formatv("{0}attention.value_length {1}: "
                                               "expected the key length {2}",
                                               p, valueDim, c.headDim));
  int64_t ropeDim = 0;
  if (auto err = readInt("rope.dimension_count", ropeDim, c.headDim))
    return std::move(err);
  if (ropeDim != c.headDim)
    return makeImportError(path, llvm::formatv("{0}rope.dimension_count {1}: "
                                               "partial rotary embeddings are "
                                               "not supported (expected {2})",
                                               p, ropeDim, c.headDim));
  auto eps = meta.getFloat(p + (family->usesLayerNorm()
                                    ? "attention.layer_norm_epsilon"
                                    : "attention.layer_norm_rms_epsilon"),
                           1e-5f);
  if (!eps)
    return eps.takeError();
  c.normEps = *eps;
  auto theta = meta.getFloat(p + "rope.freq_base", 10000.0f);
  if (!theta)
    return theta.takeError();
  c.ropeTheta = *theta;
  if (file->find(p + "rope.scaling.type"))
    return makeImportError(path, p + "rope.scaling.type: RoPE scaling is not "
                                     "supported");

  if (auto err = readTokenizer(path, *file, meta, model))
    return std::move(err);
  auto bos = meta.getUnsigned("tokenizer.ggml.bos_token_id", 1);
  auto eos = meta.getUnsigned("tokenizer.ggml.eos_token_id", 2);
  if (!bos)
    return bos.takeError();
  if (!eos)
    return eos.takeError();
  c.bos = *bos;
  c.eos = *eos;

  if (auto err = readInt("attention.sliding_window", c.slidingWindow, 0))
    return std::move(err);
  // Which layers are local: a period (every n-th layer global), or one flag
  // per layer (true: local), which must then be periodic too.
  if (const gguf::Value *v = file->find(p + "attention.sliding_window_pattern");
      v && v->isArray()) {
    auto flags = meta.getArray(p + "attention.sliding_window_pattern",
                               gguf::ValueType::Bool);
    if (!flags)
      return flags.takeError();
    const std::vector<double> &local = (*flags)->numbers;
    if (int64_t(local.size()) != c.layers)
      return makeImportError(path, v->offset,
                             llvm::formatv("{0}attention.sliding_window_pattern"
                                           ": {1} flags for {2} layers",
                                           p, local.size(), c.layers));
    auto global = llvm::find(local, 0.0);
    c.slidingWindowPattern = global == local.end() ? 0 : global - local.begin() + 1;
    for (int64_t l = 0; l < c.layers; ++l)
      if ((local[l] != 0) != c.isLocalLayer(l) && c.slidingWindow > 0)
        return makeImportError(
            path, v->offset,
            llvm::formatv("{0}attention.sliding_window_pattern: layer {1} "
                          "breaks the period of {2} (only periodic patterns "
                          "are supported)",
                          p, l, c.slidingWindowPattern));
  } else if (auto err = readInt("attention.sliding_window_pattern",
                                c.slidingWindowPattern, 0)) {
    return std::move(err);
  }
  auto thetaLocal = meta.getFloat(p + "rope.freq_base_swa", 0.0f);
  if (!thetaLocal)
    return thetaLocal.takeError();
  c.ropeThetaLocal = *thetaLocal;
  // Soft-capping (Gemma-2's tanh on scores and logits); checkModel refuses
  // it for a family whose graph does not apply it.
  auto [attnCap, finalCap] = family->getGGUFSoftcapDefaults();
  auto attnSoftcap = meta.getFloat(p + "attn_logit_softcapping", attnCap);
  if (!attnSoftcap)
    return attnSoftcap.takeError();
  c.attnLogitSoftcap = *attnSoftcap;
  auto finalSoftcap = meta.getFloat(p + "final_logit_softcapping", finalCap);
  if (!finalSoftcap)
    return finalSoftcap.takeError();
  c.finalLogitSoftcap = *finalSoftcap;
  family->completeGGUFConfig(c);
  if (auto err = readTensors(path, *file, *buffer, model))
    return std::move(err);
  if (auto err = takeRopeFreqs(path, model))
    return std::move(err);
  if (auto err = splitFusedTensors(model))
    return std::move(err);
  c.tiedEmbeddings = model.findTensor("output") == nullptr;
  // The vocabulary size is the embedding table's row count; the tokenizer
  // (when present) must agree, which checkModel verifies.
  if (const ImportedTensor *embd = model.findTensor("token_embd"))
    c.vocab = embd->shape.empty() ? 0 : embd->shape[0];
  else
    return makeImportError(path, "tensor 'token_embd.weight' is missing");
  if (auto vocab = file->find(p + "vocab_size"))
    if (!vocab->isUnsigned() || vocab->integer != c.vocab)
      return makeImportError(path, vocab->offset,
                             llvm::formatv("{0}vocab_size: expected {1} (the "
                                           "embedding table's rows)",
                                           p, c.vocab));
  return model;
}
