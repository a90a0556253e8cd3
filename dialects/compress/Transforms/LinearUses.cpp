//===- LinearUses.cpp - the linear ops that read a weight ------------*- C++ -*-===//

#include "dialects/compress/Transforms/LinearUses.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectResourceBlobManager.h"

using namespace mlir;
using namespace mlir::compress;

FailureOr<SmallVector<tlm::LinearOp>>
mlir::compress::getLinearUses(tlm::WeightOp weight, ModuleOp module) {
  SmallVector<tlm::LinearOp> linears;
  auto uses = SymbolTable::getSymbolUses(weight, module);
  if (!uses)
    return failure();
  for (const SymbolTable::SymbolUse &use : *uses) {
    auto ref = dyn_cast<tlm::WeightRefOp>(use.getUser());
    if (!ref)
      return failure();
    for (OpOperand &operand : ref->getUses()) {
      auto linear = dyn_cast<tlm::LinearOp>(operand.getOwner());
      if (!linear || operand.getOperandNumber() != 1)
        return failure();
      linears.push_back(linear);
    }
  }
  return linears;
}

void mlir::compress::replaceWithQuantized(tlm::WeightOp weight,
                                          QuantizedWeightOp quantized,
                                          ArrayRef<tlm::LinearOp> linears) {
  for (tlm::LinearOp linear : linears) {
    OpBuilder b(linear);
    auto replacement = QuantizedLinearOp::create(
        b, linear.getLoc(), linear.getType(), linear.getInput(),
        FlatSymbolRefAttr::get(b.getContext(), quantized.getSymName()));
    Operation *ref = linear.getWeight().getDefiningOp();
    linear.replaceAllUsesWith(replacement.getResult());
    linear.erase();
    if (ref->use_empty())
      ref->erase();
  }
  weight.erase();
}

DenseResourceElementsAttr mlir::compress::makeBlob(ShapedType type,
                                                   StringRef name,
                                                   ArrayRef<char> bytes) {
  return DenseResourceElementsAttr::get(
      type, name, HeapAsmResourceBlob::allocateAndCopyInferAlign(bytes));
}
