//===- GGMLRowGroups.cpp - GGUF blocks packed four rows at a time ---------===//

#include "codegen/Target/GGMLRowGroups.h"
#include "runtime/src/ProductKernels.h"

#include "mlir/IR/BuiltinDialect.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/SymbolTable.h"

#include <cstring>

using namespace mlir;
using namespace tlmc;


bool tlmc::hasGGMLRowGroupLayout(compress::QuantizedWeightOp weight,
                                 ModuleOp module) {
  int64_t rows = weight.getTensorType().getDimSize(0);
  int64_t columns = weight.getColumns();
  if (!weight.getGgmlBlocks() || rows % kRowGroupRows || columns % 64 ||
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

LogicalResult tlmc::packGGMLRowGroups(ArrayRef<uint8_t> blocks, int64_t rows,
                                      int64_t columns, int bits,
                                      MutableArrayRef<uint8_t> out) {
  const bool q4 = bits == 4;
  const int64_t blockBytes = q4 ? 18 : 34, rowBlocks = columns / 32;
  if ((bits != 4 && bits != 8) || rows % kRowGroupRows || columns % 64 ||
      int64_t(blocks.size()) != rows * rowBlocks * blockBytes ||
      out.size() != blocks.size())
    return failure();
  // Weight `j` (0..31) of block `b` of `row`: the file's signed value for
  // Q8_0, the nibble (value + 8) for Q4_0.
  auto value = [&](int64_t row, int64_t b, int j) -> int {
    const uint8_t *block = &blocks[(row * rowBlocks + b) * blockBytes];
    if (!q4)
      return int(int8_t(block[2 + j]));
    return j < 16 ? block[2 + j] & 15 : block[2 + j - 16] >> 4;
  };
  // The value at dot-product position k (0..63) of a pair of blocks.
  auto atPosition = [&](int64_t row, int64_t pair, int k) {
    int lane = k / 4;
    return value(row, 2 * pair + lane % 2, 4 * (lane / 2) + k % 4);
  };
  const int64_t pairs = columns / 64;
  const int64_t rowBytes = q4 ? 32 : 64;
  uint8_t *o = out.data();
  for (int64_t group = 0; group < rows; group += kRowGroupRows)
    for (int64_t pair = 0; pair < pairs; ++pair) {
      for (int64_t r = 0; r < kRowGroupRows; ++r) {
        for (int k = 0; k < rowBytes; ++k)
          o[k] = q4 ? uint8_t(atPosition(group + r, pair, k) |
                              atPosition(group + r, pair, k + 32) << 4)
                    : uint8_t(atPosition(group + r, pair, k) + 128);
        o += rowBytes;
      }
      for (int64_t r = 0; r < kRowGroupRows; ++r)
        for (int64_t b = 0; b < 2; ++b) {
          std::memcpy(o, &blocks[((group + r) * rowBlocks + 2 * pair + b) *
                                 blockBytes],
                      2);
          o += 2;
        }
    }
  return success();
}

LogicalResult tlmc::packGGMLRowGroups(compress::QuantizedWeightOp weight,
                                      MutableArrayRef<uint8_t> out) {
  auto resource = dyn_cast<DenseResourceElementsAttr>(weight.getValues());
  AsmResourceBlob *blob = resource ? resource.getRawHandle().getBlob() : nullptr;
  if (!blob)
    return failure();
  ArrayRef<char> data = blob->getData();
  return packGGMLRowGroups(
      ArrayRef<uint8_t>(reinterpret_cast<const uint8_t *>(data.data()),
                        data.size()),
      weight.getTensorType().getDimSize(0), weight.getColumns(),
      int(weight.getBits()), out);
}
