//===- ProductEpilogues.cpp - elementwise work that rides on a product's job -===//

#include "codegen/Transforms/ProductEpilogues.h"
#include "codegen/Passes.h"

#include "mlir/Interfaces/SideEffectInterfaces.h"

using namespace mlir;

namespace tlmc {

std::optional<EpilogueAccess> getEpilogueAccess(linalg::GenericOp op,
                                                OpOperand &operand) {
  AffineMap map = op.getMatchingIndexingMap(&operand);
  MLIRContext *ctx = op.getContext();
  AffineExpr token = getAffineDimExpr(0, ctx), feature = getAffineDimExpr(1, ctx);
  if (map.getNumDims() != 2)
    return std::nullopt;
  if (map.getResults() == ArrayRef<AffineExpr>{token, feature})
    return EpilogueAccess::Element;
  if (map.getResults() == ArrayRef<AffineExpr>{feature})
    return EpilogueAccess::Feature;
  if (map.getResults() == ArrayRef<AffineExpr>{token})
    return EpilogueAccess::Token;
  return std::nullopt;
}

linalg::GenericOp findProductEpilogue(linalg::GenericOp product) {
  if (!product->hasAttr(kParallelRowsAttr) || product.getNumDpsInits() != 1)
    return {};
  auto outType = dyn_cast<MemRefType>(product.getDpsInits()[0].getType());
  if (!outType || outType.getRank() != 2 || !outType.hasStaticShape() ||
      outType.getDimSize(1) % kEpilogueColumns)
    return {};
  Operation *next = product->getNextNode();
  while (next && next->getNumRegions() == 0 && isMemoryEffectFree(next))
    next = next->getNextNode();
  auto op = dyn_cast_or_null<linalg::GenericOp>(next);
  if (!op || op->hasAttr(kParallelRowsAttr) || op->hasAttr(kUKernelAttr) ||
      !op.hasPureBufferSemantics() || op.getNumLoops() != 2 ||
      op.getNumParallelLoops() != 2 || op.getNumDpsInits() != 1 ||
      !op.getRegion().hasOneBlock())
    return {};
  int64_t tokens = outType.getDimSize(0), features = outType.getDimSize(1);
  bool readsProduct = false;
  for (OpOperand &operand : op->getOpOperands()) {
    auto type = dyn_cast<MemRefType>(operand.get().getType());
    std::optional<EpilogueAccess> access = getEpilogueAccess(op, operand);
    if (!type || !access || !type.getLayout().isIdentity() ||
        !type.getElementType().isIntOrFloat())
      return {};
    SmallVector<int64_t> expected =
        *access == EpilogueAccess::Element   ? SmallVector<int64_t>{tokens, features}
        : *access == EpilogueAccess::Feature ? SmallVector<int64_t>{features}
                                             : SmallVector<int64_t>{tokens};
    if (type.getShape() != ArrayRef<int64_t>(expected))
      return {};
    if (op.isDpsInit(&operand) && *access != EpilogueAccess::Element)
      return {};
    readsProduct |= !op.isDpsInit(&operand) &&
                    *access == EpilogueAccess::Element &&
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
