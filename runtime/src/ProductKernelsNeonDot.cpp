//===- ProductKernelsNeonDot.cpp - GGUF block products with AArch64 SDOT/SMMLA ===//
//
// y = x * W^T for GGUF Q8_0 / Q4_0 weights W read in place (34- or 18-byte
// blocks of 32 weights with an f16 scale), with the inputs quantized to int8
// per 32-column block exactly as the x86 kernels and llama.cpp do (scale
// max|x| / 127 kept as f16, values x * 127 / max|x| rounded to nearest
// even), so every block product is an integer dot product.
//
// Built around sdot (Armv8.2 dotprod, `vdotq_s32`: 16 s8 x s8 products
// summed into 4 s32 lanes per instruction): a 32-value block is two sdot.
// Weights and inputs are both signed, so no bias correction is needed (x86's
// vpdpbusd needs one). Register tiling: 4 output rows x 1 token per step:
// 2 input registers, 2 weight registers per row, an s32 accumulator per row
// reduced per block (vaddvq) and scaled into the row's f32 sum. Per (row,
// token, block): two sdot, one reduction, one conversion and one FMA. The
// inputs of a group of tokens are quantized first; each 4-row tile then
// runs over every token of the group while its weights are in L1.
//
// With i8mm (the _neoni8mm entry points), prefill pairs 2 rows with 2
// tokens on smmla (a 2x8 by 8x2 s8 product into a 2x2 s32 tile): four per
// block instead of eight sdot, the same integer sums, the same fused
// scaling, so the same bits as the sdot path (decode, and odd rows/tokens).
//
// Measured against: nothing yet. Decode reads each weight byte once per
// token, so on a device it is bound by memory bandwidth (weight bytes per
// token / read bandwidth); prefill by sdot/smmla throughput. No AArch64
// hardware is available here: only correctness is checked, under qemu-user
// (test/e2e/cross.py), where speed means nothing.
//
//===----------------------------------------------------------------------===//

#include "runtime/src/ProductKernels.h"

#if defined(__aarch64__)

#include <arm_neon.h>
#include <string.h>

#define TLM_DOTPROD __attribute__((target("dotprod")))
#define TLM_I8MM __attribute__((target("dotprod,i8mm")))

namespace {

constexpr int64_t kBlock = 32;
/// The stack budget for one group of tokens' quantized inputs.
constexpr int64_t kQuantizedBytes = 64 * 1024;

template <bool Q4> constexpr int64_t blockBytes() { return Q4 ? 18 : 34; }

inline float halfToFloat(const uint8_t *p) {
  __fp16 h;
  memcpy(&h, p, 2);
  return float(h);
}

/// Quantizes one 32-column block: q gets the values, the result is the
/// f16-exact scale.
inline float quantizeBlock(const float *x, int8_t *q) {
  float32x4_t v[8];
  float32x4_t magnitude = vdupq_n_f32(0.0f);
  for (int i = 0; i < 8; ++i) {
    v[i] = vld1q_f32(x + 4 * i);
    magnitude = vmaxq_f32(magnitude, vabsq_f32(v[i]));
  }
  float amax = vmaxvq_f32(magnitude);
  float scale = float(__fp16(amax / 127.0f)); // round to nearest even
  float32x4_t by = vdupq_n_f32(amax != 0.0f ? 127.0f / amax : 0.0f);
  for (int i = 0; i < 8; i += 2) {
    // vcvtnq: round to nearest, ties to even, as x86's default mode.
    int32x4_t a = vcvtnq_s32_f32(vmulq_f32(v[i], by));
    int32x4_t b = vcvtnq_s32_f32(vmulq_f32(v[i + 1], by));
    int16x8_t ab = vcombine_s16(vmovn_s32(a), vmovn_s32(b));
    vst1_s8(q + 4 * i, vmovn_s16(ab));
  }
  return scale;
}

/// A block's 32 weights as two signed registers (Q4_0: low nibbles are the
/// first 16, high nibbles the next 16, both biased by 8).
template <bool Q4>
inline void loadWeights(const uint8_t *block, int8x16_t &w0, int8x16_t &w1) {
  if (!Q4) {
    w0 = vld1q_s8(reinterpret_cast<const int8_t *>(block + 2));
    w1 = vld1q_s8(reinterpret_cast<const int8_t *>(block + 18));
    return;
  }
  uint8x16_t packed = vld1q_u8(block + 2);
  int8x16_t eight = vdupq_n_s8(8);
  w0 = vsubq_s8(vreinterpretq_s8_u8(vandq_u8(packed, vdupq_n_u8(0x0F))),
                eight);
  w1 = vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(packed, 4)), eight);
}

