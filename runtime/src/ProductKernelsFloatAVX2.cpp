//===- ProductKernelsFloatAVX2.cpp - float weight products, AVX2 ----------===//
//
// y = x * W^T for f16, bf16 or f32 weights, f32 inputs and sums, on CPUs
// with AVX2, FMA and F16C but no AVX-512: ProductKernelsFloatAVX512.cpp's
// kernels on 256-bit registers.
//
// Rows (f16, f32; `weights` the first output row's `columns` values, rows
// contiguous): 2 output rows x 1 token (decode) or 4 rows x up to 2 tokens,
// 8 columns per step, one load (and vcvtph2ps) per row and step, one FMA
// per (row, token), a horizontal sum per output at the end.
//
// Panels (codegen/Target/FloatPanels.h): a column of a panel is two
// registers, rows 0-7 and 8-15; per token two FMAs with the token's input
// broadcast, into even and odd columns' accumulators, added at the end:
// per lane the AVX-512 panel kernels' order, so the outputs are bitwise
// theirs (and a prefill tile's equal a decode step's). Register tiling: 2
// tokens x 2 halves x even/odd = 8 accumulators, 4 weight registers.
// Decode reads each weight once (2 or 4 bytes per multiply-add), bound by
// the read bandwidth, prefetched 4 KiB ahead into L1 (or not: the
// `_hwprefetch` entry points); prefill by FMA throughput (2 per cycle, 8
// lanes: half the AVX-512 kernels' peak).
//
//===----------------------------------------------------------------------===//

#include "runtime/src/PaddedPanel.h"
#include "runtime/src/ProductKernels.h"

#if defined(__x86_64__)

#include <immintrin.h>

#define TLM_AVX2 __attribute__((target("avx2,fma,f16c")))
#define TLM_AVX2_INLINE TLM_AVX2 __attribute__((always_inline)) inline

namespace {

//===- Rows ---------------------------------------------------------------===//

constexpr int64_t kRowPrefetchBytes = 2048;

/// The sum of 8 floats.
TLM_AVX2_INLINE float sumOf(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

template <bool F16>
TLM_AVX2_INLINE __m256 loadRowWeights(const uint8_t *row, int64_t column) {
  if (F16)
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i *>(
        reinterpret_cast<const uint16_t *>(row) + column)));
  return _mm256_loadu_ps(reinterpret_cast<const float *>(row) + column);
}

template <bool F16, int R, int T>
TLM_AVX2 void rowTile(const float *x, int64_t xStride, const uint8_t *rows,
                      int64_t rowBytes, int64_t columns, bool prefetch,
                      float *y, int64_t yStride) {
  __m256 acc[R][T];
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < T; ++t)
      acc[r][t] = _mm256_setzero_ps();
  for (int64_t c = 0; c < columns; c += 8) {
    __m256 w[R];
    // One prefetch per 64 bytes: every fourth step for f16, every other
    // for f32.
    bool fetch = prefetch && c % (F16 ? 32 : 16) == 0;
    for (int r = 0; r < R; ++r) {
      const uint8_t *row = rows + r * rowBytes;
      if (fetch)
        _mm_prefetch(reinterpret_cast<const char *>(row) + c * (F16 ? 2 : 4) +
                         kRowPrefetchBytes,
                     _MM_HINT_T0);
      w[r] = loadRowWeights<F16>(row, c);
    }
    for (int t = 0; t < T; ++t) {
      __m256 in = _mm256_loadu_ps(x + t * xStride + c);
      for (int r = 0; r < R; ++r)
        acc[r][t] = _mm256_fmadd_ps(w[r], in, acc[r][t]);
    }
  }
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < T; ++t)
      y[t * yStride + r] = sumOf(acc[r][t]);
}

template <bool F16, int R>
TLM_AVX2 void rowsForTokens(const float *x, int64_t xStride, int64_t tokens,
                            const uint8_t *rows, int64_t rowBytes,
                            int64_t columns, float *y, int64_t yStride) {
  int64_t t = 0;
  for (; t + 2 <= tokens; t += 2)
    rowTile<F16, R, 2>(x + t * xStride, xStride, rows, rowBytes, columns,
                       t == 0, y + t * yStride, yStride);
  if (t < tokens)
    rowTile<F16, R, 1>(x + t * xStride, xStride, rows, rowBytes, columns,
                       t == 0, y + t * yStride, yStride);
}

