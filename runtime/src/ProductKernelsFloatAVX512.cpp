//===- ProductKernelsFloatAVX512.cpp - float weight products, AVX-512 -----===//
//
// y = x * W^T for f16 (F16C conversion), bf16 or f32 weights, f32 inputs
// and sums: the contract of runtime/src/ProductKernels.h. The row kernels
// take `weights` as the first output row's `columns` values, rows
// contiguous (f16, f32); the panel kernels below take them in 16-row
// panels (f16, bf16, f32).
//
// Register tiling: 4 output rows x up to 4 tokens (prefill; 2 rows x 1
// token for decode, fewer streams), 16 columns per step: per step one load
// (and vcvtph2ps) per row, one input load per token, one FMA per (row,
// token): 16 accumulators. The generated product it replaces computed one
// output at a time, reloading the inputs for every row. Decode reads each
// weight once (2 or 4 bytes): bound by the read bandwidth; prefill by FMA
// throughput (2 per cycle).
//
//===----------------------------------------------------------------------===//

#include "runtime/src/PaddedPanel.h"
#include "runtime/src/ProductKernels.h"
#include "runtime/src/TokenTiles.h"

#if defined(__x86_64__)

#include <immintrin.h>

#define TLM_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,f16c,fma")))

namespace {

constexpr int64_t kPrefetchBytes = 2048;

template <bool F16>
TLM_AVX512 __attribute__((always_inline)) inline __m512
loadWeights(const void *row, int64_t column) {
  if (F16)
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i *>(
        static_cast<const uint16_t *>(row) + column)));
  return _mm512_loadu_ps(static_cast<const float *>(row) + column);
}

/// With `prefetch`, each row's bytes are asked for ahead, once per cache
/// line (the first token tile of a row tile reads them from memory; the
/// others find them in L1).
template <bool F16, int R, int T>
TLM_AVX512 void floatTile(const float *x, int64_t xStride, const uint8_t *rows,
                          int64_t rowBytes, int64_t columns, bool prefetch,
                          float *y, int64_t yStride) {
  __m512 acc[R][T];
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < T; ++t)
      acc[r][t] = _mm512_setzero_ps();
  for (int64_t c = 0; c < columns; c += 16) {
    __m512 w[R];
    // One prefetch per 64 bytes: every other step for f16.
    bool fetch = prefetch && (!F16 || c % 32 == 0);
    for (int r = 0; r < R; ++r) {
      const uint8_t *row = rows + r * rowBytes;
      if (fetch)
        _mm_prefetch(reinterpret_cast<const char *>(row) + c * (F16 ? 2 : 4) +
                         kPrefetchBytes,
                     _MM_HINT_T0);
      w[r] = loadWeights<F16>(row, c);
    }
    for (int t = 0; t < T; ++t) {
      __m512 in = _mm512_loadu_ps(x + t * xStride + c);
      for (int r = 0; r < R; ++r)
        acc[r][t] = _mm512_fmadd_ps(w[r], in, acc[r][t]);
    }
  }
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < T; ++t)
      y[t * yStride + r] = _mm512_reduce_add_ps(acc[r][t]);
}

template <bool F16, int R>
TLM_AVX512 void floatRows(const float *x, int64_t xStride, int64_t tokens,
                          const uint8_t *rows, int64_t rowBytes,
                          int64_t columns, float *y, int64_t yStride) {
  tlmrt::forEachTokenTile(tokens, [&](auto tile, int64_t t) {
    floatTile<F16, R, decltype(tile)::value>(x + t * xStride, xStride, rows,
                                             rowBytes, columns, t == 0,
                                             y + t * yStride, yStride);
  });
}

template <bool F16>
TLM_AVX512 void floatProduct(const float *x, int64_t xStride, int64_t tokens,
                             const uint8_t *weights, int64_t rows,
                             int64_t columns, float *y, int64_t yStride) {
  if (columns % 16)
    __builtin_trap(); // the compiler never selects this kernel then
  const int64_t rowBytes = columns * (F16 ? 2 : 4);
  int64_t r = 0;
  if (tokens == 1)
    for (; r + 2 <= rows; r += 2)
      floatRows<F16, 2>(x, xStride, tokens, weights + r * rowBytes, rowBytes,
                        columns, y + r, yStride);
  for (; r + 4 <= rows; r += 4)
    floatRows<F16, 4>(x, xStride, tokens, weights + r * rowBytes, rowBytes,
                      columns, y + r, yStride);
  for (; r < rows; ++r)
    floatRows<F16, 1>(x, xStride, tokens, weights + r * rowBytes, rowBytes,
                      columns, y + r, yStride);
}

