//===- Import.h - read any supported model file ------------------*- C++ -*-===//

#ifndef TLMC_COMPILER_IMPORT_IMPORT_H
#define TLMC_COMPILER_IMPORT_IMPORT_H

#include "compiler/import/common/ImportedModel.h"

#include "llvm/Support/Error.h"

namespace tlmc {

struct ImportOptions {
  /// A tokenizer file to use instead of the one the model carries or that
  /// lies beside it (llama2.c `tok*.bin`).
  std::string tokenizerPath;
  /// KV-cache capacity to compile for instead of the model's context length
  /// (0: the model's own).
  int64_t contextOverride = 0;
  /// Decode every tensor (F16, BF16, Q8_0, Q4_0) to F32.
  bool dequantize = false;
  /// Hugging Face checkpoints store q/k rows permuted for rotate-half RoPE.
  /// By default the importer undoes that so every format yields the same
  /// graph; with this set the rows stay and the graph uses rotate_half.
  bool keepRotateHalf = false;
};

/// Reads the model at `path`: a `.gguf` file, a llama2.c `.bin` checkpoint,
/// or a Hugging Face folder (or its config.json / model.safetensors).
/// The result has passed every structural check (tensor names, shapes,
/// byte counts agree with the configuration).
llvm::Expected<ImportedModel> importModel(llvm::StringRef path,
                                          const ImportOptions &options);

/// The per-format readers behind importModel (no options applied).
llvm::Expected<ImportedModel> importGGUF(llvm::StringRef path);
llvm::Expected<ImportedModel> importLlama2c(llvm::StringRef path,
                                            llvm::StringRef tokenizerPath);
llvm::Expected<ImportedModel> importSafetensors(llvm::StringRef path,
                                                bool keepRotateHalf);

/// Reads a llama2.c `tok*.bin` tokenizer with `vocab` entries.
llvm::Expected<TokenizerData> readLlama2cTokenizer(llvm::StringRef path,
                                                   int64_t vocab);

/// Checks that `model` has every tensor its configuration needs, with the
/// right shape and byte count, and that the configuration is consistent.
llvm::Error checkModel(const ImportedModel &model);

} // namespace tlmc

#endif // TLMC_COMPILER_IMPORT_IMPORT_H
