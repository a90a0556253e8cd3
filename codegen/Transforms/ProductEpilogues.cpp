//===- ProductEpilogues.cpp - elementwise work that rides on a product's job -===//

#include "codegen/Transforms/ProductEpilogues.h"
#include "codegen/Passes.h"
#include "codegen/Transforms/PlannedViews.h"

#include "mlir/Interfaces/SideEffectInterfaces.h"

using namespace mlir;

namespace tlmc {

linalg::GenericOp findProductEpilogue(linalg::GenericOp product) {
  if (!product->hasAttr(kParallelRowsAttr) || product.getNumDpsInits() != 1)
    return {};
  auto outType = dyn_cast<MemRefType>(product.getDpsInits()[0].getType());
  if (!outType || outType.getRank() != 2 || !outType.hasStaticShape() ||
      outType.getDimSize(1) % kEpilogueColumns)
    return {};
  auto op = dyn_cast_or_null<linalg::GenericOp>(
      skipEffectFreeOps(product->getNextNode()));
  if (!op || op->hasAttr(kParallelRowsAttr) || op->hasAttr(kUKernelAttr) ||
      !op.hasPureBufferSemantics() || op.getNumLoops() != 2 ||
      op.getNumParallelLoops() != 2 || op.getNumDpsInits() != 1 ||
      !op.getRegion().hasOneBlock())
    return {};
  int64_t tokens = outType.getDimSize(0), features = outType.getDimSize(1);
  bool readsProduct = false;
  for (OpOperand &operand : op->getOpOperands()) {
    auto type = dyn_cast<MemRefType>(operand.get().getType());
    std::optional<ElementwiseAccess> access =
        getElementwiseAccess(op.getMatchingIndexingMap(&operand));
    if (!type || !access || !type.getLayout().isIdentity() ||
        !type.getElementType().isIntOrFloat())
      return {};
    SmallVector<int64_t> expected =
        *access == ElementwiseAccess::Element   ? SmallVector<int64_t>{tokens, features}
        : *access == ElementwiseAccess::Column ? SmallVector<int64_t>{features}
                                             : SmallVector<int64_t>{tokens};
    if (type.getShape() != ArrayRef<int64_t>(expected))
      return {};
    if (op.isDpsInit(&operand) && *access != ElementwiseAccess::Element)
      return {};
    readsProduct |= !op.isDpsInit(&operand) &&
                    *access == ElementwiseAccess::Element &&
                    operand.get() == product.getDpsInits()[0];
  }
  if (!readsProduct)
    return {};
  for (Operation &inner : op.getRegion().front().without_terminator())
    if (inner.getNumRegions() || !isMemoryEffectFree(&inner) ||
        isa<linalg::IndexOp>(inner))
      return {};
  return op;
}

} // namespace tlmc
