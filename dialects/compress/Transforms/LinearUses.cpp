//===- LinearUses.cpp - the linear ops that read a weight ------------*- C++
//-*-===//

#include "dialects/compress/Transforms/LinearUses.h"
#include "dialects/compress/Transforms/Passes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectResourceBlobManager.h"

using namespace mlir;
using namespace mlir::compress;

FailureOr<mlir::compress::WeightUses>
mlir::compress::getWeightUses(tlm::WeightOp weight, ModuleOp module) {
  WeightUses uses;
  auto symbolUses = SymbolTable::getSymbolUses(weight, module);
  if (!symbolUses)
    return failure();
  for (const SymbolTable::SymbolUse &use : *symbolUses) {
    auto ref = dyn_cast<tlm::WeightRefOp>(use.getUser());
    if (!ref)
      return failure();
    for (OpOperand &operand : ref->getUses()) {
      Operation *user = operand.getOwner();
      if (auto linear = dyn_cast<tlm::LinearOp>(user);
          linear && operand.getOperandNumber() == 1)
        uses.linears.push_back(linear);
      else if (auto embedding = dyn_cast<tlm::EmbeddingOp>(user);
               embedding && operand.getOperandNumber() == 1)
        uses.embeddings.push_back(embedding);
      else
        return failure();
    }
  }
  return uses;
}

FailureOr<SmallVector<tlm::LinearOp>>
mlir::compress::getLinearUses(tlm::WeightOp weight, ModuleOp module) {
  FailureOr<WeightUses> uses = getWeightUses(weight, module);
  if (failed(uses) || !uses->embeddings.empty())
    return failure();
  return std::move(uses->linears);
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