template <bool F16>
TLM_AVX2 void rowProduct(const float *x, int64_t xStride, int64_t tokens,
                         const uint8_t *weights, int64_t rows,
                         int64_t columns, float *y, int64_t yStride) {
  if (columns % 16)
    __builtin_trap(); // the compiler never selects this kernel then
  const int64_t rowBytes = columns * (F16 ? 2 : 4);
  int64_t r = 0;
  if (tokens == 1)
    for (; r + 2 <= rows; r += 2)
      rowsForTokens<F16, 2>(x, xStride, tokens, weights + r * rowBytes,
                            rowBytes, columns, y + r, yStride);
  for (; r + 4 <= rows; r += 4)
    rowsForTokens<F16, 4>(x, xStride, tokens, weights + r * rowBytes,
                          rowBytes, columns, y + r, yStride);
  for (; r < rows; ++r)
    rowsForTokens<F16, 1>(x, xStride, tokens, weights + r * rowBytes,
                          rowBytes, columns, y + r, yStride);
}

//===- Panels -------------------------------------------------------------===//

constexpr int64_t kPanelRows = 16;
static_assert(kPanelRows == tlmrt::kPaddedPanelRows, "one panel height");
constexpr int kPanelTokens = 2;
constexpr int64_t kPanelPrefetchBytes = 4096;

/// What a panel's values are.
enum class Element { F16, BF16, F32 };

template <Element E>
constexpr int64_t kElementBytes = E == Element::F32 ? 4 : 2;

/// Rows [8 * half, 8 * half + 8) of column `c` of a panel, as f32.
template <Element E>
TLM_AVX2_INLINE __m256 loadPanelHalf(const uint8_t *panel, int64_t c,
                                     int half) {
  const uint8_t *at = panel + (c * kPanelRows + 8 * half) * kElementBytes<E>;
  if constexpr (E == Element::F32)
    return _mm256_loadu_ps(reinterpret_cast<const float *>(at));
  const __m128i halves = _mm_loadu_si128(reinterpret_cast<const __m128i *>(at));
  if constexpr (E == Element::F16)
    return _mm256_cvtph_ps(halves);
  // A bf16 is the top half of the f32 it stands for.
  return _mm256_castsi256_ps(
      _mm256_slli_epi32(_mm256_cvtepu16_epi32(halves), 16));
}

template <Element E, bool Prefetch, int T>
TLM_AVX2 void panelTile(const float *x, int64_t xStride, const uint8_t *panel,
                        int64_t columns, float *y, int64_t yStride) {
  __m256 even[T][2], odd[T][2];
  for (int t = 0; t < T; ++t)
    for (int h = 0; h < 2; ++h)
      even[t][h] = odd[t][h] = _mm256_setzero_ps();
  int64_t c = 0;
  for (; c + 2 <= columns; c += 2) {
    if (Prefetch)
      for (int64_t line = 0; line < 2 * kPanelRows * kElementBytes<E>;
           line += 64)
        _mm_prefetch(reinterpret_cast<const char *>(panel) +
                         c * kPanelRows * kElementBytes<E> +
                         kPanelPrefetchBytes + line,
                     _MM_HINT_T0);
    __m256 w0[2], w1[2];
    for (int h = 0; h < 2; ++h) {
      w0[h] = loadPanelHalf<E>(panel, c, h);
      w1[h] = loadPanelHalf<E>(panel, c + 1, h);
    }
    for (int t = 0; t < T; ++t) {
      const __m256 a = _mm256_broadcast_ss(x + t * xStride + c);
      const __m256 b = _mm256_broadcast_ss(x + t * xStride + c + 1);
      for (int h = 0; h < 2; ++h) {
        even[t][h] = _mm256_fmadd_ps(w0[h], a, even[t][h]);
        odd[t][h] = _mm256_fmadd_ps(w1[h], b, odd[t][h]);
      }
    }
  }
  if (c < columns) {
    __m256 w0[2] = {loadPanelHalf<E>(panel, c, 0),
                    loadPanelHalf<E>(panel, c, 1)};
    for (int t = 0; t < T; ++t) {
      const __m256 a = _mm256_broadcast_ss(x + t * xStride + c);
      for (int h = 0; h < 2; ++h)
        even[t][h] = _mm256_fmadd_ps(w0[h], a, even[t][h]);
    }
  }
  for (int t = 0; t < T; ++t)
    for (int h = 0; h < 2; ++h)
      _mm256_storeu_ps(y + t * yStride + 8 * h,
                       _mm256_add_ps(even[t][h], odd[t][h]));
}

