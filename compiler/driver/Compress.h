//===- Compress.h - compression options, passes and the report ----*- C++ -*-===//

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
  /// `ffn:RATIO` (structured FFN channel pruning); empty: none.
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

struct ImportedModel;

/// Runs the compression passes `options` asks for on a tlm module built
/// from `model` (whose weights calibration runs on).
llvm::Error compressModule(mlir::ModuleOp module, const ImportedModel &model,
                           const CompressionOptions &options);

/// What compression did, per weight, per layer and in total (bytes of every
/// weight, before and after), from the attributes the passes leave.
llvm::json::Object makeCompressionReport(mlir::ModuleOp module,
                                         const CompressionOptions &options);

/// The report as a table.
void printCompressionReport(llvm::raw_ostream &os,
                            const llvm::json::Object &report);

} // namespace tlmc

#endif // TLMC_COMPILER_DRIVER_COMPRESS_H