/// R rows (R <= 4) against one token's quantized inputs.
template <bool Q4, int R>
TLM_DOTPROD void productRows(const uint8_t *rows, int64_t rowBytes,
                             int64_t blocks, const int8_t *q, const float *d,
                             float *y) {
  float sums[4] = {0, 0, 0, 0};
  for (int64_t b = 0; b < blocks; ++b) {
    int8x16_t x0 = vld1q_s8(q + b * kBlock);
    int8x16_t x1 = vld1q_s8(q + b * kBlock + 16);
    for (int r = 0; r < R; ++r) {
      const uint8_t *block = rows + r * rowBytes + b * blockBytes<Q4>();
      int8x16_t w0, w1;
      loadWeights<Q4>(block, w0, w1);
      int32x4_t dot = vdotq_s32(vdotq_s32(vdupq_n_s32(0), w0, x0), w1, x1);
      sums[r] = __builtin_fmaf(float(vaddvq_s32(dot)),
                               halfToFloat(block) * d[b], sums[r]);
    }
  }
  for (int r = 0; r < R; ++r)
    y[r] = sums[r];
}

/// 16 columns of 2 rows (r0, r1) x 2 tokens (x0, x1) added to `dot`: per
/// 8 columns the rows' weights side by side, the tokens' likewise, one
/// smmla.
TLM_I8MM __attribute__((always_inline)) inline int32x4_t
mmla16(int32x4_t dot, int8x16_t r0, int8x16_t r1, const int8_t *x0,
       const int8_t *x1) {
  int64x2_t a = vreinterpretq_s64_s8(r0), c = vreinterpretq_s64_s8(r1);
  int8x16_t lo = vreinterpretq_s8_s64(vzip1q_s64(a, c));
  int8x16_t hi = vreinterpretq_s8_s64(vzip2q_s64(a, c));
  int8x16_t xlo = vcombine_s8(vld1_s8(x0), vld1_s8(x1));
  int8x16_t xhi = vcombine_s8(vld1_s8(x0 + 8), vld1_s8(x1 + 8));
  return vmmlaq_s32(vmmlaq_s32(dot, lo, xlo), hi, xhi);
}

/// 2 rows x 2 tokens with smmla (i8mm: a 2x8 by 8x2 int8 product into a
/// 2x2 s32 tile per instruction, four per block). Each (row, token) sum is
/// the same integer as sdot's and is scaled by the same fused multiply-add,
/// so the results equal productRows' bit for bit (prefill = decode).
template <bool Q4>
TLM_I8MM void productPair(const uint8_t *rows, int64_t rowBytes,
                          int64_t blocks, const int8_t *q0, const int8_t *q1,
                          const float *d0, const float *d1, float *y0,
                          float *y1) {
  float32x4_t sums = vdupq_n_f32(0.0f); // (r0 t0, r0 t1, r1 t0, r1 t1)
  for (int64_t b = 0; b < blocks; ++b) {
    const uint8_t *block0 = rows + b * blockBytes<Q4>();
    const uint8_t *block1 = block0 + rowBytes;
    int8x16_t w00, w01, w10, w11;
    loadWeights<Q4>(block0, w00, w01);
    loadWeights<Q4>(block1, w10, w11);
    int32x4_t dot = vdupq_n_s32(0);
    dot = mmla16(dot, w00, w10, q0 + b * kBlock, q1 + b * kBlock);
    dot = mmla16(dot, w01, w11, q0 + b * kBlock + 16, q1 + b * kBlock + 16);
    float s0 = halfToFloat(block0), s1 = halfToFloat(block1);
    float scales[4] = {s0 * d0[b], s0 * d1[b], s1 * d0[b], s1 * d1[b]};
    sums = vfmaq_f32(sums, vcvtq_f32_s32(dot), vld1q_f32(scales));
  }
  y0[0] = vgetq_lane_f32(sums, 0);
  y1[0] = vgetq_lane_f32(sums, 1);
  y0[1] = vgetq_lane_f32(sums, 2);
  y1[1] = vgetq_lane_f32(sums, 3);
}

