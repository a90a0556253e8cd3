//===- Compile.h - `tlmc compile`: model file to native code -----*- C++ -*-===//

#ifndef TLMC_COMPILER_DRIVER_COMPILE_H
#define TLMC_COMPILER_DRIVER_COMPILE_H

#include "codegen/Target/TargetOptions.h"
#include "compiler/driver/Compress.h"
#include "compiler/import/common/ImportedModel.h"

#include "llvm/Support/Error.h"

namespace tlmc {

class CompileProgress;

struct CompileOptions {
  /// OUT: writes OUT.o, OUT.h and OUT.tlmw (and OUT itself with `exe`).
  std::string output;
  TargetOptions target;
  int64_t prefillChunk = 32;
  /// Tokens of @prefill_wide (0: none; see GraphOptions).
  int64_t prefillWideChunk = 128;
  /// GGUF Q8_0/Q4_0 products quantize their inputs to int8 and run the
  /// runtime's integer dot-product kernels where the target has them.
  bool int8Activations = true;
  /// Keys and values in f16 (half the KV cache's bytes) instead of f32.
  bool kvCacheF16 = false;
  /// Put the container into the object's read-only data.
  bool embedWeights = false;
  /// Link OUT as a ready executable (the generator app + runtime + model).
  bool exe = false;
  /// Where tlmc itself lives (to find the runtime libraries for `exe`).
  std::string toolDir;
  /// Print what was written, the memory plan and the compression report.
  bool verbose = true;
  CompressionOptions compression;
  /// Write the compression report as JSON here.
  std::string reportPath;
  /// Write the report's per-layer bytes and errors as SVG here.
  std::string reportPlotPath;
  /// Measure the compressed model against the original on this text.
  std::string evalText;
  /// Told of each stage (for the progress line and -v's timing table).
  CompileProgress *progress = nullptr;
  /// Print the time per stage and per MLIR pass (-v).
  bool timing = false;
};

/// Compiles `model` (already imported and checked).
llvm::Error compileModel(const ImportedModel &model,
                         const CompileOptions &options);

} // namespace tlmc

#endif // TLMC_COMPILER_DRIVER_COMPILE_H