//===- Float panels (codegen/Target/FloatPanels.h) ------------------------===//
//
// A column of a panel is 16 rows' values, f16, bf16 or f32: one load (and
// for f16 a vcvtph2ps, for bf16 a widening and a shift: a bf16 is the top
// half of the f32 it stands for), then per token one FMA with the token's
// input broadcast from memory, into 16 outputs. Register tiling: 8 tokens
// x 2 accumulators (even and odd columns, so one token's chain of FMAs is
// two deep and decode is not bound by their latency; the same split for
// every tile, so results do not depend on how tokens were tiled). Per
// column: 1 load (+ conversion) + T FMAs for 16 x T multiply-adds, no
// horizontal sums (the row-tiled kernel above spends a fifth of its
// instructions on them at 576 columns). Decode streams the panel (32 or 64
// bytes per column), prefetched 4 KiB ahead into L1, or left to the
// hardware prefetchers (Prefetch false: the `_hwprefetch` twins, for CPUs
// that stream faster that way; codegen's prefersHardwarePrefetch). Every
// conversion is exact, so the three compute the same sums of the same
// products: bound by the read bandwidth in decode (2 or 4 bytes per
// multiply-add per token), by FMA throughput in prefill.

constexpr int64_t kPanelRows = 16;
static_assert(kPanelRows == tlmrt::kPaddedPanelRows, "one panel height");
constexpr int kPanelTokens = 8;
constexpr int64_t kPanelPrefetchBytes = 4096;

/// What a panel's values are.
enum class Element { F16, BF16, F32 };

template <Element E>
constexpr int64_t kElementBytes = E == Element::F32 ? 4 : 2;

/// Column `c` of a panel (16 rows' values) as f32.
template <Element E>
TLM_AVX512 __attribute__((always_inline)) inline __m512
loadPanelColumn(const uint8_t *panel, int64_t c) {
  const uint8_t *at = panel + c * kPanelRows * kElementBytes<E>;
  if constexpr (E == Element::F32)
    return _mm512_loadu_ps(at);
  const __m256i halves =
      _mm256_loadu_si256(reinterpret_cast<const __m256i *>(at));
  if constexpr (E == Element::F16)
    return _mm512_cvtph_ps(halves);
  return _mm512_castsi512_ps(
      _mm512_slli_epi32(_mm512_cvtepu16_epi32(halves), 16));
}

/// With Prefetch, asks for the lines of columns c and c + 1 (one line of
/// 2-byte values, two of f32) kPanelPrefetchBytes ahead.
template <Element E, bool Prefetch>
TLM_AVX512 __attribute__((always_inline)) inline void
prefetchColumnPair(const uint8_t *panel, int64_t c) {
  if (!Prefetch)
    return;
  const char *at = reinterpret_cast<const char *>(panel) +
                   c * kPanelRows * kElementBytes<E> + kPanelPrefetchBytes;
  for (int64_t line = 0; line < 2 * kPanelRows * kElementBytes<E>; line += 64)
    _mm_prefetch(at + line, _MM_HINT_T0);
}

template <Element E, bool Prefetch, int T>
TLM_AVX512 void panelTile(const float *x, int64_t xStride,
                          const uint8_t *panel, int64_t columns, float *y,
                          int64_t yStride) {
  __m512 even[T], odd[T];
  for (int t = 0; t < T; ++t)
    even[t] = odd[t] = _mm512_setzero_ps();
  int64_t c = 0;
  for (; c + 2 <= columns; c += 2) {
    prefetchColumnPair<E, Prefetch>(panel, c);
    __m512 w0 = loadPanelColumn<E>(panel, c);
    __m512 w1 = loadPanelColumn<E>(panel, c + 1);
    for (int t = 0; t < T; ++t) {
      even[t] = _mm512_fmadd_ps(w0, _mm512_set1_ps(x[t * xStride + c]),
                                even[t]);
      odd[t] = _mm512_fmadd_ps(w1, _mm512_set1_ps(x[t * xStride + c + 1]),
                               odd[t]);
    }
  }
  if (c < columns) {
    __m512 w0 = loadPanelColumn<E>(panel, c);
    for (int t = 0; t < T; ++t)
      even[t] = _mm512_fmadd_ps(w0, _mm512_set1_ps(x[t * xStride + c]),
                                even[t]);
  }
  for (int t = 0; t < T; ++t)
    _mm512_storeu_ps(y + t * yStride, _mm512_add_ps(even[t], odd[t]));
}

