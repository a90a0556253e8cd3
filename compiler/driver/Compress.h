//===- Compress.h - compression options to passes, run step by step -*- C++ -*-===//

#ifndef TLMC_COMPILER_DRIVER_COMPRESS_H
#define TLMC_COMPILER_DRIVER_COMPRESS_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"

#include <string>
#include <vector>

namespace tlmc {

struct CompressionOptions {
  /// `int8`, `int4:gN` or `int4:gN:asym`; empty: no quantization.
  std::string quantize;
  /// Comma-separated `kv:N`, `heads:N`, `ffn:R`, `unstructured:S`, `N:M`;
  /// empty: no pruning.
  std::string prune;
  /// `energy:E` or `ratio:R` (truncated SVD); empty: none.
  std::string lowrank;
  /// Calibration text for GPTQ quantization; empty: round to nearest.
  std::string calibrate;
  /// Regexes of weight names to leave in float.
  std::vector<std::string> keep;
  /// `REGEX=SCHEME` pairs for mixed precision.
  std::vector<std::string> overrides;

  bool any() const {
    return !quantize.empty() || !prune.empty() || !lowrank.empty();
  }
};

/// One compression pass as it ran, and what it changed in the module: in
/// words, and as fields (`query_heads`: {from, to}, `weights_quantized`: N,
/// ..., `method` where the pass has one).
struct CompressionStep {
  std::string pass;
  std::string changed;
  llvm::json::Object changes;
};

struct ImportedModel;

/// Runs the compression passes `options` asks for on a tlm module built
/// from `model` (whose weights calibration runs on); returns the passes
/// that changed something.
llvm::Expected<std::vector<CompressionStep>>
compressModule(mlir::ModuleOp module, const ImportedModel &model,
               const CompressionOptions &options);

} // namespace tlmc

#endif // TLMC_COMPILER_DRIVER_COMPRESS_H
