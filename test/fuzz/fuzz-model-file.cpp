//===- fuzz-model-file.cpp - a model importer on arbitrary bytes ----*- C++ -*-===//
//
// Built once per single-file format, with TLMC_FUZZ_MODEL_FILE naming the
// file the input becomes: `model.gguf` (header, metadata with the
// tokenizer, tensor table, data) or `model.bin` (a llama2.c checkpoint,
// no tokenizer beside it). An accepted model must have every tensor's
// bytes inside the file; a refused one gets a one-line diagnostic.
//
//===----------------------------------------------------------------------===//

#include "compiler/import/Import.h"
#include "test/fuzz/FuzzSupport.h"

using namespace tlmc;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  constexpr llvm::StringLiteral path = "/in/" TLMC_FUZZ_MODEL_FILE;
  ImportOptions options;
  options.fileSystem =
      fuzz::makeMemoryFiles({{path, fuzz::asText(data, size)}});
  auto model = importModel(path, options);
  if (!model) {
    fuzz::expectDiagnostic(model.takeError(), path);
    return 0;
  }
  fuzz::touchEveryTensor(*model);
  return 0;
}
