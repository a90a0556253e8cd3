//===- Llama2cImporter.cpp - llama2.c checkpoints and tokenizers ----*- C++ -*-===//
//
// llama2.c's legacy checkpoint is seven int32 (dim, hidden_dim, n_layers,
// n_heads, n_kv_heads, vocab_size, seq_len) followed by fp32 arrays, each
// holding one kind of weight for all layers. A negative vocab_size means the
// classifier is not shared with the embedding table and follows at the end.
// The tokenizer is a separate `tok*.bin` (read by readLlama2cTokenizer): the
// longest token length, then per token a float score, an int32 length and
// the bytes.
//
//===----------------------------------------------------------------------===//

#include "compiler/import/Import.h"
#include "compiler/import/common/BinaryReader.h"

#include "llvm/Support/CheckedArithmetic.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"

using namespace tlmc;

llvm::Expected<TokenizerData>
tlmc::readLlama2cTokenizer(const ModelFiles &files, llvm::StringRef path,
                           int64_t vocab) {
  auto buffer = files.map(path);
  if (!buffer)
    return buffer.takeError();
  BinaryReader r(path, getBytes(**buffer));
  TokenizerData tok;
  tok.kind = TokenizerData::Kind::SentencePiece;
  tok.source = path.str();
  int32_t maxLength = r.read<int32_t>("max_token_length");
  if (r.hasFailed())
    return r.takeError();
  if (maxLength <= 0 || maxLength > 4096)
    return makeImportError(path, 0,
                           llvm::formatv("max_token_length {0}: expected 1 "
                                         "to 4096",
                                         maxLength));
  if (vocab <= 0) {
    // No model to say it: as many entries as the file holds.
    BinaryReader count(path, getBytes(**buffer));
    count.seek(4, "first token");
    vocab = 0;
    while (count.getRemaining() >= 8 && !count.hasFailed()) {
      count.read<float>("score");
      int32_t length = count.read<int32_t>("length");
      if (length < 0 || uint64_t(length) > count.getRemaining())
        break; // the reading below reports it
      (void)count.readBytes(length, "bytes");
      ++vocab;
    }
  }
  // Each entry takes at least 8 bytes; refuse a vocabulary that cannot fit.
  if (uint64_t(vocab) > r.getRemaining() / 8)
    return makeImportError(path, llvm::formatv("a {0}-token vocabulary cannot "
                                               "fit in {1} bytes",
                                               vocab, r.getSize()));
  tok.tokens.reserve(vocab);
  tok.scores.reserve(vocab);
  for (int64_t i = 0; i < vocab; ++i) {
    tok.scores.push_back(r.read<float>("score of token " + llvm::Twine(i)));
    uint64_t at = r.getOffset();
    int32_t length = r.read<int32_t>("length of token " + llvm::Twine(i));
    if (r.hasFailed())
      return r.takeError();
    if (length < 0 || length > maxLength)
      return makeImportError(path, at,
                             llvm::formatv("token {0} length {1}: expected 0 "
                                           "to max_token_length {2}",
                                           i, length, maxLength));
    llvm::ArrayRef<char> bytes =
        r.readBytes(length, "bytes of token " + llvm::Twine(i));
    if (r.hasFailed())
      return r.takeError();
    tok.tokens.emplace_back(bytes.begin(), bytes.end());
  }
  if (r.getRemaining() != 0)
    return makeImportError(path, r.getOffset(),
                           llvm::formatv("{0} bytes follow the {1} tokens the "
                                         "model's vocabulary has",
                                         r.getRemaining(), vocab));
  return tok;
}

