//===- Tokenize.cpp - tlmc tokenize -----------------------------------------===//
//
// llama.cpp users know this as llama-tokenize: check a vocabulary without
// compiling a model. The ids are the device's: the runtime's own tokenizer
// code runs over the tables the container would hold.
//
//===----------------------------------------------------------------------===//

#include "compiler/driver/Tokenize.h"
#include "compiler/driver/RuntimeTokenizer.h"
#include "compiler/import/Import.h"

#include "llvm/Support/Format.h"

using namespace tlmc;

llvm::Error tlmc::printTokens(llvm::StringRef tokenizerPath,
                              llvm::StringRef text, TokenOutput output,
                              bool addBos, llvm::raw_ostream &os) {
  ModelFiles files;
  auto tokenizer = readTokenizerFile(files, tokenizerPath, /*vocab=*/0);
  if (!tokenizer)
    return tokenizer.takeError();
  // BOS: a GGUF says it; llama2.c and SentencePiece-style files use 1; a
  // byte-level vocabulary has none unless added (GPT-2 starts from none).
  int32_t bos = tokenizer->kind == TokenizerData::Kind::SentencePiece ? 1 : -1;
  auto runtime = RuntimeTokenizer::create(*tokenizer, bos);
  if (!runtime)
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   tokenizerPath + ": " +
                                       llvm::toString(runtime.takeError()));
  auto encoded = (*runtime)->encode(text, addBos && bos >= 0);
  if (!encoded)
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   tokenizerPath + ": " +
                                       llvm::toString(encoded.takeError()));
  std::vector<int32_t> ids = std::move(*encoded);
  if (output == TokenOutput::Text) {
    std::string decoded;
    for (size_t i = 0; i < ids.size(); ++i)
      if (!(i == 0 && addBos && bos >= 0))
        decoded += (*runtime)->piece(ids[i]);
    // The space SentencePiece puts before the text is not the text's (the
    // runtime's tlm_token_text drops it after BOS).
    if (tokenizer->kind == TokenizerData::Kind::SentencePiece &&
        tokenizer->addPrefixSpace && llvm::StringRef(decoded).starts_with(" "))
      decoded.erase(0, 1);
    os << decoded;
    return llvm::Error::success();
  }
  if (output == TokenOutput::Ids) {
    for (size_t i = 0; i < ids.size(); ++i)
      os << (i ? " " : "") << ids[i];
    os << "\n";
    return llvm::Error::success();
  }
  for (int32_t id : ids) {
    os << id << "\t";
    for (unsigned char c : (*runtime)->piece(id)) {
      if (c < 0x20 || c == 0x7f)
        os << llvm::format("\\x%02x", c);
      else
        os << c;
    }
    os << "\n";
  }
  return llvm::Error::success();
}
