//===- Passes.h - compression passes ------------------------------*- C++ -*-===//

#ifndef TLMC_DIALECTS_COMPRESS_TRANSFORMS_PASSES_H
#define TLMC_DIALECTS_COMPRESS_TRANSFORMS_PASSES_H

#include "dialects/compress/IR/CompressDialect.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir::compress {

#define GEN_PASS_DECL
#include "dialects/compress/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "dialects/compress/Transforms/Passes.h.inc"

/// Attributes the quantization pass leaves on each quantized weight, for
/// the compression report.
constexpr llvm::StringLiteral kFloatBytesAttr = "compress.float_bytes";
constexpr llvm::StringLiteral kRelativeErrorAttr = "compress.relative_error";
constexpr llvm::StringLiteral kRankAttr = "compress.rank";
/// Why the quantization pass left a weight in float, or changed the scheme
/// it was asked for (a narrower group, a ragged last group): a sentence for
/// the report.
constexpr llvm::StringLiteral kKeptInFloatAttr = "compress.kept_in_float";
constexpr llvm::StringLiteral kAdjustedAttr = "compress.adjusted";
/// The calibration Hessian a weight carries for method=gptq.
constexpr llvm::StringLiteral kHessianAttr = "compress.hessian";

} // namespace mlir::compress

#endif // TLMC_DIALECTS_COMPRESS_TRANSFORMS_PASSES_H