template <bool Q4, bool I8MM>
TLM_DOTPROD void product(const float *x, int64_t xStride, int64_t tokens,
                         const uint8_t *weights, int64_t rows, int64_t columns,
                         float *y, int64_t yStride) {
  const int64_t blocks = columns / kBlock;
  const int64_t rowBytes = blocks * blockBytes<Q4>();
  // Columns are at most TLMRT_UK_MAX_COLUMNS <= kQuantizedBytes: a group
  // holds at least one token.
  static_assert(TLMRT_UK_MAX_COLUMNS <= kQuantizedBytes, "one token fits");
  const int64_t group = kQuantizedBytes / columns;
  alignas(16) int8_t values[kQuantizedBytes];
  alignas(16) float scales[kQuantizedBytes / kBlock];
  for (int64_t t0 = 0; t0 < tokens; t0 += group) {
    const int64_t count = tokens - t0 < group ? tokens - t0 : group;
    for (int64_t t = 0; t < count; ++t)
      for (int64_t b = 0; b < blocks; ++b)
        scales[t * blocks + b] =
            quantizeBlock(x + (t0 + t) * xStride + b * kBlock,
                          values + t * columns + b * kBlock);
    int64_t pairedTokens = 0;
    if constexpr (I8MM) {
      // Pairs of rows against pairs of tokens on smmla; an odd last row of
      // those tokens, and an odd last token, on sdot (the same results).
      pairedTokens = count & ~int64_t(1);
      const int64_t pairedRows = rows & ~int64_t(1);
      for (int64_t r = 0; r < pairedRows; r += 2)
        for (int64_t t = 0; t < pairedTokens; t += 2)
          productPair<Q4>(weights + r * rowBytes, rowBytes, blocks,
                          values + t * columns, values + (t + 1) * columns,
                          scales + t * blocks, scales + (t + 1) * blocks,
                          y + (t0 + t) * yStride + r,
                          y + (t0 + t + 1) * yStride + r);
      if (rows != pairedRows)
        for (int64_t t = 0; t < pairedTokens; ++t)
          productRows<Q4, 1>(weights + pairedRows * rowBytes, rowBytes,
                             blocks, values + t * columns, scales + t * blocks,
                             y + (t0 + t) * yStride + pairedRows);
    }
    for (int64_t r = 0; r < rows; r += 4) {
      const uint8_t *tile = weights + r * rowBytes;
      for (int64_t t = pairedTokens; t < count; ++t) {
        const int8_t *q = values + t * columns;
        const float *d = scales + t * blocks;
        float *out = y + (t0 + t) * yStride + r;
        switch (rows - r < 4 ? rows - r : 4) {
        case 4: productRows<Q4, 4>(tile, rowBytes, blocks, q, d, out); break;
        case 3: productRows<Q4, 3>(tile, rowBytes, blocks, q, d, out); break;
        case 2: productRows<Q4, 2>(tile, rowBytes, blocks, q, d, out); break;
        default: productRows<Q4, 1>(tile, rowBytes, blocks, q, d, out); break;
        }
      }
    }
  }
}

} // namespace

#define TLMRT_NEON_KERNEL(name, q4, i8mm)                                      \
  extern "C" void name(const float *x, int64_t xStride, int64_t tokens,        \
                       const uint8_t *blocks, int64_t rows, int64_t columns,   \
                       float *y, int64_t yStride) {                            \
    product<q4, i8mm>(x, xStride, tokens, blocks, rows, columns, y, yStride);  \
  }
TLMRT_NEON_KERNEL(tlmrt_uk_q8_0_neondot, false, false)
TLMRT_NEON_KERNEL(tlmrt_uk_q4_0_neondot, true, false)
TLMRT_NEON_KERNEL(tlmrt_uk_q8_0_neoni8mm, false, true)
TLMRT_NEON_KERNEL(tlmrt_uk_q4_0_neoni8mm, true, true)

#endif // __aarch64__
