//===- FloatPanels.cpp - float weights packed in 16-row panels ------------===//

#include "codegen/Target/FloatPanels.h"

#include "mlir/IR/SymbolTable.h"

#include <cstring>

using namespace mlir;
using namespace tlmc;

bool tlmc::hasFloatPanelLayout(tlm::WeightOp weight, ModuleOp module) {
  RankedTensorType type = weight.getTensorType();
  Type element = type.getElementType();
  if (weight.getEncoding() || type.getRank() != 2 ||
      !(element.isF16() || element.isBF16() || element.isF32()))
    return false;
  // Padding costs container and memory bytes: at most a sixteenth of the
  // weight's rows (stories260K's 172-row FFN weights take 4, 2.3%; a
  // 24-row projection of a KV-pruned model would take 8, a third of it,
  // and stays in rows).
  const int64_t rows = type.getDimSize(0);
  const bool padded = rows % kFloatPanelRows != 0;
  if (padded && (getFloatPanelRows(rows) - rows) * 16 > rows)
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
          !(lookup && read.get() == lookup.getTable() && !padded))
        return false;
    }
  }
  return true;
}

LogicalResult tlmc::packFloatPanels(ArrayRef<char> values,
                                    int64_t elementBytes, int64_t rows,
                                    int64_t columns,
                                    MutableArrayRef<char> out) {
  if (rows <= 0 || elementBytes <= 0 ||
      int64_t(values.size()) != rows * columns * elementBytes ||
      int64_t(out.size()) != getFloatPanelRows(rows) * columns * elementBytes)
    return failure();
  char *o = out.data();
  for (int64_t panel = 0; panel < rows; panel += kFloatPanelRows)
    for (int64_t c = 0; c < columns; ++c)
      for (int64_t r = 0; r < kFloatPanelRows; ++r, o += elementBytes) {
        if (panel + r < rows)
          std::memcpy(o,
                      values.data() +
                          ((panel + r) * columns + c) * elementBytes,
                      elementBytes);
        else
          std::memset(o, 0, elementBytes);
      }
  return success();
}
