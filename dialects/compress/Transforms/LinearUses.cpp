//===- LinearUses.cpp - the linear ops that read a weight ------------*- C++
//-*-===//

#include "dialects/compress/Transforms/LinearUses.h"
#include "dialects/compress/Transforms/Passes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/APFloat.h"

#include <cstring>

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
  // The kept values are the weight's own: an f16 or bf16 weight stays in
  // its type (exactly), anything else (f32, GGUF blocks) becomes f32.
  Type element = weight.getEncodingAttr()
                     ? Type(b.getF32Type())
                     : weight.getTensorType().getElementType();
  auto type = RankedTensorType::get(shape, element);
  int64_t before = weight.getStorageBytes();
  if (auto earlier = weight->getAttrOfType<IntegerAttr>(kFloatBytesAttr))
    before = earlier.getInt();
  std::vector<char> bytes;
  if (element.isF16() || element.isBF16()) {
    const llvm::fltSemantics &semantics =
        cast<FloatType>(element).getFloatSemantics();
    bytes.resize(values.size() * 2);
    for (size_t i = 0; i < values.size(); ++i) {
      bool lost;
      APFloat v(values[i]);
      v.convert(semantics, APFloat::rmNearestTiesToEven, &lost);
      uint16_t bits = uint16_t(v.bitcastToAPInt().getZExtValue());
      std::memcpy(bytes.data() + 2 * i, &bits, 2);
    }
  } else {
    bytes.assign(reinterpret_cast<const char *>(values.data()),
                 reinterpret_cast<const char *>(values.data() + values.size()));
  }
  weight.setType(type);
  weight.removeEncodingAttr();
  weight.setValueAttr(
      makeBlob(type, (weight.getSymName() + ".pruned").str(), bytes));
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
