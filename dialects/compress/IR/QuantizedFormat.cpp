//===- QuantizedFormat.cpp - the integer formats of quantized weights -*- C++ -*-===//

#include "dialects/compress/IR/QuantizedFormat.h"

#include <algorithm>
#include <cmath>

using namespace mlir::compress;

QuantizedMatrix mlir::compress::quantize(llvm::ArrayRef<float> w, int64_t rows,
                                         int64_t cols,
                                         const QuantizationScheme &scheme) {
  QuantizedMatrix m;
  m.rows = rows;
  m.cols = cols;
  m.bits = scheme.bits;
  m.symmetric = scheme.symmetric;
  m.groupSize = scheme.groupSize > 0 ? std::min(scheme.groupSize, cols) : cols;
  m.groups = (cols + m.groupSize - 1) / m.groupSize;
  m.rowBytes = scheme.bits == 8 ? cols : (cols + 1) / 2;
  m.values.assign(rows * m.rowBytes, 0);
  m.scales.assign(rows * m.groups, 0.0f);
  if (!scheme.symmetric)
    m.zeros.assign(rows * m.groups, 0);
  int qmax = scheme.bits == 8 ? 127 : 7;
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t g = 0; g < m.groups; ++g) {
      int64_t begin = g * m.groupSize;
      int64_t end = std::min(cols, begin + m.groupSize); // ragged last group
      const float *row = w.data() + r * cols;
      float lo = row[begin], hi = row[begin], amax = 0, extreme = 0;
      for (int64_t c = begin; c < end; ++c) {
        lo = std::min(lo, row[c]);
        hi = std::max(hi, row[c]);
        if (std::fabs(row[c]) > amax) {
          amax = std::fabs(row[c]);
          extreme = row[c];
        }
      }
      float scale;
      int zero = 0;
      if (scheme.symmetric && scheme.bits == 8) {
        scale = amax / float(qmax);
      } else if (scheme.symmetric) {
        // All 16 levels (as GGML's Q4_0): the value of largest magnitude
        // maps to -8, so the scale's sign carries its sign.
        scale = extreme / -8.0f;
      } else {
        lo = std::min(lo, 0.0f); // zero stays exactly representable
        hi = std::max(hi, 0.0f);
        scale = (hi - lo) / 15.0f;
        zero = scale > 0 ? int(std::lround(-lo / scale)) : 0;
        zero = std::clamp(zero, 0, 15);
        m.zeros[r * m.groups + g] = int8_t(zero);
      }
      m.scales[r * m.groups + g] = scale;
      float inv = scale != 0 ? 1.0f / scale : 0.0f;
      for (int64_t c = begin; c < end; ++c) {
        int q = int(std::lround(row[c] * inv));
        if (scheme.symmetric)
          q = std::clamp(q, scheme.bits == 8 ? -127 : -8, qmax);
        else
          q = std::clamp(q + zero, 0, 15);
        if (scheme.bits == 8) {
          m.values[r * m.rowBytes + c] = int8_t(q);
        } else {
          // Symmetric nibbles are biased by 8 so both kinds store 0..15.
          uint8_t nibble = uint8_t(scheme.symmetric ? q + 8 : q);
          uint8_t &byte =
              reinterpret_cast<uint8_t &>(m.values[r * m.rowBytes + c / 2]);
          byte |= (c % 2 == 0) ? nibble : uint8_t(nibble << 4);
        }
      }
    }
  }
  return m;
}

float mlir::compress::dequantizeAt(const QuantizedMatrix &m, int64_t r,
                                   int64_t c) {
  int64_t g = c / m.groupSize;
  float scale = m.scales[r * m.groups + g];
  if (m.bits == 8)
    return float(m.values[r * m.rowBytes + c]) * scale;
  uint8_t byte = uint8_t(m.values[r * m.rowBytes + c / 2]);
  int nibble = (c % 2 == 0) ? (byte & 0xF) : (byte >> 4);
  int zero = m.symmetric ? 8 : m.zeros[r * m.groups + g];
  return float(nibble - zero) * scale;
}

std::vector<float> mlir::compress::dequantize(const QuantizedMatrix &m) {
  std::vector<float> out(m.rows * m.cols);
  for (int64_t r = 0; r < m.rows; ++r)
    for (int64_t c = 0; c < m.cols; ++c)
      out[r * m.cols + c] = dequantizeAt(m, r, c);
  return out;
}
