//===- ProductKernelsPanelsAVX2.cpp - GGUF blocks in 16-row panels: AVX2 -===//
//
// y = x * W^T for Q8_0 / Q4_0 weights in 16-row panels
// (codegen/Target/GGMLPanels.h) on CPUs with AVX2 but no AVX-512 (AMD Zen
// 2/3, Intel's client cores): the layout, the int8 inputs and the scaling
// of ProductKernelsPanels.cpp's VNNI kernels, so the outputs are bitwise
// theirs, with the dot products built from 256-bit instructions.
//
// A panel block's column group (64 bytes: 16 rows x 4 columns) is two
// registers, rows 0-7 and 8-15. vpmaddubsw multiplies its unsigned bytes
// by a token's 4 signed input bytes broadcast and adds pairs into s16,
// vpmaddwd by ones adds the pairs into one s32 per row: what one vpdpbusd
// lane adds. Q4_0's nibbles (w + 8, at most 15) cannot saturate an s16
// pair (15 x 127 x 2); Q8_0's w + 128 could (255 x 127 x 2), so its bytes
// are turned back into w (xor 0x80) and multiplied as |w| by the inputs
// with w's sign (vpsignb: 128 x 127 x 2 fits), then 128 x the block's
// input sum is added: the same s32 as vpdpbusd on w + 128. Per block and
// token the s32 sums are scaled as the VNNI path does, fma(fma(f32(d),
// scale, correction), row scales, acc), in the same order.
//
// Register tiling: one panel x up to 4 tokens, 2 f32 accumulators (rows
// 0-7, 8-15) per token; each token's block dot reads the panel block from
// L1 again (decode has one token; prefill's tokens reuse the lines the
// first loaded). Per 512 multiply-adds: 16 vpmaddubsw and 16 vpmaddwd
// (Q4_0 also 8 loads and 24 to split nibbles; Q8_0 16 loads and 48 to
// take signs), against 8 vpdpbusd with AVX-512 VNNI. Decode reads each
// weight byte once per token, bound by the read bandwidth, prefetched 8
// KiB ahead into L2 as the VNNI kernels do (or not: the `_hwprefetch`
// entry points). Measured (session 21, a Zen 4 compiled for and run as a
// Haswell, SmolLM2-135M, 1 thread): Q4_0 decode 243 tokens/s, ~18.4 GB/s
// of the 18.7-20.6 the machine read then; prefill ~62 GMAC/s, bound by
// the instructions above (2.0-2.5x llama.cpp's AVX2 decode there, 1.3-1.6x
// its prefill).
//
//===----------------------------------------------------------------------===//

#include "runtime/src/JobInputs.h"
#include "runtime/src/ProductKernels.h"

#if defined(__x86_64__)

#include <immintrin.h>
#include <string.h>

#define TLM_AVX2 __attribute__((target("avx2,fma,f16c")))
#define TLM_AVX2_INLINE TLM_AVX2 __attribute__((always_inline)) inline

namespace {

constexpr int64_t kBlock = 32;
constexpr int64_t kPanelRows = 16;
/// As ProductKernelsPanels.cpp's kStreamPrefetchBytes.
constexpr int64_t kStreamPrefetchBytes = 8192;
/// Tokens per register tile.
constexpr int kTileTokens = 4;
/// Stack budget for quantized inputs outside a job's own (values and 12
/// bytes per block per token).
constexpr int64_t kStackInputBytes = 96 * 1024;

template <bool Q4> constexpr int64_t weightBytes() { return Q4 ? 256 : 512; }
template <bool Q4> constexpr int64_t panelBlockBytes() {
  return weightBytes<Q4>() + 2 * kPanelRows;
}
/// The weights' offset from their signed value.
template <bool Q4> constexpr int32_t weightOffset() { return Q4 ? 8 : 128; }

/// A call's quantized inputs, token after token: `columns` int8 values per
/// token, and per (token, block) the scale, the bias correction
/// -offset x sum(values) x scale (as the VNNI kernels keep them), and, for
/// Q8_0, 128 x sum(values), which turns a dot product on w into one on
/// w + 128.
struct Inputs {
  int8_t *values;
  float *scales;
  float *corrections;
  int32_t *biases;
  int64_t columns, blocks;

