//===- ModelWriter.h - write models in GGUF, llama2.c and HF formats -*- C++ -*-===//
//
// The inverse of the importers: tests use it to make small models in every
// format (and then break them byte by byte), and `tlmc-modelgen` uses it to
// make models of real shapes (SmolLM2-135M, TinyLlama-1.1B) with seeded
// random weights for benchmarks, where speed does not depend on the values.
//
//===----------------------------------------------------------------------===//

#ifndef TLMC_UTILS_MODELGEN_MODELWRITER_H
#define TLMC_UTILS_MODELGEN_MODELWRITER_H

#include "compiler/import/common/ImportedModel.h"

#include "llvm/Support/Error.h"

namespace tlmc {

/// A model with `config`'s shape, weights drawn from a seeded generator
/// (scaled like a trained model's, so activations stay finite), stored in
/// `format` (F32, F16, BF16, Q8_0 or Q4_0), and a SentencePiece-style
/// tokenizer of `config.vocab` tokens (special, byte and merged tokens).
ImportedModel makeRandomModel(const ModelConfig &config, uint64_t seed,
                              mlir::tlm::StorageFormat format =
                                  mlir::tlm::StorageFormat::F32);

/// Writes `model` as a GGUF v3 file.
llvm::Error writeGGUF(const ImportedModel &model, llvm::StringRef path);

/// Writes `model` (f32 only) as a llama2.c legacy checkpoint and, when
/// `tokenizerPath` is not empty and the model has a tokenizer, its tok.bin.
llvm::Error writeLlama2c(const ImportedModel &model, llvm::StringRef path,
                         llvm::StringRef tokenizerPath);

/// Writes `model` (F32/F16/BF16) as a Hugging Face folder: config.json and
/// model.safetensors, or `shards` > 1 files with an index. q/k rows are
/// permuted to HF's rotate-half order, as HF checkpoints store them.
llvm::Error writeSafetensors(const ImportedModel &model, llvm::StringRef dir,
                             int shards = 1);

/// Known shapes for `tlmc-modelgen --shape`.
llvm::Expected<ModelConfig> getNamedShape(llvm::StringRef name);

} // namespace tlmc

#endif // TLMC_UTILS_MODELGEN_MODELWRITER_H
