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

DenseResourceElementsAttr mlir::compress::makeBlob(ShapedType type,
                                                   StringRef name,
                                                   ArrayRef<char> bytes) {
  return DenseResourceElementsAttr::get(
      type, name, HeapAsmResourceBlob::allocateAndCopyInferAlign(bytes));
}
