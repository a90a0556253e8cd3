//===- ProductKernelsAVX512.cpp - GGUF block products with AVX-512 VNNI -----===//
//
// y = x * W^T for GGUF Q8_0 / Q4_0 weights W read in place (34- or 18-byte
// blocks of 32 weights with an f16 scale), with the inputs quantized to int8
// per 32-column block the way llama.cpp's q8_0 activations are (scale
// max|x| / 127 kept as f16, values x * 127 / max|x| rounded to nearest
// even), so every product is an integer dot product.
//
// Built around vpdpbusd (u8 x s8 -> s32, 64 multiply-adds per instruction):
// weights are offset to w + 128 (unsigned) as they are loaded; the bias that
// adds, 128 * sum(x), is removed by starting each dot product from -128 x the
// input's lane sums, computed once when the input is quantized.
//
// Register tiling: 4 output rows x up to 4 tokens (2 rows for one token),
// 64 columns (two blocks) per step: 16 f32 accumulators, 4 weight registers
// with their scales; per token one input register, its scales and its bias
// correction. Per (row, token, 64 columns): one vpdpbusd, one conversion,
// one multiply for the two blocks' scales, one FMA. Weight bytes are loaded
// once per row tile and reused by every token (prefill); decode (one token)
// is bound by reading them, with a software prefetch 2 KiB ahead in each row
// (measured: ~1.3x from DRAM over none or 512 B).
//
// Measured against: decode reads each weight byte once per token, so its
// roofline is the weight bytes / read bandwidth `tlmc-membw` measures
// (utils/bench/vs-llamacpp.sh prints the percentage); prefill is bound by
// vpdpbusd throughput (one or two per cycle per core).
//
//===----------------------------------------------------------------------===//

#include "runtime/src/ProductKernels.h"
#include "runtime/src/QuantizeInputs.h"
#include "runtime/src/TokenTiles.h"

#if defined(__x86_64__)

#include <immintrin.h>
#include <string.h>

