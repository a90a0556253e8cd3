//===- RuntimeTokenizer.cpp - the device's tokenizer code, in the compiler ===//

#include "compiler/driver/RuntimeTokenizer.h"
#include "runtime/src/Session.h"

#include <cstdio>

using namespace tlmc;

struct RuntimeTokenizer::Impl {
  TokenizerTables tables;
  std::vector<float> scores;
  bool byteLevel;
  tlmrt::TokenizerView view;

  Impl(const TokenizerData &tok, int32_t bos)
      : tables(tok), scores(tok.scores),
        byteLevel(tok.kind == TokenizerData::Kind::GPT2) {
    view.kind = byteLevel ? 2 : 1; // tlmw::TokenizerKind
    view.count = tok.tokens.size();
    view.bytes = tables.bytes.data();
    view.offsets = tables.offsets.data();
    view.scores = scores.empty() ? nullptr : scores.data();
    view.sortedIds = tables.sortedIds.data();
    view.mergePairs = tables.mergePairs.data();
    view.mergeCount = tables.mergePairs.size() / 2;
    view.maxTokenBytes = tables.maxTokenBytes;
    view.bos = bos;
    view.preTokenizer = int(tok.preTokenizer);
    view.ignoreMerges = tok.ignoreMerges;
    view.addPrefixSpace = tok.addPrefixSpace;
    view.requireNFC = tok.normalizeNFC;
    view.addedIds = tables.addedIds.data();
    view.addedCount = tables.addedIds.size();
    view.indexAddedTokens();
  }
  ~Impl() {
    if (byteLevel)
      tlmrt::freeByteLevelTables(view);
  }
};

RuntimeTokenizer::RuntimeTokenizer(const TokenizerData &tokenizer,
                                   int32_t bos)
    : impl(std::make_unique<Impl>(tokenizer, bos)) {}

RuntimeTokenizer::~RuntimeTokenizer() = default;

llvm::Expected<std::unique_ptr<RuntimeTokenizer>>
RuntimeTokenizer::create(const TokenizerData &tokenizer, int32_t bos) {
  if (tokenizer.kind == TokenizerData::Kind::None || tokenizer.tokens.empty())
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "no tokenizer");
  std::unique_ptr<RuntimeTokenizer> t(new RuntimeTokenizer(tokenizer, bos));
  if (t->impl->byteLevel && !tlmrt::buildByteLevelTables(t->impl->view))
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        "the byte-level vocabulary lacks a token for some byte");
  return std::move(t);
}

llvm::Expected<std::vector<int32_t>>
RuntimeTokenizer::encode(llvm::StringRef text, bool addBos) const {
  const tlmrt::TokenizerView &view = impl->view;
  std::string input = text.str();
  // Both encoders make at most one token per byte, plus BOS and
  // SentencePiece's leading space before each run between added tokens.
  std::vector<int32_t> tokens(2 * input.size() + 3);
  std::vector<char> scratch(2 * view.maxTokenBytes + 16);
  size_t count = 0;
  if (tlmrt::encodeText(view, input.c_str(), addBos, tokens.data(),
                        tokens.size(), &count, scratch.data()) ==
      tlmrt::EncodeResult::NotNFC)
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        "the text is not in Unicode NFC, which this tokenizer expects (the "
        "device's tokenizer refuses it too; normalize it first)");
  tokens.resize(count);
  return tokens;
}

std::string RuntimeTokenizer::piece(int32_t id) const {
  const tlmrt::TokenizerView &view = impl->view;
  if (id < 0 || uint32_t(id) >= view.count)
    return {};
  if (impl->byteLevel) {
    std::string out(4 * view.length(id) + 4, '\0');
    out.resize(tlmrt::decodeByteLevel(view, uint32_t(id), out.data()));
    return out;
  }
  std::string text(view.text(id), view.length(id));
  unsigned value;
  if (text.size() == 6 && text.compare(0, 3, "<0x") == 0 && text[5] == '>' &&
      std::sscanf(text.c_str() + 3, "%2x", &value) == 1)
    return std::string(1, char(value));
  return text;
}
