//===- GGMLPanels.cpp - GGUF blocks packed in 16-row panels ---------------===//

#include "codegen/Target/GGMLPanels.h"
#include "runtime/src/ProductKernels.h"

#include "mlir/IR/SymbolTable.h"

#include <cstring>

using namespace mlir;
using namespace tlmc;

bool tlmc::hasGGMLPanelLayout(compress::QuantizedWeightOp weight,
                              ModuleOp module) {
  int64_t rows = weight.getTensorType().getDimSize(0);
  int64_t columns = weight.getColumns();
  if (!weight.getGgmlBlocks() || rows % kPanelRows || columns % 32 ||
      columns > TLMRT_UK_MAX_COLUMNS)
    return false;
  auto uses = SymbolTable::getSymbolUses(weight.getSymNameAttr(), module);
  if (!uses)
    return false;
  for (const SymbolTable::SymbolUse &use : *uses)
    if (!isa<compress::QuantizedLinearOp, compress::QuantizedEmbeddingOp>(
            use.getUser()))
      return false;
  return true;
}

LogicalResult tlmc::packGGMLPanels(ArrayRef<uint8_t> blocks, int64_t rows,
                                   int64_t columns, int bits,
                                   MutableArrayRef<uint8_t> out) {
  const bool q4 = bits == 4;
  const int64_t blockBytes = q4 ? 18 : 34, rowBlocks = columns / 32;
  if ((bits != 4 && bits != 8) || rows % kPanelRows || columns % 32 ||
      int64_t(blocks.size()) != rows * rowBlocks * blockBytes ||
      out.size() != blocks.size())
    return failure();
  // Column groups of 4 per block: Q8_0 has 8 (one byte per weight), Q4_0
  // 4 (a byte holds columns 4g + i and 16 + 4g + i).
  const int64_t groups = q4 ? 4 : 8;
  uint8_t *o = out.data();
  for (int64_t panel = 0; panel < rows; panel += kPanelRows)
    for (int64_t b = 0; b < rowBlocks; ++b) {
      auto blockOf = [&](int64_t r) {
        return &blocks[((panel + r) * rowBlocks + b) * blockBytes];
      };
      for (int64_t g = 0; g < groups; ++g)
        for (int64_t r = 0; r < kPanelRows; ++r)
          for (int64_t i = 0; i < 4; ++i) {
            // Q8_0 values are signed: + 128 is a flip of the top bit.
            uint8_t byte = blockOf(r)[2 + 4 * g + i];
            *o++ = q4 ? byte : uint8_t(byte ^ 0x80);
          }
      for (int64_t r = 0; r < kPanelRows; ++r, o += 2)
        std::memcpy(o, blockOf(r), 2);
    }
  return success();
}