namespace {

constexpr int64_t kBlock = 32;
/// Bytes of quantized input per token and 64 columns: 64 values, 16 scales.
constexpr int64_t kPairBytes = 64;
constexpr int64_t kPairScales = 16;
/// The stack budget for quantized inputs: values, scales, corrections.
constexpr int64_t kQuantizedBytes = 3 * TLMRT_UK_MAX_COLUMNS;
/// How far ahead of the block it reads a row's bytes are prefetched.
constexpr int64_t kPrefetchBytes = 2048;

/// A call's quantized inputs, on its stack (quantizeInputs' layout).
struct QuantizedInputs {
  alignas(64) int8_t values[kQuantizedBytes / 3];
  alignas(64) float scales[kQuantizedBytes / 12];
  alignas(64) int32_t corrections[kQuantizedBytes / 12];
};

/// How many tokens' quantized inputs of `pairs` column pairs fit in
/// QuantizedInputs (0: not even one).
inline int64_t tokensPerQuantizedGroup(int64_t pairs) {
  const int64_t bytesPerToken = pairs * (kPairBytes + 2 * kPairScales * 4);
  return bytesPerToken > kQuantizedBytes ? 0 : kQuantizedBytes / bytesPerToken;
}

template <bool Q4> constexpr int64_t blockBytes() { return Q4 ? 18 : 34; }

/// Quantizes `tokens` rows of x into q (signed, 64 bytes per column pair),
/// d (each block's scale over the 8 lanes its dot product lands in) and c
/// (-128 x the sum of each lane's 4 inputs: the bias vpdpbusd's unsigned
/// weights add, removed by starting the dot product from it). An odd last
/// block is padded with zeros.
TLM_VNNI void quantizeInputs(const float *x, int64_t xStride, int64_t tokens,
                             int64_t columns, int8_t *q, float *d,
                             int32_t *c) {
  const int64_t blocks = columns / kBlock, pairs = (blocks + 1) / 2;
  for (int64_t t = 0; t < tokens; ++t) {
    const float *row = x + t * xStride;
    int8_t *qt = q + t * pairs * kPairBytes;
    float *dt = d + t * pairs * kPairScales;
    for (int64_t b = 0; b < 2 * pairs; ++b) {
      if (b == blocks) { // the padding block of an odd count
        memset(qt + b * kBlock, 0, kBlock);
        _mm256_storeu_ps(dt + b * 8, _mm256_setzero_ps());
        continue;
      }
      int32_t unused;
      float scale =
          tlmrt::quantizeBlock(row + b * kBlock, qt + b * kBlock, unused);
      _mm256_storeu_ps(dt + b * 8, _mm256_set1_ps(scale));
    }
    int32_t *ct = c + t * pairs * kPairScales;
    for (int64_t p = 0; p < pairs; ++p) {
      __m512i values = _mm512_loadu_si512(qt + p * kPairBytes);
      __m512i sums = _mm512_dpbusd_epi32(_mm512_setzero_si512(),
                                         _mm512_set1_epi8(1), values);
      _mm512_storeu_si512(ct + p * kPairScales,
                          _mm512_sub_epi32(_mm512_setzero_si512(),
                                           _mm512_slli_epi32(sums, 7)));
    }
  }
}

/// Weights of blocks `block` and `block + 1` of a row as 64 bytes w + 128
/// (only `block` when !two: the upper 32 are zero weights), and their
/// scales as 16 f32 lanes (8 per block).
template <bool Q4>
TLM_VNNI_INLINE void loadWeights(const uint8_t *row, int64_t block, bool two,
                                 __m512i &w, __m512 &scale) {
  const uint8_t *b0 = row + block * blockBytes<Q4>();
  const uint8_t *b1 = b0 + blockBytes<Q4>();
  uint16_t h0, h1 = 0;
  memcpy(&h0, b0, 2);
  if (two)
    memcpy(&h1, b1, 2);
  scale = _mm512_cvtph_ps(_mm256_inserti128_si256(
      _mm256_castsi128_si256(_mm_set1_epi16(static_cast<short>(h0))),
      _mm_set1_epi16(static_cast<short>(h1)), 1));
  if (!Q4) {
    __m256i lo = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(b0 + 2));
    __m256i hi = two ? _mm256_loadu_si256(
                           reinterpret_cast<const __m256i *>(b1 + 2))
                     : _mm256_setzero_si256();
    w = _mm512_xor_si512(_mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1),
                         _mm512_set1_epi8(static_cast<char>(0x80)));
  } else {
    // 16 bytes of nibbles per block: low nibbles are its first 16 weights,
    // high nibbles the next 16, both biased by 8 (0x88 pads to zeros);
    // w + 128 is the nibble + 120.
    __m128i p0 = _mm_loadu_si128(reinterpret_cast<const __m128i *>(b0 + 2));
    __m128i p1 = two ? _mm_loadu_si128(reinterpret_cast<const __m128i *>(b1 + 2))
                     : _mm_set1_epi8(static_cast<char>(0x88));
    __m256i packed = _mm256_inserti128_si256(_mm256_castsi128_si256(p0), p1, 1);
    __m256i mask = _mm256_set1_epi8(0x0F);
    __m256i low = _mm256_and_si256(packed, mask);
    __m256i high = _mm256_and_si256(_mm256_srli_epi16(packed, 4), mask);
    // [b0 low, b1 low, b0 high, b1 high] -> [b0 low, b0 high, b1 low, b1 high]
    __m512i z = _mm512_inserti64x4(_mm512_castsi256_si512(low), high, 1);
    z = _mm512_shuffle_i64x2(z, z, _MM_SHUFFLE(3, 1, 2, 0));
    w = _mm512_add_epi8(z, _mm512_set1_epi8(120));
  }
  // The next rows' bytes are other streams: ask for this one's ahead.
  _mm_prefetch(reinterpret_cast<const char *>(b0) + kPrefetchBytes,
               _MM_HINT_T0);
}

/// One 64-column step of an R x T tile: blocks 2 * pair (and 2 * pair + 1
/// when `two`) of R rows against T tokens.
template <bool Q4, int R, int T>
TLM_VNNI_INLINE void tileStep(const uint8_t *rows, int64_t rowBytes,
                              int64_t pair, bool two, const int8_t *q,
                              const float *d, const int32_t *c, int64_t pairs,
                              __m512 (&acc)[R][T]) {
  __m512i w[R];
  __m512 scale[R];
  for (int r = 0; r < R; ++r)
    loadWeights<Q4>(rows + r * rowBytes, 2 * pair, two, w[r], scale[r]);
  for (int t = 0; t < T; ++t) {
    __m512i xq = _mm512_loadu_si512(q + (t * pairs + pair) * kPairBytes);
    __m512 dx = _mm512_loadu_ps(d + (t * pairs + pair) * kPairScales);
    __m512i bias = _mm512_loadu_si512(c + (t * pairs + pair) * kPairScales);
    for (int r = 0; r < R; ++r) {
      __m512i dot = _mm512_dpbusd_epi32(bias, w[r], xq);
      acc[r][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot),
                                  _mm512_mul_ps(scale[r], dx), acc[r][t]);
    }
  }
}

