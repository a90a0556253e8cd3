//===- Summary.cpp - what `tlmc inspect` prints about a model --------*- C++ -*-===//

#include "compiler/import/common/Summary.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"

#include <map>

using namespace tlmc;
using mlir::tlm::StorageFormat;

llvm::StringRef tlmc::getFormatName(StorageFormat format) {
  switch (format) {
  case StorageFormat::F32: return "f32";
  case StorageFormat::F16: return "f16";
  case StorageFormat::BF16: return "bf16";
  case StorageFormat::Q8_0: return "q8_0";
  case StorageFormat::Q4_0: return "q4_0";
  }
  llvm_unreachable("unknown storage format");
}

static llvm::StringRef getTokenizerKind(TokenizerData::Kind kind) {
  switch (kind) {
  case TokenizerData::Kind::None: return "none";
  case TokenizerData::Kind::SentencePiece: return "sentencepiece (llama)";
  case TokenizerData::Kind::GPT2: return "byte-level bpe (gpt2)";
  }
  llvm_unreachable("unknown tokenizer kind");
}

void tlmc::printSummary(llvm::raw_ostream &os, const ImportedModel &model,
                        bool listTensors) {
  const ModelConfig &c = model.config;
  os << llvm::formatv("model:        {0} ({1})\n", model.path, model.format);
  os << llvm::formatv("architecture: {0}\n", c.arch);
  os << llvm::formatv("dims:         vocab {0}, dim {1}, ffn {2}, layers {3}, "
                      "heads {4}, kv_heads {5}, head_dim {6}, context {7}\n",
                      c.vocab, c.dim, c.ffnDim, c.layers, c.heads, c.kvHeads,
                      c.headDim, c.context);
  os << llvm::formatv("rope:         theta {0}, {1} pairs\n", c.ropeTheta,
                      c.ropeStyle == mlir::tlm::RopeStyle::Adjacent
                          ? "adjacent"
                          : "rotate-half");
  os << llvm::formatv("norm eps:     {0:e}\n", c.normEps);
  os << llvm::formatv("embeddings:   {0}\n",
                      c.tiedEmbeddings ? "tied (classifier = token_embd)"
                                       : "untied (separate output)");
  os << llvm::formatv("tokenizer:    {0}, {1} tokens, bos {2}, eos {3}{4}\n",
                      getTokenizerKind(model.tokenizer.kind),
                      model.tokenizer.tokens.size(), c.bos, c.eos,
                      model.tokenizer.source.empty()
                          ? std::string()
                          : " (" + model.tokenizer.source + ")");
  os << llvm::formatv("parameters:   {0} in {1} tensors, {2} bytes\n",
                      model.getParameterCount(), model.tensors.size(),
                      model.getWeightBytes());
  std::map<std::string, std::pair<int64_t, int64_t>> perFormat;
  for (const ImportedTensor &t : model.tensors) {
    auto &[count, bytes] = perFormat[getFormatName(t.format).str()];
    ++count;
    bytes += t.bytes.size();
  }
  for (auto &[name, stats] : perFormat)
    os << llvm::formatv("  {0,-5} {1,5} tensors {2,14} bytes\n", name,
                        stats.first, stats.second);
  if (!listTensors)
    return;
  for (const ImportedTensor &t : model.tensors)
    os << llvm::formatv("  {0,-24} {1,-5} [{2}] {3} bytes\n", t.name,
                        getFormatName(t.format),
                        llvm::join(llvm::map_range(t.shape,
                                                   [](int64_t d) {
                                                     return std::to_string(d);
                                                   }),
                                   ", "),
                        t.bytes.size());
}
