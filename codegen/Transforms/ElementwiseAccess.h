//===- ElementwiseAccess.h - how a 2-D elementwise op indexes an operand --===//
//
// The elementwise ops between products iterate (row, column): a prefill's
// tokens and a vector's features. tlm-vectorize-elementwise and the
// products' epilogues (ProductEpilogues.h) take operands indexed in one of
// three ways.
//
//===----------------------------------------------------------------------===//

#ifndef TLMC_CODEGEN_TRANSFORMS_ELEMENTWISEACCESS_H
#define TLMC_CODEGEN_TRANSFORMS_ELEMENTWISEACCESS_H

#include "mlir/IR/AffineMap.h"

#include <optional>

namespace tlmc {

/// The element itself, its column (a vector per row, e.g. a norm's
/// weights) or its row (a scalar per row, e.g. a norm's sum of squares).
enum class ElementwiseAccess { Element, Column, Row };

/// How `map` (of a generic over (row, column)) indexes its operand, if in
/// one of those ways.
inline std::optional<ElementwiseAccess> getElementwiseAccess(mlir::AffineMap map) {
  mlir::MLIRContext *ctx = map.getContext();
  mlir::AffineExpr row = mlir::getAffineDimExpr(0, ctx),
                   column = mlir::getAffineDimExpr(1, ctx);
  if (map.getNumDims() != 2)
    return std::nullopt;
  if (map.getResults() == llvm::ArrayRef<mlir::AffineExpr>{row, column})
    return ElementwiseAccess::Element;
  if (map.getResults() == llvm::ArrayRef<mlir::AffineExpr>{column})
    return ElementwiseAccess::Column;
  if (map.getResults() == llvm::ArrayRef<mlir::AffineExpr>{row})
    return ElementwiseAccess::Row;
  return std::nullopt;
}

} // namespace tlmc

#endif // TLMC_CODEGEN_TRANSFORMS_ELEMENTWISEACCESS_H
