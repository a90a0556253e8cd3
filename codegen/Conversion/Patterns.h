//===- Patterns.h - lowering patterns shared by the conversions ---*- C++ -*-===//

#ifndef TLMC_CODEGEN_CONVERSION_PATTERNS_H
#define TLMC_CODEGEN_CONVERSION_PATTERNS_H

#include "codegen/Target/WeightLayout.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/PatternMatch.h"

namespace tlmc {

/// The tensor stored in `slot` of the weights buffer `weights` (the leading
/// argument the lowering gives each entry point): a view at the slot's
/// offset, as a read-only tensor.
mlir::Value loadWeightSlot(mlir::OpBuilder &b, mlir::Location loc,
                           mlir::Value weights, const WeightSlot &slot);

/// compress.quantized_linear -> linalg.generic that dequantizes each value
/// as it reads it.
void populateCompressToLinalgPatterns(mlir::RewritePatternSet &patterns,
                                      const WeightLayout &layout);

} // namespace tlmc

#endif // TLMC_CODEGEN_CONVERSION_PATTERNS_H
