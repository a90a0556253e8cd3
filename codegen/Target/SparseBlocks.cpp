//===- SparseBlocks.cpp - a sparse weight in 32-feature blocks -----*- C++ -*-===//

#include "codegen/Target/SparseBlocks.h"

#include "mlir/IR/BuiltinDialect.h"
#include "mlir/IR/DialectResourceBlobManager.h"

#include <cstring>

using namespace mlir;
using namespace tlmc;

namespace {

/// The CSR arrays of a sparse weight, read from its resource blobs.
struct CSRView {
  ArrayRef<float> values;
  ArrayRef<int16_t> columns;
  ArrayRef<int32_t> rowOffsets;
  int64_t rows = 0, features = 0;
};

template <typename T>
std::optional<ArrayRef<T>> getBlob(ElementsAttr attr) {
  auto resource = dyn_cast<DenseResourceElementsAttr>(attr);
  AsmResourceBlob *blob = resource ? resource.getRawHandle().getBlob() : nullptr;
  if (!blob || blob->getData().size() % sizeof(T) != 0)
    return std::nullopt;
  ArrayRef<char> bytes = blob->getData();
  return ArrayRef<T>(reinterpret_cast<const T *>(bytes.data()),
                     bytes.size() / sizeof(T));
}

std::optional<CSRView> getCSR(compress::SparseWeightOp weight) {
  auto values = getBlob<float>(weight.getValues());
  auto columns = getBlob<int16_t>(weight.getColumns());
  auto offsets = getBlob<int32_t>(weight.getRowOffsets());
  if (!values || !columns || !offsets)
    return std::nullopt;
  CSRView csr{*values, *columns, *offsets,
              weight.getTensorType().getDimSize(0),
              weight.getTensorType().getDimSize(1)};
  if (int64_t(csr.rowOffsets.size()) != csr.rows + 1 ||
      csr.columns.size() != csr.values.size())
    return std::nullopt;
  return csr;
}

} // namespace

std::optional<int64_t>
tlmc::getSparseBlocksPerRow(compress::SparseWeightOp weight) {
  std::optional<CSRView> csr = getCSR(weight);
  if (!csr)
    return std::nullopt;
  int64_t blocks = (csr->features + kSparseBlockFeatures - 1) /
                   kSparseBlockFeatures;
  std::vector<int64_t> counts(blocks);
  for (int64_t r = 0; r < csr->rows; ++r) {
    std::fill(counts.begin(), counts.end(), 0);
    for (int32_t p = csr->rowOffsets[r]; p < csr->rowOffsets[r + 1]; ++p)
      if (++counts[csr->columns[p] / kSparseBlockFeatures] > kSparseBlockValues)
        return std::nullopt;
  }
  return blocks;
}

LogicalResult tlmc::packSparseBlocks(compress::SparseWeightOp weight,
                                     MutableArrayRef<float> values,
                                     MutableArrayRef<uint8_t> indices) {
  std::optional<CSRView> csr = getCSR(weight);
  std::optional<int64_t> blocks = getSparseBlocksPerRow(weight);
  int64_t slots = blocks ? csr->rows * *blocks * kSparseBlockValues : 0;
  if (!csr || !blocks || int64_t(values.size()) != slots ||
      int64_t(indices.size()) != slots)
    return failure();
  std::fill(values.begin(), values.end(), 0.0f);
  std::fill(indices.begin(), indices.end(), 0);
  std::vector<int64_t> used(*blocks);
  for (int64_t r = 0; r < csr->rows; ++r) {
    std::fill(used.begin(), used.end(), 0);
    for (int32_t p = csr->rowOffsets[r]; p < csr->rowOffsets[r + 1]; ++p) {
      int64_t column = csr->columns[p];
      int64_t block = column / kSparseBlockFeatures;
      int64_t at = (r * *blocks + block) * kSparseBlockValues + used[block]++;
      values[at] = csr->values[p];
      indices[at] = uint8_t(column % kSparseBlockFeatures);
    }
  }
  return success();
}
