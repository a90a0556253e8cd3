//===- QuantizedFormat.h - the integer formats of quantized weights -*- C++ -*-===//
//
// One definition of how compress.quantized_weight stores values, used by the
// quantization pass (to encode), the code generator's tests and the report
// (to decode and measure error). Mirrors the lowering in
// codegen/Conversion/CompressToLinalg.
//
//===----------------------------------------------------------------------===//

#ifndef TLMC_DIALECTS_COMPRESS_IR_QUANTIZEDFORMAT_H
#define TLMC_DIALECTS_COMPRESS_IR_QUANTIZEDFORMAT_H

#include "llvm/ADT/ArrayRef.h"

#include <cstdint>
#include <vector>

namespace mlir::compress {

struct QuantizationScheme {
  int bits = 8;            ///< 8 or 4
  int64_t groupSize = 0;   ///< input features per scale; 0: a whole row
  bool symmetric = true;   ///< 4 bits may be asymmetric (zero points)
};

/// A rows x cols matrix in the stored format.
struct QuantizedMatrix {
  int64_t rows = 0, cols = 0, groupSize = 0, groups = 0, rowBytes = 0;
  int bits = 8;
  bool symmetric = true;
  std::vector<int8_t> values; ///< rows x rowBytes
  std::vector<float> scales;  ///< rows x groups
  std::vector<int8_t> zeros;  ///< rows x groups (asymmetric only)
};

/// Quantizes row-major `weights` by rounding to nearest (ragged last groups
/// included: a row of 172 in groups of 32 ends with a group of 12).
QuantizedMatrix quantize(llvm::ArrayRef<float> weights, int64_t rows,
                         int64_t cols, const QuantizationScheme &scheme);

/// The value stored at (row, col).
float dequantizeAt(const QuantizedMatrix &m, int64_t row, int64_t col);

/// All values, row-major.
std::vector<float> dequantize(const QuantizedMatrix &m);

} // namespace mlir::compress

#endif // TLMC_DIALECTS_COMPRESS_IR_QUANTIZEDFORMAT_H