//===- Panel pairs, widened once per call (prefill) ----------------------===//
//
// With several token tiles per call, panelTile converts every column once
// per tile: for f16 a vcvtph2ps (2 uops on the FMA ports) per 8 FMAs.
// Prefill instead widens two panels to f32 once per call, into a stack
// buffer (128 bytes per column: panel p's 16 rows, then panel p + 1's; f32
// panels are copied, so that all three share one tile), and runs register
// tiles of 2 panels x 6 tokens on it: per pair of columns 4 weight loads
// and 12 input broadcasts feed 24 FMAs (panelTile: 2 loads and 16
// broadcasts for 16), 24 accumulators. The same even/odd columns and the
// same FMA order as panelTile, so each output is bitwise what decode
// computes. Roofline: 2 FMAs per cycle (tlmc-kernel-bench's peak/f32_fma);
// measured on f16 1536x576 x 128 tokens, ~1.3x panelTile.

constexpr int kPairTokens = 6;
/// Widest product converted to f32 pairs: 256 KiB of stack.
constexpr int64_t kMaxPairColumns = 2048;

template <int T>
TLM_AVX512 void f32PairTile(const float *x, int64_t xStride,
                            const float *pair, int64_t columns, float *y,
                            int64_t yStride) {
  __m512 even0[T], odd0[T], even1[T], odd1[T];
  for (int t = 0; t < T; ++t)
    even0[t] = odd0[t] = even1[t] = odd1[t] = _mm512_setzero_ps();
  int64_t c = 0;
  for (; c + 2 <= columns; c += 2) {
    const float *at = pair + c * 2 * kPanelRows;
    __m512 w0 = _mm512_load_ps(at), v0 = _mm512_load_ps(at + 16);
    __m512 w1 = _mm512_load_ps(at + 32), v1 = _mm512_load_ps(at + 48);
#pragma clang loop unroll(full)
    for (int t = 0; t < T; ++t) {
      __m512 a = _mm512_set1_ps(x[t * xStride + c]);
      __m512 b = _mm512_set1_ps(x[t * xStride + c + 1]);
      even0[t] = _mm512_fmadd_ps(w0, a, even0[t]);
      odd0[t] = _mm512_fmadd_ps(w1, b, odd0[t]);
      even1[t] = _mm512_fmadd_ps(v0, a, even1[t]);
      odd1[t] = _mm512_fmadd_ps(v1, b, odd1[t]);
    }
  }
  if (c < columns) {
    const float *at = pair + c * 2 * kPanelRows;
    __m512 w0 = _mm512_load_ps(at), v0 = _mm512_load_ps(at + 16);
    for (int t = 0; t < T; ++t) {
      __m512 a = _mm512_set1_ps(x[t * xStride + c]);
      even0[t] = _mm512_fmadd_ps(w0, a, even0[t]);
      even1[t] = _mm512_fmadd_ps(v0, a, even1[t]);
    }
  }
  for (int t = 0; t < T; ++t) {
    _mm512_storeu_ps(y + t * yStride, _mm512_add_ps(even0[t], odd0[t]));
    _mm512_storeu_ps(y + t * yStride + kPanelRows,
                     _mm512_add_ps(even1[t], odd1[t]));
  }
}

/// Panels p and p + 1 (at `panel`) for every token.
template <Element E, bool Prefetch>
TLM_AVX512 void panelPair(const float *x, int64_t xStride, int64_t tokens,
                          const uint8_t *panel, int64_t columns, float *y,
                          int64_t yStride) {
  alignas(64) float pair[2 * kPanelRows * kMaxPairColumns];
  // The widening is where the panels come from memory: prefetched as
  // panelTile does.
  for (int half = 0; half < 2; ++half) {
    const uint8_t *from =
        panel + half * kPanelRows * columns * kElementBytes<E>;
    for (int64_t c = 0; c < columns; ++c) {
      if (c % 2 == 0)
        prefetchColumnPair<E, Prefetch>(from, c);
      _mm512_store_ps(pair + (c * 2 + half) * kPanelRows,
                      loadPanelColumn<E>(from, c));
    }
  }
  int64_t t = 0;
  for (; t + kPairTokens <= tokens; t += kPairTokens)
    f32PairTile<kPairTokens>(x + t * xStride, xStride, pair, columns,
                             y + t * yStride, yStride);
  const float *xt = x + t * xStride;
  float *yt = y + t * yStride;
  switch (tokens - t) {
  case 5:
    return f32PairTile<5>(xt, xStride, pair, columns, yt, yStride);
  case 4:
    return f32PairTile<4>(xt, xStride, pair, columns, yt, yStride);
  case 3:
    return f32PairTile<3>(xt, xStride, pair, columns, yt, yStride);
  case 2:
    return f32PairTile<2>(xt, xStride, pair, columns, yt, yStride);
  case 1:
    return f32PairTile<1>(xt, xStride, pair, columns, yt, yStride);
  default:
    return;
  }
}

