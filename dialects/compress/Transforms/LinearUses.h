//===- LinearUses.h - the linear ops that read a weight ------------*- C++
//-*-===//

#ifndef TLMC_DIALECTS_COMPRESS_TRANSFORMS_LINEARUSES_H
#define TLMC_DIALECTS_COMPRESS_TRANSFORMS_LINEARUSES_H

#include "dialects/compress/IR/CompressDialect.h"
#include "dialects/tlm/IR/TLMOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"

namespace mlir::compress {

/// The ops that read a weight through tlm.weight_ref: linears (as their
/// weight) and embeddings (as their table).
struct WeightUses {
  SmallVector<tlm::LinearOp> linears;
  SmallVector<tlm::EmbeddingOp> embeddings;
};

/// The linears and embeddings that read `weight`, or failure if anything
/// else reads it.
FailureOr<WeightUses> getWeightUses(tlm::WeightOp weight, ModuleOp module);

/// The tlm.linear ops that read `weight` (through tlm.weight_ref) as their
/// weight operand, or failure if anything else reads it (an embedding).
FailureOr<SmallVector<tlm::LinearOp>> getLinearUses(tlm::WeightOp weight,
                                                    ModuleOp module);

/// Rewrites each of `linears` into a `LinearOpT` (compress.quantized_linear
/// or compress.sparse_linear) reading the weight named `replacement`, then
/// erases `weight` and the weight_refs left without users.
template <typename LinearOpT>
void replaceLinears(tlm::WeightOp weight, StringRef replacement,
                    ArrayRef<tlm::LinearOp> linears) {
  for (tlm::LinearOp linear : linears) {
    OpBuilder b(linear);
    auto op = LinearOpT::create(
        b, linear.getLoc(), linear.getType(), linear.getInput(),
        FlatSymbolRefAttr::get(b.getContext(), replacement));
    Operation *ref = linear.getWeight().getDefiningOp();
    linear.replaceAllUsesWith(op.getResult());
    linear.erase();
    if (ref->use_empty())
      ref->erase();
  }
  weight.erase();
}

/// The tlm.weight `linear` reads through a tlm.weight_ref, or null (also
/// for a null `linear`).
tlm::WeightOp getLinearWeight(tlm::LinearOp linear);

/// Makes `weight` a plain weight of `shape` holding `values` (a
/// structurally pruned matrix): f16/bf16 as it was (the values are its
/// own, so exactly), f32 otherwise; keeps its size before in
/// `compress.float_bytes`, and retypes every weight_ref of it in `module`.
/// The ops reading those refs are the caller's to retype.
void setPrunedWeight(ModuleOp module, tlm::WeightOp weight,
                     ArrayRef<int64_t> shape, ArrayRef<float> values);

/// A dense_resource blob holding a copy of `bytes`.
DenseResourceElementsAttr makeBlob(ShapedType type, StringRef name,
                                   ArrayRef<char> bytes);

} // namespace mlir::compress

#endif // TLMC_DIALECTS_COMPRESS_TRANSFORMS_LINEARUSES_H