  int64_t at(int64_t token, int64_t block) const {
    return token * blocks + block;
  }
};

Inputs layOut(uint8_t *bytes, int64_t tokens, int64_t columns) {
  Inputs in;
  in.columns = columns;
  in.blocks = columns / kBlock;
  in.values = reinterpret_cast<int8_t *>(bytes);
  in.scales = reinterpret_cast<float *>(bytes + tokens * columns);
  in.corrections = in.scales + tokens * in.blocks;
  in.biases = reinterpret_cast<int32_t *>(in.corrections + tokens * in.blocks);
  return in;
}

int64_t laidOutBytes(int64_t tokens, int64_t columns) {
  return tokens * columns + 12 * tokens * (columns / kBlock);
}

/// The largest of 8 floats.
TLM_AVX2_INLINE float maxOf(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_movehdup_ps(m));
  return _mm_cvtss_f32(m);
}

/// The sum of 8 s32.
TLM_AVX2_INLINE int32_t sumOf(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v),
                            _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
  return _mm_cvtsi128_si32(s);
}

/// QuantizeInputs.h's quantizeBlock on 256-bit registers: the same
/// arithmetic (max|x|, its f16 scale, x x 127 / max rounded to nearest
/// even), so the same bytes, scale and sum.
TLM_AVX2_INLINE float quantizeBlock(const float *x, int8_t *q, int32_t &sum) {
  const __m256 signless = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
  __m256 v[4];
  for (int i = 0; i < 4; ++i)
    v[i] = _mm256_loadu_ps(x + 8 * i);
  __m256 magnitude = _mm256_max_ps(
      _mm256_max_ps(_mm256_and_ps(v[0], signless),
                    _mm256_and_ps(v[1], signless)),
      _mm256_max_ps(_mm256_and_ps(v[2], signless),
                    _mm256_and_ps(v[3], signless)));
  float amax = maxOf(magnitude);
  float scale =
      _cvtsh_ss(_cvtss_sh(amax / 127.0f, _MM_FROUND_TO_NEAREST_INT));
  __m256 by = _mm256_set1_ps(amax != 0.0f ? 127.0f / amax : 0.0f);
  __m256i i[4];
  for (int k = 0; k < 4; ++k)
    i[k] = _mm256_cvtps_epi32(_mm256_mul_ps(v[k], by));
  // Packing interleaves the 128-bit lanes; the permute puts the 32 values
  // back in order (all within [-127, 127], so nothing saturates).
  __m256i words = _mm256_packs_epi16(_mm256_packs_epi32(i[0], i[1]),
                                     _mm256_packs_epi32(i[2], i[3]));
  words = _mm256_permutevar8x32_epi32(
      words, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
  _mm256_storeu_si256(reinterpret_cast<__m256i *>(q), words);
  sum = sumOf(_mm256_add_epi32(_mm256_add_epi32(i[0], i[1]),
                               _mm256_add_epi32(i[2], i[3])));
  return scale;
}

/// Quantizes tokens [first, end) of x (row t at x + t * xStride) into `in`.
template <bool Q4>
TLM_AVX2 void quantizeInputs(const float *x, int64_t xStride, int64_t first,
                             int64_t end, const Inputs &in) {
  for (int64_t t = first; t < end; ++t)
    for (int64_t b = 0; b < in.blocks; ++b) {
      int32_t sum;
      float scale = quantizeBlock(x + t * xStride + b * kBlock,
                                  in.values + t * in.columns + b * kBlock, sum);
      in.scales[in.at(t, b)] = scale;
      in.corrections[in.at(t, b)] = scale * float(-weightOffset<Q4>() * sum);
      in.biases[in.at(t, b)] = weightOffset<Q4>() * sum;
    }
}

/// Rows 0-7 (lo) and 8-15 (hi) of a panel block's s32 dot products with
/// one token's 32 inputs `x`: the unsigned weights (as stored) times the
/// inputs, what the VNNI kernels' 8 vpdpbusd add; `bias` is 128 x the
/// inputs' sum (Q8_0).
template <bool Q4>
TLM_AVX2_INLINE void blockDot(const uint8_t *block, const int8_t *x,
                              int32_t bias, __m256i &lo, __m256i &hi) {
  const __m256i ones = _mm256_set1_epi16(1);
  int32_t words[8];
  memcpy(words, x, sizeof(words));
  __m256i sums[2] = {_mm256_setzero_si256(), _mm256_setzero_si256()};
  if (Q4) {
    const __m256i nibble = _mm256_set1_epi8(0x0F);
    for (int g = 0; g < 4; ++g) {
      const __m256i low = _mm256_set1_epi32(words[g]);
      const __m256i high = _mm256_set1_epi32(words[g + 4]);
      for (int half = 0; half < 2; ++half) {
        __m256i packed = _mm256_loadu_si256(
            reinterpret_cast<const __m256i *>(block + 64 * g + 32 * half));
        __m256i w0 = _mm256_and_si256(packed, nibble);
        __m256i w1 = _mm256_and_si256(_mm256_srli_epi16(packed, 4), nibble);
        sums[half] = _mm256_add_epi32(
            sums[half],
            _mm256_add_epi32(
                _mm256_madd_epi16(_mm256_maddubs_epi16(w0, low), ones),
                _mm256_madd_epi16(_mm256_maddubs_epi16(w1, high), ones)));
      }
    }
  } else {
    const __m256i flip = _mm256_set1_epi8(char(0x80));
    for (int g = 0; g < 8; ++g) {
      const __m256i input = _mm256_set1_epi32(words[g]);
      for (int half = 0; half < 2; ++half) {
        __m256i w = _mm256_xor_si256(
            _mm256_loadu_si256(
                reinterpret_cast<const __m256i *>(block + 64 * g + 32 * half)),
            flip);
        __m256i products = _mm256_maddubs_epi16(_mm256_abs_epi8(w),
                                                _mm256_sign_epi8(input, w));
        sums[half] =
            _mm256_add_epi32(sums[half], _mm256_madd_epi16(products, ones));
      }
    }
    const __m256i offset = _mm256_set1_epi32(bias);
    sums[0] = _mm256_add_epi32(sums[0], offset);
    sums[1] = _mm256_add_epi32(sums[1], offset);
  }
  lo = sums[0];
  hi = sums[1];
}

/// acc + dot scaled as the VNNI kernels' scaleDot does.
TLM_AVX2_INLINE __m256 scaleDot(__m256i dot, float scale, float correction,
                                __m256 rowScales, __m256 acc) {
  __m256 scaled = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot),
                                  _mm256_set1_ps(scale),
                                  _mm256_set1_ps(correction));
  return _mm256_fmadd_ps(scaled, rowScales, acc);
}

