//===- QuantizedFormat.cpp - the integer formats of quantized weights -*- C++ -*-===//

#include "dialects/compress/IR/QuantizedFormat.h"

#include <algorithm>
#include <cmath>
#include <optional>

using namespace mlir::compress;

namespace {
struct GroupParams {
  float scale = 0;
  int zero = 0;
};
} // namespace

/// Scale (and zero point) for `count` values of one group.
static GroupParams computeGroupParams(const float *v, int64_t count,
                                      const QuantizationScheme &scheme) {
  float lo = v[0], hi = v[0], amax = 0, extreme = 0;
  for (int64_t i = 0; i < count; ++i) {
    lo = std::min(lo, v[i]);
    hi = std::max(hi, v[i]);
    if (std::fabs(v[i]) > amax) {
      amax = std::fabs(v[i]);
      extreme = v[i];
    }
  }
  GroupParams p;
  if (scheme.symmetric && scheme.bits == 8) {
    p.scale = amax / 127.0f;
  } else if (scheme.symmetric) {
    // All 16 levels (as GGML's Q4_0): the value of largest magnitude maps
    // to -8, so the scale's sign carries its sign.
    p.scale = extreme / -8.0f;
  } else {
    lo = std::min(lo, 0.0f); // zero stays exactly representable
    hi = std::max(hi, 0.0f);
    p.scale = (hi - lo) / 15.0f;
    p.zero = p.scale > 0 ? std::clamp(int(std::lround(-lo / p.scale)), 0, 15)
                         : 0;
  }
  return p;
}

/// The stored integer for `v` (nibbles biased to 0..15 for 4 bits).
static int quantizeValue(float v, GroupParams p,
                         const QuantizationScheme &scheme) {
  float inv = p.scale != 0 ? 1.0f / p.scale : 0.0f;
  int q = int(std::lround(v * inv));
  if (scheme.bits == 8)
    return std::clamp(q, -127, 127);
  if (scheme.symmetric)
    return std::clamp(q, -8, 7) + 8;
  return std::clamp(q + p.zero, 0, 15);
}

static QuantizedMatrix makeMatrix(int64_t rows, int64_t cols,
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
  return m;
}

static void setParams(QuantizedMatrix &m, int64_t r, int64_t g, GroupParams p) {
  m.scales[r * m.groups + g] = p.scale;
  if (!m.symmetric)
    m.zeros[r * m.groups + g] = int8_t(p.zero);
}

static void store(QuantizedMatrix &m, int64_t r, int64_t c, int q) {
  if (m.bits == 8) {
    m.values[r * m.rowBytes + c] = int8_t(q);
    return;
  }
  uint8_t &byte = reinterpret_cast<uint8_t &>(m.values[r * m.rowBytes + c / 2]);
  byte = c % 2 == 0 ? uint8_t((byte & 0xF0) | q) : uint8_t((byte & 0x0F) | (q << 4));
}

QuantizedMatrix mlir::compress::quantize(llvm::ArrayRef<float> w, int64_t rows,
                                         int64_t cols,
                                         const QuantizationScheme &scheme) {
  QuantizedMatrix m = makeMatrix(rows, cols, scheme);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t g = 0; g < m.groups; ++g) {
      int64_t begin = g * m.groupSize;
      int64_t end = std::min(cols, begin + m.groupSize); // ragged last group
      const float *row = w.data() + r * cols;
      GroupParams p = computeGroupParams(row + begin, end - begin, scheme);
      setParams(m, r, g, p);
      for (int64_t c = begin; c < end; ++c)
        store(m, r, c, quantizeValue(row[c], p, scheme));
    }
  return m;
}

/// Cholesky factor (lower) of the n x n symmetric positive definite `a`;
/// false if it is not positive definite.
static bool cholesky(std::vector<double> &a, int64_t n) {
  for (int64_t j = 0; j < n; ++j) {
    double d = a[j * n + j];
    for (int64_t k = 0; k < j; ++k)
      d -= a[j * n + k] * a[j * n + k];
    if (d <= 0)
      return false;
    a[j * n + j] = std::sqrt(d);
    for (int64_t i = j + 1; i < n; ++i) {
      double s = a[i * n + j];
      for (int64_t k = 0; k < j; ++k)
        s -= a[i * n + k] * a[j * n + k];
      a[i * n + j] = s / a[j * n + j];
    }
    for (int64_t k = j + 1; k < n; ++k)
      a[j * n + k] = 0;
  }
  return true;
}

std::optional<QuantizedMatrix> mlir::compress::quantizeGPTQ(
    llvm::ArrayRef<float> w, int64_t rows, int64_t cols,
    const QuantizationScheme &scheme, llvm::ArrayRef<double> hessian,
    double damping) {
  int64_t n = cols;
  std::vector<double> h(hessian.begin(), hessian.end());
  std::vector<double> work(w.begin(), w.end());
  // Inputs that never fire carry no information: fix them, zero the column.
  double mean = 0;
  for (int64_t i = 0; i < n; ++i)
    mean += h[i * n + i];
  mean /= double(n);
  for (int64_t i = 0; i < n; ++i) {
    if (h[i * n + i] == 0) {
      h[i * n + i] = 1;
      for (int64_t r = 0; r < rows; ++r)
        work[r * cols + i] = 0;
    }
    h[i * n + i] += damping * mean;
  }
  // H^-1 through its Cholesky factor, then H^-1 = U^T U with U upper.
  if (!cholesky(h, n))
    return std::nullopt;
  std::vector<double> inv(n * n, 0.0);
  for (int64_t col = 0; col < n; ++col) {
    std::vector<double> y(n, 0.0), x(n, 0.0);
    for (int64_t i = 0; i < n; ++i) { // L y = e_col
      double s = i == col ? 1.0 : 0.0;
      for (int64_t k = 0; k < i; ++k)
        s -= h[i * n + k] * y[k];
      y[i] = s / h[i * n + i];
    }
    for (int64_t i = n - 1; i >= 0; --i) { // L^T x = y
      double s = y[i];
      for (int64_t k = i + 1; k < n; ++k)
        s -= h[k * n + i] * x[k];
      x[i] = s / h[i * n + i];
    }
    for (int64_t i = 0; i < n; ++i)
      inv[i * n + col] = x[i];
  }
  if (!cholesky(inv, n)) // inv = L2 L2^T; U = L2^T
    return std::nullopt;
  auto u = [&](int64_t i, int64_t j) { return inv[j * n + i]; };

  // Quantize column by column; push each column's rounding error onto the
  // columns not yet quantized, weighted by the inverse Hessian.
  QuantizedMatrix m = makeMatrix(rows, cols, scheme);
  std::vector<GroupParams> params(rows);
  std::vector<float> group(m.groupSize);
  for (int64_t j = 0; j < cols; ++j) {
    int64_t g = j / m.groupSize;
    if (j % m.groupSize == 0) {
      int64_t end = std::min(cols, j + m.groupSize);
      for (int64_t r = 0; r < rows; ++r) {
        for (int64_t c = j; c < end; ++c)
          group[c - j] = float(work[r * cols + c]);
        params[r] = computeGroupParams(group.data(), end - j, scheme);
        setParams(m, r, g, params[r]);
      }
    }
    for (int64_t r = 0; r < rows; ++r) {
      int q = quantizeValue(float(work[r * cols + j]), params[r], scheme);
      store(m, r, j, q);
      double err = (work[r * cols + j] - dequantizeAt(m, r, j)) / u(j, j);
      for (int64_t k = j + 1; k < cols; ++k)
        work[r * cols + k] -= err * u(j, k);
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