template <Element E, bool Prefetch>
TLM_AVX512 void floatPanels(const float *x, int64_t xStride, int64_t tokens,
                            const uint8_t *panels, int64_t rows,
                            int64_t columns, float *y, int64_t yStride) {
  const int64_t panelBytes = kPanelRows * columns * kElementBytes<E>;
  const int64_t whole = rows / kPanelRows;
  int64_t p = 0;
  if (tokens >= kPairTokens && columns <= kMaxPairColumns)
    for (; p + 2 <= whole; p += 2)
      panelPair<E, Prefetch>(x, xStride, tokens, panels + p * panelBytes,
                             columns, y + p * kPanelRows, yStride);
  if (const int64_t rest = rows % kPanelRows) {
    const uint8_t *panel = panels + whole * panelBytes;
    tlmrt::computePaddedPanel(
        rest, tokens, x, xStride, y + whole * kPanelRows, yStride,
        [&](const float *inputs, float *out) {
          panelTile<E, Prefetch, 1>(inputs, xStride, panel, columns, out,
                                    kPanelRows);
        });
  }
  for (; p < whole; ++p) {
    const uint8_t *panel = panels + p * panelBytes;
    float *yp = y + p * kPanelRows;
    int64_t t = 0;
    for (; t + kPanelTokens <= tokens; t += kPanelTokens)
      panelTile<E, Prefetch, kPanelTokens>(x + t * xStride, xStride, panel,
                                           columns, yp + t * yStride, yStride);
    tlmrt::forEachTokenTile(tokens - t, [&](auto tile, int64_t u) {
      panelTile<E, Prefetch, decltype(tile)::value>(
          x + (t + u) * xStride, xStride, panel, columns,
          yp + (t + u) * yStride, yStride);
    });
  }
}

} // namespace

#define TLMRT_FLOAT_PANEL_KERNELS(name, element)                               \
  extern "C" void tlmrt_uk_##name##_avx512(                                    \
      const float *x, int64_t xStride, int64_t tokens, const uint8_t *weights, \
      int64_t rows, int64_t columns, float *y, int64_t yStride) {              \
    floatPanels<element, true>(x, xStride, tokens, weights, rows, columns, y,  \
                               yStride);                                       \
  }                                                                            \
  extern "C" void tlmrt_uk_##name##_avx512_hwprefetch(                         \
      const float *x, int64_t xStride, int64_t tokens, const uint8_t *weights, \
      int64_t rows, int64_t columns, float *y, int64_t yStride) {              \
    floatPanels<element, false>(x, xStride, tokens, weights, rows, columns, y, \
                                yStride);                                      \
  }

TLMRT_FLOAT_PANEL_KERNELS(f16x16, Element::F16)
TLMRT_FLOAT_PANEL_KERNELS(bf16x16, Element::BF16)
TLMRT_FLOAT_PANEL_KERNELS(f32x16, Element::F32)

extern "C" void tlmrt_uk_f16_avx512(const float *x, int64_t xStride,
                                    int64_t tokens, const uint8_t *weights,
                                    int64_t rows, int64_t columns, float *y,
                                    int64_t yStride) {
  floatProduct<true>(x, xStride, tokens, weights, rows, columns, y, yStride);
}

extern "C" void tlmrt_uk_f32_avx512(const float *x, int64_t xStride,
                                    int64_t tokens, const uint8_t *weights,
                                    int64_t rows, int64_t columns, float *y,
                                    int64_t yStride) {
  floatProduct<false>(x, xStride, tokens, weights, rows, columns, y, yStride);
}

#endif // __x86_64__
