//===- LinearUses.h - the linear ops that read a weight ------------*- C++ -*-===//

#ifndef TLMC_DIALECTS_COMPRESS_TRANSFORMS_LINEARUSES_H
#define TLMC_DIALECTS_COMPRESS_TRANSFORMS_LINEARUSES_H

#include "dialects/compress/IR/CompressDialect.h"
#include "dialects/tlm/IR/TLMOps.h"

#include "mlir/IR/BuiltinOps.h"

namespace mlir::compress {

/// The tlm.linear ops that read `weight` (through tlm.weight_ref) as their
/// weight operand, or failure if anything else reads it (an embedding).
FailureOr<SmallVector<tlm::LinearOp>> getLinearUses(tlm::WeightOp weight,
                                                    ModuleOp module);

/// Replaces `weight` by `quantized` in `linears` (which become
/// compress.quantized_linear) and erases `weight` and dead weight_refs.
void replaceWithQuantized(tlm::WeightOp weight, QuantizedWeightOp quantized,
                          ArrayRef<tlm::LinearOp> linears);

/// A dense_resource blob holding a copy of `bytes`.
DenseResourceElementsAttr makeBlob(ShapedType type, StringRef name,
                                   ArrayRef<char> bytes);

} // namespace mlir::compress

#endif // TLMC_DIALECTS_COMPRESS_TRANSFORMS_LINEARUSES_H
