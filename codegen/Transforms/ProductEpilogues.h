//===- ProductEpilogues.h - elementwise work that rides on a product's job -===//
//
// A product's output is often read at once by an elementwise op over the
// same (token, feature) elements: the residual add after a layer's o and
// down projections, SwiGLU after gate and up. Run in the product's job, on
// the features the thread just computed, that op reads what its own core
// wrote instead of a serial step reading both cores' halves between two
// jobs. tlm-parallelize-rows moves such an epilogue into the kernel it
// outlines; tlm-token-loops leaves it alone for that (it would otherwise
// take it into a loop over tokens, which splits the other way).
//
//===----------------------------------------------------------------------===//

#ifndef TLMC_CODEGEN_TRANSFORMS_PRODUCTEPILOGUES_H
#define TLMC_CODEGEN_TRANSFORMS_PRODUCTEPILOGUES_H

#include "codegen/Transforms/ElementwiseAccess.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"

namespace tlmc {

/// Columns of an epilogue's step: a product's job is split at multiples of
/// it, and the epilogue runs as 16-column slices the elementwise vectorizer
/// turns into one vector per row.
constexpr int64_t kEpilogueColumns = 16;

/// The elementwise generic that runs right after `product` (a generic
/// marked tlmc.parallel_rows; only side-effect-free ops between them) and
/// reads its output element by element, if it can be computed slice by
/// slice of features: every operand an identity-layout buffer read by
/// element, column (feature) or row (token) (ElementwiseAccess.h), the output written by element with the
/// product's output shape, a multiple of kEpilogueColumns features wide,
/// and a body of side-effect-free scalar ops that does not ask for its
/// indices. Null otherwise.
mlir::linalg::GenericOp findProductEpilogue(mlir::linalg::GenericOp product);

} // namespace tlmc

#endif // TLMC_CODEGEN_TRANSFORMS_PRODUCTEPILOGUES_H
