//===- Import.h - read any supported model file ------------------*- C++ -*-===//

#ifndef TLMC_COMPILER_IMPORT_IMPORT_H
#define TLMC_COMPILER_IMPORT_IMPORT_H

#include "compiler/import/common/ImportedModel.h"
#include "compiler/import/common/ModelFiles.h"

#include "llvm/Support/Error.h"

namespace tlmc {

struct ImportOptions {
  /// A tokenizer file to use instead of the one the model carries or that
  /// lies beside it: a llama2.c `tok*.bin`, an HF `tokenizer.json`, or a
  /// GGUF file's tokenizer.
  std::string tokenizerPath;
  /// KV-cache capacity to compile for instead of the model's context length
  /// (0: the model's own).
  int64_t contextOverride = 0;
  /// Allow a contextOverride beyond the context the model was trained for
  /// (positions it never saw; and a KV cache that grows with it).
  bool allowBeyondTrainedContext = false;
  /// Decode every tensor (F16, BF16, Q8_0, Q4_0) to F32.
  bool dequantize = false;
  /// Hugging Face checkpoints store q/k rows permuted for rotate-half RoPE.
  /// By default the importer undoes that so every format yields the same
  /// graph; with this set the rows stay and the graph uses rotate_half.
  bool keepRotateHalf = false;
  /// Where files are read from (null: the real file system). Fuzz targets
  /// and tests pass files held in memory.
  llvm::IntrusiveRefCntPtr<llvm::vfs::FileSystem> fileSystem = nullptr;
};

/// Reads the model at `path`: a `.gguf` file, a llama2.c `.bin` checkpoint,
/// or a Hugging Face folder (or its config.json / model.safetensors).
/// The result has passed every structural check (tensor names, shapes,
/// byte counts agree with the configuration).
llvm::Expected<ImportedModel> importModel(llvm::StringRef path,
                                          const ImportOptions &options);

/// The per-format readers behind importModel (no options applied).
llvm::Expected<ImportedModel> importGGUF(const ModelFiles &files,
                                         llvm::StringRef path);
llvm::Expected<ImportedModel> importLlama2c(const ModelFiles &files,
                                            llvm::StringRef path);
llvm::Expected<ImportedModel> importSafetensors(const ModelFiles &files,
                                                llvm::StringRef path,
                                                bool keepRotateHalf);

/// Reads a llama2.c `tok*.bin` tokenizer with `vocab` entries.
llvm::Expected<TokenizerData>
readLlama2cTokenizer(const ModelFiles &files, llvm::StringRef path,
                     int64_t vocab);

/// Reads the tokenizer in a GGUF file's metadata.
llvm::Expected<TokenizerData> readGGUFTokenizer(const ModelFiles &files,
                                                llvm::StringRef path);

/// Reads a Hugging Face `tokenizer.json` (BPE: byte-level as GPT-2, or
/// SentencePiece-style with byte fallback) for a model of `vocab` tokens.
llvm::Expected<TokenizerData> readHFTokenizer(const ModelFiles &files,
                                              llvm::StringRef path,
                                              int64_t vocab);

/// Reads any tokenizer file, by its name: `*.json`, `*.gguf`, else a
/// llama2.c tokenizer. `vocab` <= 0: as many tokens as the file has (no
/// model to compare with: `tlmc tokenize`).
llvm::Expected<TokenizerData> readTokenizerFile(const ModelFiles &files,
                                                llvm::StringRef path,
                                                int64_t vocab);

/// Checks what the runtime needs of a tokenizer: a byte-level one has a
/// token for each of the 256 byte symbols. Errors name `file`.
llvm::Error checkTokenizer(const TokenizerData &tokenizer, llvm::StringRef file);

/// SentencePiece's word-boundary mark U+2581 as a plain space (the runtime's
/// and llama2.c's spelling).
std::string fromSentencePieceSpaces(llvm::StringRef token);

/// The tokenizer file beside a model, if any: `tok<vocab>.bin`,
/// `tokenizer.bin` or `tokenizer.json` in the model's folder (or in the
/// folder itself for an HF checkpoint).
std::string findTokenizerBeside(const ModelFiles &files,
                                llvm::StringRef modelPath, int64_t vocab);

/// Checks that `model` has every tensor its configuration needs, with the
/// right shape and byte count, and that the configuration is consistent.
llvm::Error checkModel(const ImportedModel &model);

/// The config part of checkModel: a known family, sizes in range and
/// consistent. Importers that size work by the config (the HF importer's
/// tensor list) run it first, so a hostile config cannot make them allocate.
llvm::Error checkConfig(const ImportedModel &model);

} // namespace tlmc

#endif // TLMC_COMPILER_IMPORT_IMPORT_H
