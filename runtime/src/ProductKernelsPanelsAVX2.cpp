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
// Register tiling: one panel x up to 4 (Q4_0) or 3 (Q8_0) tokens, a half
// panel (8 rows) at a time over all the blocks for prefill, one f32
// accumulator per token; each weight register is loaded once per block and
// half and used by every token of the tile (its nibbles split, or its sign
// taken, once). Q4_0 adds a token's vpmaddubsw pairs in s16 and widens
// them once per half block (one vpmaddwd where there were 8). Per 512
// multiply-adds and token: 16 vpmaddubsw, 16 broadcast input words and
// (Q4_0) 16 vpaddw + 2 vpmaddwd or (Q8_0) 16 vpsignb + 16 vpmaddwd + 16
// vpaddd, plus the weights' 32 (Q4_0) or 48 (Q8_0) load, split and sign
// instructions shared by the tile's tokens, against 8 vpdpbusd with
// AVX-512 VNNI. llvm-mca (znver3) puts the inner loops at 1.07 (Q4_0) and
// 1.7 (Q8_0) cycles per vpmaddubsw. Decode reads each weight byte once per
// token, bound by the read bandwidth, prefetched 8 KiB ahead into L2 as
// the VNNI kernels do (or not: the `_hwprefetch` entry points). Measured
// (session 21, a Zen 4 compiled for and run as a Haswell, SmolLM2-135M, 1
// thread): Q4_0 decode 243 tokens/s, ~18.4 GB/s of the 18.7-20.6 the
// machine read then. Prefill, session 22, against session 21's tiles (each
// token's block dot reloaded and re-split the weights): pp128 Q4_0 1.18x
// on 1 thread (5 of 6 alternations) and 1.22x on 2 (3 of 4), Q8_0 1.13x
// (6 of 6) and 1.14x (4 of 4), the logits bitwise the same.
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
/// Tokens per register tile (llvm-mca -mcpu=znver3 on the inner loops,
/// cycles per vpmaddubsw: Q4_0 1.07 at 4 tokens, 1.10 at 3; Q8_0, which
/// keeps a sign per token and its s32 sums, 1.71 at 3 and 1.91 at 4,
/// where its registers spill).
template <bool Q4> constexpr int tileTokens() { return Q4 ? 4 : 3; }
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

/// acc + dot scaled as the VNNI kernels' scaleDot does.
TLM_AVX2_INLINE __m256 scaleDot(__m256i dot, float scale, float correction,
                                __m256 rowScales, __m256 acc) {
  __m256 scaled = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot),
                                  _mm256_set1_ps(scale),
                                  _mm256_set1_ps(correction));
  return _mm256_fmadd_ps(scaled, rowScales, acc);
}

/// Input columns 4g..4g+3 of `x` in every 32-bit lane.
TLM_AVX2_INLINE __m256i inputWord(const int8_t *x, int g) {
  int32_t word;
  memcpy(&word, x + 4 * g, 4);
  return _mm256_set1_epi32(word);
}

/// Half `half` (rows 0-7 or 8-15) of a panel block's s32 dot products with
/// T tokens' 32 inputs (token t's at x + t * columns): the unsigned weights
/// as stored times the inputs, what the VNNI kernels' 8 vpdpbusd add per
/// token. Each weight register is loaded (and its nibbles split, or its
/// sign taken) once for the T tokens.
///
/// Q4_0 sums a token's 16 vpmaddubsw pairs in s16 and widens once per
/// half: a pair is at most 2 x 15 x 127 = 3810 (inputs are within +-127,
/// QuantizeInputs.h), 8 of them 30480, under 2^15, so nothing saturates or
/// wraps and the s32 sums are the same integers (one vpmaddwd per half
/// instead of 8). Q8_0's pairs reach 2 x 128 x 127 and are widened each.
template <bool Q4, int T>
TLM_AVX2_INLINE void halfBlockDots(const uint8_t *block, int half,
                                   const int8_t *x, int64_t columns,
                                   __m256i (&dot)[T]) {
  const __m256i ones = _mm256_set1_epi16(1);
  const uint8_t *at = block + 32 * half;
  if (Q4) {
    const __m256i nibble = _mm256_set1_epi8(0x0F);
    __m256i pairs[T];
    for (int t = 0; t < T; ++t)
      pairs[t] = _mm256_setzero_si256();
    for (int g = 0; g < 4; ++g) {
      __m256i packed =
          _mm256_loadu_si256(reinterpret_cast<const __m256i *>(at + 64 * g));
      __m256i w0 = _mm256_and_si256(packed, nibble);
      __m256i w1 = _mm256_and_si256(_mm256_srli_epi16(packed, 4), nibble);
      for (int t = 0; t < T; ++t)
        pairs[t] = _mm256_add_epi16(
            pairs[t],
            _mm256_add_epi16(
                _mm256_maddubs_epi16(w0, inputWord(x + t * columns, g)),
                _mm256_maddubs_epi16(w1, inputWord(x + t * columns, g + 4))));
    }
    for (int t = 0; t < T; ++t)
      dot[t] = _mm256_madd_epi16(pairs[t], ones);
  } else {
    const __m256i flip = _mm256_set1_epi8(char(0x80));
    for (int t = 0; t < T; ++t)
      dot[t] = _mm256_setzero_si256();
    for (int g = 0; g < 8; ++g) {
      __m256i w = _mm256_xor_si256(
          _mm256_loadu_si256(reinterpret_cast<const __m256i *>(at + 64 * g)),
          flip);
      __m256i magnitude = _mm256_abs_epi8(w);
      for (int t = 0; t < T; ++t)
        dot[t] = _mm256_add_epi32(
            dot[t], _mm256_madd_epi16(
                        _mm256_maddubs_epi16(
                            magnitude,
                            _mm256_sign_epi8(inputWord(x + t * columns, g), w)),
                        ones));
    }
  }
}