/// One panel x T tokens from `token`, into y's 16 columns.
template <bool Q4, bool Prefetch, int T>
TLM_AVX2 void panelTile(const uint8_t *panel, const Inputs &in, int64_t token,
                        float *y, int64_t yStride) {
  __m256 acc[T][2];
  for (int t = 0; t < T; ++t)
    acc[t][0] = acc[t][1] = _mm256_setzero_ps();
  for (int64_t b = 0; b < in.blocks; ++b) {
    const uint8_t *block = panel + b * panelBlockBytes<Q4>();
    if (Prefetch)
      for (int64_t line = 0; line < panelBlockBytes<Q4>(); line += 64)
        _mm_prefetch(reinterpret_cast<const char *>(block) +
                         kStreamPrefetchBytes + line,
                     _MM_HINT_T1);
    const uint16_t *scales =
        reinterpret_cast<const uint16_t *>(block + weightBytes<Q4>());
    const __m256 rowScales0 = _mm256_cvtph_ps(
        _mm_loadu_si128(reinterpret_cast<const __m128i *>(scales)));
    const __m256 rowScales1 = _mm256_cvtph_ps(
        _mm_loadu_si128(reinterpret_cast<const __m128i *>(scales + 8)));
    for (int t = 0; t < T; ++t) {
      const int64_t at = in.at(token + t, b);
      __m256i lo, hi;
      blockDot<Q4>(block, in.values + (token + t) * in.columns + b * kBlock,
                   in.biases[at], lo, hi);
      acc[t][0] = scaleDot(lo, in.scales[at], in.corrections[at], rowScales0,
                           acc[t][0]);
      acc[t][1] = scaleDot(hi, in.scales[at], in.corrections[at], rowScales1,
                           acc[t][1]);
    }
  }
  for (int t = 0; t < T; ++t) {
    _mm256_storeu_ps(y + (token + t) * yStride, acc[t][0]);
    _mm256_storeu_ps(y + (token + t) * yStride + 8, acc[t][1]);
  }
}

/// Every panel x the `tokens` tokens `in` holds, into y.
template <bool Q4, bool Prefetch>
TLM_AVX2 void allPanels(const uint8_t *panels, int64_t rows, const Inputs &in,
                        int64_t tokens, float *y, int64_t yStride) {
  const int64_t panelBytes = in.blocks * panelBlockBytes<Q4>();
  for (int64_t p = 0; p < rows / kPanelRows; ++p) {
    const uint8_t *panel = panels + p * panelBytes;
    float *yp = y + p * kPanelRows;
    int64_t t = 0;
    for (; t + kTileTokens <= tokens; t += kTileTokens)
      panelTile<Q4, Prefetch, kTileTokens>(panel, in, t, yp, yStride);
    switch (tokens - t) {
    case 3:
      panelTile<Q4, Prefetch, 3>(panel, in, t, yp, yStride);
      break;
    case 2:
      panelTile<Q4, Prefetch, 2>(panel, in, t, yp, yStride);
      break;
    case 1:
      panelTile<Q4, Prefetch, 1>(panel, in, t, yp, yStride);
      break;
    default:
      break;
    }
  }
}