/// R output rows x T tokens over all columns.
template <bool Q4, int R, int T>
TLM_VNNI void productTile(const uint8_t *rows, int64_t rowBytes,
                          int64_t blocks, const int8_t *q, const float *d,
                          const int32_t *c, int64_t pairs, float *y,
                          int64_t yStride) {
  __m512 acc[R][T];
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < T; ++t)
      acc[r][t] = _mm512_setzero_ps();
  const int64_t full = blocks / 2;
  for (int64_t pair = 0; pair < full; ++pair)
    tileStep<Q4, R, T>(rows, rowBytes, pair, true, q, d, c, pairs, acc);
  if (blocks % 2)
    tileStep<Q4, R, T>(rows, rowBytes, full, false, q, d, c, pairs, acc);
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < T; ++t)
      y[t * yStride + r] = _mm512_reduce_add_ps(acc[r][t]);
}

template <bool Q4, int R>
TLM_VNNI void productRows(const uint8_t *rows, int64_t rowBytes,
                          int64_t blocks, const int8_t *q, const float *d,
                          const int32_t *c, int64_t pairs, int64_t tokens,
                          float *y, int64_t yStride) {
  tlmrt::forEachTokenTile(tokens, [&](auto tile, int64_t t) {
    productTile<Q4, R, decltype(tile)::value>(
        rows, rowBytes, blocks, q + t * pairs * kPairBytes,
        d + t * pairs * kPairScales, c + t * pairs * kPairScales, pairs,
        y + t * yStride, yStride);
  });
}

template <bool Q4>
TLM_VNNI void product(const float *x, int64_t xStride, int64_t tokens,
                      const uint8_t *blocks, int64_t rows, int64_t columns,
                      float *y, int64_t yStride) {
  const int64_t blockCount = columns / kBlock;
  const int64_t pairs = (blockCount + 1) / 2;
  const int64_t rowBytes = blockCount * blockBytes<Q4>();
  QuantizedInputs in;
  const int64_t group = tokensPerQuantizedGroup(pairs);
  int8_t *q = in.values;
  float *d = in.scales;
  int32_t *c = in.corrections;
  if (group == 0 || columns % kBlock)
    __builtin_trap(); // the compiler never selects this kernel then
  for (int64_t t0 = 0; t0 < tokens; t0 += group) {
    const int64_t n = tokens - t0 < group ? tokens - t0 : group;
    quantizeInputs(x + t0 * xStride, xStride, n, columns, q, d, c);
    float *yt = y + t0 * yStride;
    int64_t r = 0;
    // One token (decode) streams the weights: two rows at a time keep the
    // streams few (measured: 2 rows ~25% faster than 4 from DRAM). Several
    // tokens reuse each weight register: four rows share each input load.
    if (n == 1)
      for (; r + 2 <= rows; r += 2)
        productRows<Q4, 2>(blocks + r * rowBytes, rowBytes, blockCount, q, d,
                           c, pairs, n, yt + r, yStride);
    for (; r + 4 <= rows; r += 4)
      productRows<Q4, 4>(blocks + r * rowBytes, rowBytes, blockCount, q, d,
                         c, pairs, n, yt + r, yStride);
    for (; r < rows; ++r)
      productRows<Q4, 1>(blocks + r * rowBytes, rowBytes, blockCount, q, d,
                         c, pairs, n, yt + r, yStride);
  }
}

} // namespace

extern "C" void tlmrt_uk_q8_0_avx512vnni(const float *x, int64_t xStride,
                                         int64_t tokens, const uint8_t *blocks,
                                         int64_t rows, int64_t columns,
                                         float *y, int64_t yStride) {
  product<false>(x, xStride, tokens, blocks, rows, columns, y, yStride);
}

extern "C" void tlmrt_uk_q4_0_avx512vnni(const float *x, int64_t xStride,
                                         int64_t tokens, const uint8_t *blocks,
                                         int64_t rows, int64_t columns,
                                         float *y, int64_t yStride) {
  product<true>(x, xStride, tokens, blocks, rows, columns, y, yStride);
}

#endif // __x86_64__
