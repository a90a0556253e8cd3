//===- ProductKernelsFloatAVX512.cpp - f16/f32 weight products, AVX-512 ---===//
//
// y = x * W^T for f16 (F16C conversion) or f32 weights, f32 inputs and
// sums: the contract of runtime/src/ProductKernels.h, with `weights` the
// first output row's `columns` values, rows contiguous.
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

} // namespace

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
