//===- SplitNibbles.cpp - packed int4 laid out for vector loads ----*- C++ -*-===//

#include "codegen/Target/SplitNibbles.h"

#include "mlir/IR/BuiltinDialect.h"
#include "mlir/IR/DialectResourceBlobManager.h"

using namespace mlir;
using namespace tlmc;

bool tlmc::hasSplitNibbleLayout(compress::QuantizedWeightOp weight) {
  return !weight.getGgmlBlocks() && weight.getBits() == 4 &&
         weight.getColumns() % 2 == 0 &&
         int64_t(weight.getGroupSize()) % kNibbleChunk == 0;
}

LogicalResult tlmc::packSplitNibbles(compress::QuantizedWeightOp weight,
                                     MutableArrayRef<uint8_t> out) {
  auto resource = dyn_cast<DenseResourceElementsAttr>(weight.getValues());
  AsmResourceBlob *blob = resource ? resource.getRawHandle().getBlob() : nullptr;
  int64_t rows = weight.getTensorType().getDimSize(0);
  int64_t columns = weight.getColumns(), rowBytes = columns / 2;
  if (!hasSplitNibbleLayout(weight) || !blob ||
      int64_t(blob->getData().size()) != rows * rowBytes ||
      int64_t(out.size()) != rows * rowBytes)
    return failure();
  ArrayRef<char> packed = blob->getData();
  auto nibble = [&](int64_t row, int64_t k) -> uint8_t {
    uint8_t byte = uint8_t(packed[row * rowBytes + k / 2]);
    return k % 2 ? byte >> 4 : byte & 15;
  };
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t chunk = 0; chunk < columns; chunk += kNibbleChunk) {
      int64_t half = std::min(kNibbleChunk, columns - chunk) / 2;
      for (int64_t j = 0; j < half; ++j)
        out[r * rowBytes + chunk / 2 + j] =
            uint8_t(nibble(r, chunk + j) | nibble(r, chunk + half + j) << 4);
    }
  return success();
}
