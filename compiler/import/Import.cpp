//===- Import.cpp - pick the frontend for a model file ---------------*- C++ -*-===//

#include "compiler/import/Import.h"
#include "compiler/import/chat/ChatTemplate.h"
#include "compiler/import/common/BinaryReader.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Path.h"

using namespace tlmc;

/// Replaces every tensor not stored as f32 by its f32 decoding.
static void dequantizeAll(ImportedModel &model) {
  for (ImportedTensor &t : model.tensors) {
    if (t.format == mlir::tlm::StorageFormat::F32)
      continue;
    auto values = std::make_shared<std::vector<float>>(t.getNumElements());
    mlir::tlm::decodeToF32(t.format, t.bytes, values->size(), values->data());
    t.bytes = llvm::ArrayRef<char>(reinterpret_cast<const char *>(values->data()),
                                   values->size() * sizeof(float));
    t.owner = values;
    t.format = mlir::tlm::StorageFormat::F32;
  }
}

/// Converters (llama.cpp's llama2.c converter among them) often write the
/// classifier as a copy of the embedding table; a copy is a tied classifier,
/// and storing it once saves vocab x dim weights.
static void tieIdenticalClassifier(ImportedModel &model) {
  const ImportedTensor *embd = model.findTensor("token_embd");
  const ImportedTensor *output = model.findTensor("output");
  if (model.config.tiedEmbeddings || !embd || !output ||
      embd->format != output->format || embd->shape != output->shape ||
      embd->bytes != output->bytes)
    return;
  llvm::erase_if(model.tensors,
                 [](const ImportedTensor &t) { return t.name == "output"; });
  model.config.tiedEmbeddings = true;
}

llvm::Expected<ImportedModel> tlmc::importModel(llvm::StringRef path,
                                                const ImportOptions &options) {
  ModelFiles files(options.fileSystem);
  if (!files.exists(path))
    return makeImportError(path, "no such file or directory");
  llvm::Expected<ImportedModel> model = [&]() -> llvm::Expected<ImportedModel> {
    llvm::StringRef ext = llvm::sys::path::extension(path);
    if (files.isDirectory(path) || ext == ".json" || ext == ".safetensors")
      return importSafetensors(files, path, options.keepRotateHalf);
    if (ext == ".gguf" || files.readMagic(path) == "GGUF")
      return importGGUF(files, path);
    if (ext == ".bin")
      return importLlama2c(files, path);
    return makeImportError(path, "unknown model format (expected a .gguf file, "
                                 "a llama2.c .bin checkpoint or a Hugging "
                                 "Face folder)");
  }();
  if (!model)
    return model.takeError();

  // An explicit tokenizer wins; else the model's own; else one beside it.
  std::string tokenizerPath = options.tokenizerPath;
  if (tokenizerPath.empty() &&
      model->tokenizer.kind == TokenizerData::Kind::None)
    tokenizerPath = findTokenizerBeside(files, path, model->config.vocab);
  if (!tokenizerPath.empty()) {
    auto tok = readTokenizerFile(files, tokenizerPath, model->config.vocab);
    if (!tok)
      return tok.takeError();
    model->tokenizer = std::move(*tok);
  } else {
    attachChatFormat(model->tokenizer);
  }
  if (options.contextOverride < 0)
    return makeImportError(path, "context override must be positive");
  if (options.contextOverride > model->config.context &&
      !options.allowBeyondTrainedContext)
    return makeImportError(
        path, "--context " + std::to_string(options.contextOverride) +
                  " is beyond the model's trained context of " +
                  std::to_string(model->config.context) +
                  " (positions it never saw, a bigger KV cache); pass "
                  "--context-beyond-training to compile it anyway");
  if (options.contextOverride > 0)
    model->config.context = options.contextOverride;
  if (llvm::Error err = checkModel(*model))
    return std::move(err);
  tieIdenticalClassifier(*model);
  if (options.dequantize)
    dequantizeAll(*model);
  return model;
}