llvm::Expected<ImportedModel>
tlmc::importLlama2c(const ModelFiles &files, llvm::StringRef path) {
  auto buffer = files.map(path);
  if (!buffer)
    return buffer.takeError();
  llvm::ArrayRef<char> bytes = getBytes(**buffer);
  BinaryReader r(path, bytes);
  const char *names[] = {"dim",      "hidden_dim", "n_layers", "n_heads",
                         "n_kv_heads", "vocab_size", "seq_len"};
  int32_t header[7];
  for (int i = 0; i < 7; ++i)
    header[i] = r.read<int32_t>(llvm::Twine("header field ") + names[i]);
  if (r.hasFailed())
    return r.takeError();
  if (header[0] == 0x616b3432) // "ak42": llama2.c's versioned export
    return makeImportError(path, 0,
                           "llama2.c versioned checkpoints (magic ak42) are "
                           "not supported; export with the legacy format");
  for (int i = 0; i < 7; ++i) {
    int64_t v = i == 5 ? std::abs(int64_t(header[i])) : header[i];
    if (v <= 0 || v > (1 << 24))
      return makeImportError(path, 4 * i,
                             llvm::formatv("header field {0} = {1}: expected "
                                           "a positive size of at most 2^24",
                                           names[i], header[i]));
  }

  ImportedModel model;
  model.path = path.str();
  model.format = "llama2c";
  ModelConfig &c = model.config;
  c.dim = header[0];
  c.ffnDim = header[1];
  c.layers = header[2];
  c.heads = header[3];
  c.kvHeads = header[4];
  c.vocab = std::abs(int64_t(header[5]));
  c.tiedEmbeddings = header[5] > 0;
  c.context = header[6];
  if (c.dim % c.heads != 0)
    return makeImportError(path, 12,
                           llvm::formatv("n_heads {0} does not divide dim {1}",
                                         c.heads, c.dim));
  c.headDim = c.dim / c.heads;
  if (c.heads % c.kvHeads != 0)
    return makeImportError(path, 16,
                           llvm::formatv("n_kv_heads {0} does not divide "
                                         "n_heads {1}",
                                         c.kvHeads, c.heads));
  int64_t kvDim = c.kvHeads * c.headDim;
  int64_t L = c.layers;

  // The arrays in file order: canonical name, per-layer shape, layered?
  struct Array {
    const char *name;
    std::vector<int64_t> shape;
    bool perLayer;
  };
  std::vector<Array> arrays = {
      {"token_embd", {c.vocab, c.dim}, false},
      {"attn_norm", {c.dim}, true},
      {"attn_q", {c.dim, c.dim}, true},
      {"attn_k", {kvDim, c.dim}, true},
      {"attn_v", {kvDim, c.dim}, true},
      {"attn_output", {c.dim, c.dim}, true},
      {"ffn_norm", {c.dim}, true},
      {"ffn_gate", {c.ffnDim, c.dim}, true},
      {"ffn_down", {c.dim, c.ffnDim}, true},
      {"ffn_up", {c.ffnDim, c.dim}, true},
      {"output_norm", {c.dim}, false},
      // freq_cis_real and freq_cis_imag: RoPE tables that run.c ignores.
      {nullptr, {c.context, c.headDim / 2}, false},
      {nullptr, {c.context, c.headDim / 2}, false},
  };
  if (!c.tiedEmbeddings)
    arrays.push_back({"output", {c.vocab, c.dim}, false});

  // The file must hold exactly the arrays the header promises; a hostile
  // header can make the total overflow, which is an error too.
  std::optional<int64_t> expectedBytes = 28;
  for (const Array &a : arrays) {
    std::vector<int64_t> factors = a.shape;
    factors.push_back(4);
    factors.push_back(a.perLayer ? L : 1);
    std::optional<int64_t> arrayBytes = checkedProduct(factors);
    expectedBytes = arrayBytes && expectedBytes
                        ? llvm::checkedAdd(*expectedBytes, *arrayBytes)
                        : std::nullopt;
  }
  if (!expectedBytes)
    return makeImportError(path, "the sizes in the header overflow");
  if (int64_t(bytes.size()) != *expectedBytes)
    return makeImportError(
        path, llvm::formatv("expected {0} bytes for the weights the header "
                            "promises (dim {1}, hidden {2}, {3} layers, vocab "
                            "{4}{5}), the file has {6}",
                            *expectedBytes, c.dim, c.ffnDim, L, c.vocab,
                            c.tiedEmbeddings ? "" : ", unshared classifier",
                            bytes.size()));

  uint64_t offset = 28;
  for (const Array &a : arrays) {
    int64_t sliceBytes = 4 * *checkedProduct(a.shape);
    for (int64_t l = 0; l < (a.perLayer ? L : 1); ++l) {
      if (a.name) {
        ImportedTensor t;
        t.name = a.perLayer ? "blk." + std::to_string(l) + "." + a.name
                            : std::string(a.name);
        t.shape = a.shape;
        t.format = mlir::tlm::StorageFormat::F32;
        t.bytes = bytes.slice(offset, sliceBytes);
        t.owner = *buffer;
        model.tensors.push_back(std::move(t));
      }
      offset += sliceBytes;
    }
  }

  return model;
}
