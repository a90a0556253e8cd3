//===- fuzz-safetensors.cpp - a Hugging Face folder -----------------*- C++ -*-===//
//
// The input is a folder's two files in one: `config.json`, the separator
// line below, then `model.safetensors` (u64 header length, JSON header,
// data). Without the separator the whole input is config.json and the
// folder has no weights.
//
//===----------------------------------------------------------------------===//

#include "compiler/import/Import.h"
#include "test/fuzz/FuzzSupport.h"

using namespace tlmc;

static constexpr llvm::StringLiteral kSeparator = "\n--model.safetensors--\n";

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  auto [config, weights] = fuzz::asText(data, size).split(kSeparator);
  constexpr llvm::StringLiteral configPath = "/in/config.json";
  constexpr llvm::StringLiteral weightsPath = "/in/model.safetensors";
  llvm::SmallVector<std::pair<llvm::StringRef, llvm::StringRef>, 2> files = {
      {configPath, config}};
  if (fuzz::asText(data, size).contains(kSeparator))
    files.push_back({weightsPath, weights});
  ImportOptions options;
  options.fileSystem = fuzz::makeMemoryFiles(files);
  auto model = importModel("/in", options);
  if (!model) {
    fuzz::expectDiagnostic(model.takeError(), "/in");
    return 0;
  }
  fuzz::touchEveryTensor(*model);
  return 0;
}
