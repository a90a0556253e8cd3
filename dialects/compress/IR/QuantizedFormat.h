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
#include <optional>
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

/// GPTQ: quantizes columns in order and spreads each one's rounding error
/// over the columns after it, weighted by the inverse of `hessian` (cols x
/// cols, the sum of x x^T over calibration inputs), so that the layer's
/// outputs on such inputs change least. `damping` (times the mean diagonal)
/// keeps the inverse stable. Nullopt if the Hessian is not positive
/// definite even after damping.
std::optional<QuantizedMatrix> quantizeGPTQ(llvm::ArrayRef<float> weights,
                                            int64_t rows, int64_t cols,
                                            const QuantizationScheme &scheme,
                                            llvm::ArrayRef<double> hessian,
                                            double damping = 0.01);

/// The value stored at (row, col).
float dequantizeAt(const QuantizedMatrix &m, int64_t row, int64_t col);

/// All values, row-major.
std::vector<float> dequantize(const QuantizedMatrix &m);

} // namespace mlir::compress

#endif // TLMC_DIALECTS_COMPRESS_IR_QUANTIZEDFORMAT_H
