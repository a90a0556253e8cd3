//===- LinearUses.cpp - the linear ops that read a weight ------------*- C++
//-*-===//

#include "dialects/compress/Transforms/LinearUses.h"
#include "dialects/compress/Transforms/Passes.h"

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

tlm::WeightOp mlir::compress::getLinearWeight(tlm::LinearOp linear) {
  auto ref = linear ? linear.getWeight().getDefiningOp<tlm::WeightRefOp>()
                    : tlm::WeightRefOp();
  if (!ref)
    return {};
  return SymbolTable::lookupNearestSymbolFrom<tlm::WeightOp>(ref,
                                                             ref.getNameAttr());
}

void mlir::compress::setPrunedWeight(ModuleOp module, tlm::WeightOp weight,
                                     ArrayRef<int64_t> shape,
                                     ArrayRef<float> values) {
  OpBuilder b(weight);
  auto type = RankedTensorType::get(shape, b.getF32Type());
  int64_t before = weight.getStorageBytes();
  if (auto earlier = weight->getAttrOfType<IntegerAttr>(kFloatBytesAttr))
    before = earlier.getInt();
  weight.setType(type);
  weight.removeEncodingAttr();
  weight.setValueAttr(
      makeBlob(type, (weight.getSymName() + ".pruned").str(),
               ArrayRef<char>(reinterpret_cast<const char *>(values.data()),
                              values.size() * sizeof(float))));
  weight->setAttr(kFloatBytesAttr, b.getI64IntegerAttr(before));
  if (auto uses = SymbolTable::getSymbolUses(weight, module))
    for (const SymbolTable::SymbolUse &use : *uses)
      if (auto ref = dyn_cast<tlm::WeightRefOp>(use.getUser()))
        ref.getResult().setType(type);
}

DenseResourceElementsAttr mlir::compress::makeBlob(ShapedType type,
                                                   StringRef name,
                                                   ArrayRef<char> bytes) {
  return DenseResourceElementsAttr::get(
      type, name, HeapAsmResourceBlob::allocateAndCopyInferAlign(bytes));
}
