//===- FloatPanels.cpp - f16 weights packed in 16-row panels --------------===//

#include "codegen/Target/FloatPanels.h"

#include "mlir/IR/SymbolTable.h"

using namespace mlir;
using namespace tlmc;

bool tlmc::hasF16PanelLayout(tlm::WeightOp weight, ModuleOp module) {
  RankedTensorType type = weight.getTensorType();
  if (weight.getEncoding() || type.getRank() != 2 ||
      !type.getElementType().isF16() || type.getDimSize(0) % kFloatPanelRows)
    return false;
  auto uses = SymbolTable::getSymbolUses(weight.getSymNameAttr(), module);
  if (!uses)
    return false;
  for (const SymbolTable::SymbolUse &use : *uses) {
    auto ref = dyn_cast<tlm::WeightRefOp>(use.getUser());
    if (!ref)
      return false;
    for (OpOperand &read : ref->getUses()) {
      auto linear = dyn_cast<tlm::LinearOp>(read.getOwner());
      auto lookup = dyn_cast<tlm::EmbeddingOp>(read.getOwner());
      if (!(linear && read.get() == linear.getWeight()) &&
          !(lookup && read.get() == lookup.getTable()))
        return false;
    }
  }
  return true;
}

LogicalResult tlmc::packF16Panels(ArrayRef<uint16_t> values, int64_t rows,
                                  int64_t columns,
                                  MutableArrayRef<uint16_t> out) {
  if (rows % kFloatPanelRows || int64_t(values.size()) != rows * columns ||
      out.size() != values.size())
    return failure();
  uint16_t *o = out.data();
  for (int64_t panel = 0; panel < rows; panel += kFloatPanelRows)
    for (int64_t c = 0; c < columns; ++c)
      for (int64_t r = 0; r < kFloatPanelRows; ++r)
        *o++ = values[(panel + r) * columns + c];
  return success();
}
