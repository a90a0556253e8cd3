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
                              llvm::StringRef text, bool pieces, bool addBos,
                              llvm::raw_ostream &os) {
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
  std::vector<int32_t> ids = (*runtime)->encode(text, addBos && bos >= 0);
  if (!pieces) {
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