template <bool Q4, bool Prefetch>
TLM_AVX2 void productPanels(const float *x, int64_t xStride, int64_t tokens,
                            const uint8_t *panels, int64_t rows,
                            int64_t columns, float *y, int64_t yStride) {
  if (columns % kBlock || rows % kPanelRows ||
      laidOutBytes(1, columns) > kStackInputBytes)
    __builtin_trap(); // the compiler never packs or calls such a weight
  constexpr int kFormat = 4 | (Q4 ? 1 : 0); // apart from the VNNI layouts
  // Inside a parallel job, a chunk's inputs are quantized once by the
  // job's threads together, into the pool's JobInputs, as the VNNI
  // kernels do (JobInputs.h): per call, each of a thread's takes quantized
  // the whole chunk again.
  tlmrt::JobInputs *shared = tlmrt::currentJobInputs();
  if (shared && tokens >= 2 * tlmrt::kJobInputSlice &&
      laidOutBytes(tokens, columns) <= tlmrt::kJobInputBytes) {
    const int64_t slices =
        (tokens + tlmrt::kJobInputSlice - 1) / tlmrt::kJobInputSlice;
    if (shared->claim({x, xStride, tokens, columns, kFormat}, slices)) {
      Inputs in = layOut(shared->bytes, tokens, columns);
      shared->quantizeShared([&](int64_t slice) {
        const int64_t first = slice * tlmrt::kJobInputSlice;
        const int64_t end = first + tlmrt::kJobInputSlice;
        quantizeInputs<Q4>(x, xStride, first, end < tokens ? end : tokens, in);
      });
      allPanels<Q4, Prefetch>(panels, rows, in, tokens, y, yStride);
      return;
    }
  }
  // A job's small calls (decode): once per thread and job, into the
  // thread's own inputs, which its later calls of the job on the same
  // input reuse (JobInputs.h).
  tlmrt::ThreadInputs *own = tlmrt::currentThreadInputs();
  if (own && laidOutBytes(tokens, columns) <= tlmrt::kThreadInputBytes) {
    Inputs in = layOut(own->bytes, tokens, columns);
    if (!own->holds({x, xStride, tokens, columns, kFormat},
                    tlmrt::currentJobId()))
      quantizeInputs<Q4>(x, xStride, 0, tokens, in);
    allPanels<Q4, Prefetch>(panels, rows, in, tokens, y, yStride);
    return;
  }
  // Otherwise in groups of tokens that fit the stack.
  alignas(64) uint8_t storage[kStackInputBytes];
  const int64_t group = kStackInputBytes / laidOutBytes(1, columns);
  for (int64_t t0 = 0; t0 < tokens; t0 += group) {
    const int64_t n = tokens - t0 < group ? tokens - t0 : group;
    Inputs in = layOut(storage, n, columns);
    quantizeInputs<Q4>(x + t0 * xStride, xStride, 0, n, in);
    allPanels<Q4, Prefetch>(panels, rows, in, n, y + t0 * yStride, yStride);
  }
}

} // namespace

#define TLMRT_PANEL_KERNEL(NAME, Q4, PREFETCH)                                 \
  extern "C" void NAME(const float *x, int64_t xStride, int64_t tokens,        \
                       const uint8_t *blocks, int64_t rows, int64_t columns,   \
                       float *y, int64_t yStride) {                            \
    productPanels<Q4, PREFETCH>(x, xStride, tokens, blocks, rows, columns, y,  \
                                yStride);                                      \
  }
TLMRT_PANEL_KERNEL(tlmrt_uk_q8_0x16_avx2, false, true)
TLMRT_PANEL_KERNEL(tlmrt_uk_q4_0x16_avx2, true, true)
TLMRT_PANEL_KERNEL(tlmrt_uk_q8_0x16_avx2_hwprefetch, false, false)
TLMRT_PANEL_KERNEL(tlmrt_uk_q4_0x16_avx2_hwprefetch, true, false)
#undef TLMRT_PANEL_KERNEL

#endif // __x86_64__