template <Element E, bool Prefetch>
TLM_AVX2 void floatPanels(const float *x, int64_t xStride, int64_t tokens,
                          const uint8_t *panels, int64_t rows,
                          int64_t columns, float *y, int64_t yStride) {
  const int64_t panelBytes = kPanelRows * columns * kElementBytes<E>;
  const int64_t whole = rows / kPanelRows;
  if (const int64_t rest = rows % kPanelRows) {
    const uint8_t *panel = panels + whole * panelBytes;
    tlmrt::computePaddedPanel(
        rest, tokens, x, xStride, y + whole * kPanelRows, yStride,
        [&](const float *inputs, float *out) {
          panelTile<E, Prefetch, 1>(inputs, xStride, panel, columns, out,
                                    kPanelRows);
        });
  }
  for (int64_t p = 0; p < whole; ++p) {
    const uint8_t *panel = panels + p * panelBytes;
    float *yp = y + p * kPanelRows;
    int64_t t = 0;
    for (; t + kPanelTokens <= tokens; t += kPanelTokens)
      panelTile<E, Prefetch, kPanelTokens>(x + t * xStride, xStride, panel,
                                           columns, yp + t * yStride, yStride);
    if (t < tokens)
      panelTile<E, Prefetch, 1>(x + t * xStride, xStride, panel, columns,
                                yp + t * yStride, yStride);
  }
}

} // namespace

extern "C" void tlmrt_uk_f16_avx2(const float *x, int64_t xStride,
                                  int64_t tokens, const uint8_t *weights,
                                  int64_t rows, int64_t columns, float *y,
                                  int64_t yStride) {
  rowProduct<true>(x, xStride, tokens, weights, rows, columns, y, yStride);
}

extern "C" void tlmrt_uk_f32_avx2(const float *x, int64_t xStride,
                                  int64_t tokens, const uint8_t *weights,
                                  int64_t rows, int64_t columns, float *y,
                                  int64_t yStride) {
  rowProduct<false>(x, xStride, tokens, weights, rows, columns, y, yStride);
}

#define TLMRT_FLOAT_PANEL_KERNELS(name, element)                               \
  extern "C" void tlmrt_uk_##name##_avx2(                                      \
      const float *x, int64_t xStride, int64_t tokens, const uint8_t *weights, \
      int64_t rows, int64_t columns, float *y, int64_t yStride) {              \
    floatPanels<element, true>(x, xStride, tokens, weights, rows, columns, y,  \
                               yStride);                                       \
  }                                                                            \
  extern "C" void tlmrt_uk_##name##_avx2_hwprefetch(                           \
      const float *x, int64_t xStride, int64_t tokens, const uint8_t *weights, \
      int64_t rows, int64_t columns, float *y, int64_t yStride) {              \
    floatPanels<element, false>(x, xStride, tokens, weights, rows, columns, y, \
                                yStride);                                      \
  }

TLMRT_FLOAT_PANEL_KERNELS(f16x16, Element::F16)
TLMRT_FLOAT_PANEL_KERNELS(bf16x16, Element::BF16)
TLMRT_FLOAT_PANEL_KERNELS(f32x16, Element::F32)
#undef TLMRT_FLOAT_PANEL_KERNELS

#endif // __x86_64__