/// Adds half `half` of block `b` of a panel, its 8 rows' products with T
/// tokens from `token` scaled, to acc (one register per token).
template <bool Q4, int T>
TLM_AVX2_INLINE void addHalfBlock(const uint8_t *panel, int64_t b, int half,
                                  const Inputs &in, int64_t token,
                                  __m256 (&acc)[T]) {
  const uint8_t *block = panel + b * panelBlockBytes<Q4>();
  const __m256 rowScales =
      _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i *>(
          block + weightBytes<Q4>() + 16 * half)));
  __m256i dot[T];
  halfBlockDots<Q4, T>(block, half, in.values + token * in.columns + b * kBlock,
                       in.columns, dot);
  for (int t = 0; t < T; ++t) {
    const int64_t at = in.at(token + t, b);
    if (!Q4)
      dot[t] = _mm256_add_epi32(dot[t], _mm256_set1_epi32(in.biases[at]));
    acc[t] =
        scaleDot(dot[t], in.scales[at], in.corrections[at], rowScales, acc[t]);
  }
}

/// One panel x T tokens from `token`, into y's 16 columns.
///
/// Register tiling, T tokens (prefill): rows 0-7 over all the blocks, then
/// rows 8-15 (the panel, a few KiB, is in L1 for the second pass), so a
/// pass keeps T f32 accumulators, T s16 (Q4_0) or s32 (Q8_0) sums, the
/// column group's weights and the broadcast input words in AVX2's 16 ymm
/// registers: both halves at once took 2T accumulators and spilled.
/// Decode (one token) takes both halves of a block together, one pass over
/// the stream it prefetches.
template <bool Q4, bool Prefetch, int T>
TLM_AVX2 void panelTile(const uint8_t *panel, const Inputs &in, int64_t token,
                        float *y, int64_t yStride) {
  if constexpr (T == 1) {
    __m256 acc[2][1] = {{_mm256_setzero_ps()}, {_mm256_setzero_ps()}};
    for (int64_t b = 0; b < in.blocks; ++b) {
      if (Prefetch)
        for (int64_t line = 0; line < panelBlockBytes<Q4>(); line += 64)
          _mm_prefetch(reinterpret_cast<const char *>(panel) +
                           b * panelBlockBytes<Q4>() + kStreamPrefetchBytes +
                           line,
                       _MM_HINT_T1);
      addHalfBlock<Q4, 1>(panel, b, 0, in, token, acc[0]);
      addHalfBlock<Q4, 1>(panel, b, 1, in, token, acc[1]);
    }
    _mm256_storeu_ps(y + token * yStride, acc[0][0]);
    _mm256_storeu_ps(y + token * yStride + 8, acc[1][0]);
  } else {
    for (int half = 0; half < 2; ++half) {
      __m256 acc[T];
      for (int t = 0; t < T; ++t)
        acc[t] = _mm256_setzero_ps();
      for (int64_t b = 0; b < in.blocks; ++b)
        addHalfBlock<Q4, T>(panel, b, half, in, token, acc);
      for (int t = 0; t < T; ++t)
        _mm256_storeu_ps(y + (token + t) * yStride + 8 * half, acc[t]);
    }
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
    for (; t + tileTokens<Q4>() <= tokens; t += tileTokens<Q4>())
      panelTile<Q4, Prefetch, tileTokens<Q4>()>(panel, in, t, yp, yStride);
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
