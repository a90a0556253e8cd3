//===- fuzz-tokenizer-file.cpp - a tokenizer file on arbitrary bytes -*- C++ -*-===//
//
// Built once per tokenizer format, with TLMC_FUZZ_TOKENIZER_FILE naming the
// file the input becomes: `tok300.bin` (llama2.c) or `tokenizer.json`
// (Hugging Face BPE), for a model of the stand-in's 300 tokens. An accepted
// tokenizer goes all the way: stored in a container by the codegen writer,
// verified and opened by the runtime, and used to tokenize and decode.
//
//===----------------------------------------------------------------------===//

#include "compiler/import/Import.h"
#include "test/fuzz/FuzzSupport.h"
#include "test/support/StandInModel.h"

using namespace tlmc;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  constexpr llvm::StringLiteral path = "/in/" TLMC_FUZZ_TOKENIZER_FILE;
  ModelFiles files(fuzz::makeMemoryFiles({{path, fuzz::asText(data, size)}}));
  auto tokenizer = readTokenizerFile(files, path, test::kStandInVocab);
  if (!tokenizer) {
    fuzz::expectDiagnostic(tokenizer.takeError(), path);
    return 0;
  }
  fuzz::exerciseTokenizer(*tokenizer);
  return 0;
}
