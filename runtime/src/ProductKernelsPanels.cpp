//===- ProductKernelsPanels.cpp - GGUF blocks in 16-row panels: VNNI, AMX -===//
//
// y = x * W^T for Q8_0 / Q4_0 weights codegen packed in 16-row panels
// (codegen/Target/GGMLPanels.h): per panel and per 32-column block, the
// weights of its 16 rows for the block in the layout of an AMX B tile and
// of a VNNI dot product's lanes (8 groups of 4 columns; in each, 4 bytes per
// row), unsigned (Q8_0: w + 128; Q4_0: two groups per 64 bytes as nibbles,
// w + 8), then the 16 rows' f16 scales. The inputs are quantized to int8
// per block as llama.cpp's q8_0 (QuantizeInputs.h); the unsigned weights'
// bias, offset x sum(block inputs), is one integer per (token, block),
// computed with the inputs.
//
// VNNI (vpdpbusd, u8 weights x s8 inputs -> s32): one register holds a
// column group of all 16 rows, so a block is 8 vpdpbusd against broadcast
// input words, then one conversion, one multiply by the rows' scales x the
// token's and one FMA into 16 f32 outputs: 11 instructions per 512
// multiply-adds (the 4-row layout this replaces needed 32), no horizontal
// sums. Register tiling, decode: one panel, the block's 8 weight registers
// and scales; bound by reading the panel's bytes, one sequential stream,
// prefetched into L2 8 KiB ahead (or left to the hardware prefetchers:
// the `_hwprefetch` entry points). Prefill without AMX: two panels x 4
// tokens (panelPairTileVNNI), 8 s32 and 8 f32 accumulators, ~290-320
// GMAC/s on Zen 5 against a vpdpbusd peak of ~440 (tlmc-kernel-bench).
//
// AMX (tdpbsud, 16 tokens x 32 columns x 16 rows per instruction): A is
// the tokens' quantized inputs for the block, B the panel's block as
// stored (Q4_0 unpacked once per panel into a stack buffer); the s32 tile
// is stored and scaled per block into 16 f32 accumulators (one per token)
// with 3 vector instructions per token: the scaling, not the tile unit,
// bounds it (48 instructions per 8192 multiply-adds, ~8x the VNNI rate per
// cycle). Two blocks are in flight so the tile unit and the vector units
// overlap. Used for whole 16-token tiles when the OS grants the tile state
// (arch_prctl); the rest of the tokens, and any CPU or kernel without it,
// take the VNNI path, whose results are the same integers scaled the same
// way.
//
// Measured against: decode reads each weight byte once per token (its
// roofline is those bytes / the read bandwidth `tlmc-membw` measures;
// utils/bench/vs-llamacpp.sh prints the percentage); prefill is bound by
// the vector instructions counted above.
//
//===----------------------------------------------------------------------===//

#include "runtime/src/JobInputs.h"
#include "runtime/src/ProductKernels.h"
#include "runtime/src/QuantizeInputs.h"
#include "runtime/src/TokenTiles.h"

#if defined(__x86_64__)

#include <immintrin.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>

#define TLM_AMX                                                                \
  __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,f16c,fma,"      \
                        "amx-tile,amx-int8")))

namespace {

using tlmrt::quantizeBlock;

constexpr int64_t kBlock = 32;
constexpr int64_t kPanelRows = 16;
/// How far ahead of the block it reads a panel's bytes are prefetched for
/// the tile unit (into L1).
constexpr int64_t kPrefetchBytes = 4096;
/// How far ahead a decode step's stream is prefetched, every line of a
/// block, into L2 (measured on an Intel Xeon, TinyLlama-sized products
/// streamed from DRAM, one token, medians of 7: Q4_0 12.7 GB/s against 10.6
/// for one line per block into L1 4 KiB ahead, 12.0 for every line into
/// L1; Q8_0 the same or better). The kernels' `_hwprefetch` entry points
/// leave the stream to the hardware prefetchers instead, for CPUs that
/// stream faster that way (codegen's prefersHardwarePrefetch, which says
/// which and what they measured).
constexpr int64_t kStreamPrefetchBytes = 8192;
/// Stack budget for quantized inputs (values, and 8 bytes per block) outside
/// a parallel job (and for calls a job's shared inputs cannot take): the
/// AMX kernels want whole 16-token tiles of the widest products (32 tokens
/// x 8192 columns), the VNNI ones are as fast a few tokens at a time. The
/// runtime's workers get stacks for it (ThreadPool.cpp).
template <bool AMX> constexpr int64_t quantizedBytes() {
  return AMX ? 384 * 1024 : 96 * 1024;
}
/// Tokens per AMX tile.
constexpr int64_t kTileTokens = 16;
static_assert(tlmrt::kJobInputSlice % kTileTokens == 0,
              "threads quantizing a job's slices write whole scale lines");
/// The widest Q4_0 product the AMX kernels unpack a panel of (wider ones
/// take the VNNI path): 16 bytes per column on the stack.
constexpr int64_t kMaxUnpackedColumns = 8192;

template <bool Q4> constexpr int64_t weightBytes() { return Q4 ? 256 : 512; }
template <bool Q4> constexpr int64_t panelBlockBytes() {
  return weightBytes<Q4>() + 2 * kPanelRows;
}
/// The weights' offset from their signed value.
template <bool Q4> constexpr int32_t weightOffset() { return Q4 ? 8 : 128; }

/// A call's quantized inputs: `tokens` rows of `columns` int8 values, and per
/// (token, block) the scale and the bias correction -offset x sum(values)
/// times the scale.
///
/// Both paths scale a block's s32 dot product d the same way, as
/// fma(fma(f32(d), scale, correction), row scales, acc), so AMX tiles and
/// VNNI give bitwise the same outputs: prefill and decode agree exactly.
///
/// The scales and corrections are stored per run of `tileTokens` tokens
/// (16 when the call has that many), block after block, the run's tokens'
/// values contiguous: an AMX tile's 16 token scales for a block are one
/// run of 64 bytes at a constant offset from the last block's, so the
/// scaling loop broadcasts them from one pointer.
struct QuantizedInputs {
  int8_t *values;
  float *scales;
  float *corrections;
  int64_t columns, blocks, tileTokens;

  /// Where (token, block)'s scale and correction are.
  int64_t at(int64_t token, int64_t block) const {
    int64_t run = token / tileTokens;
    return run * tileTokens * blocks + block * tileTokens +
           (token - run * tileTokens);
  }
};

/// Quantizes tokens [first, end) of x (row t at x + t * xStride) into `in`.
template <bool Q4>
TLM_VNNI void quantizeInputs(const float *x, int64_t xStride, int64_t first,
                             int64_t end, QuantizedInputs &in) {
  for (int64_t t = first; t < end; ++t)
    for (int64_t b = 0; b < in.blocks; ++b) {
      int32_t sum;
      float scale = quantizeBlock(x + t * xStride + b * kBlock,
                                  in.values + t * in.columns + b * kBlock, sum);
      int32_t correction = -weightOffset<Q4>() * sum;
      in.scales[in.at(t, b)] = scale;
      in.corrections[in.at(t, b)] = scale * float(correction);
    }
}

/// acc + the s32 dot products of (token, block) `at` scaled: (dot +
/// correction) x token scale x row scales, in the one order both paths use.
TLM_VNNI_INLINE __m512 scaleDot(__m512i dot, float scale, float correction,
                                __m512 rowScales, __m512 acc) {
  __m512 scaled = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot),
                                  _mm512_set1_ps(scale),
                                  _mm512_set1_ps(correction));
  return _mm512_fmadd_ps(scaled, rowScales, acc);
}

TLM_VNNI_INLINE __m512 scaleBlock(__m512i dot, const QuantizedInputs &in,
                                  int64_t at, __m512 rowScales, __m512 acc) {
  return scaleDot(dot, in.scales[at], in.corrections[at], rowScales, acc);
}

/// Block `block` of a panel as 8 registers of 64 unsigned bytes (column
/// group g of the 16 rows in w[g]) and the rows' scales; with Prefetch,
/// the stream's lines kStreamPrefetchBytes ahead are asked for. With
/// HighTimes16, a Q4_0 block's high nibbles (groups 4-7) are left in place,
/// 16 x their value (one AND, no shift): a caller that sums their dot
/// products apart and shifts the sum right by 4 gets the same integers.
template <bool Q4, bool Prefetch, bool HighTimes16 = false>
TLM_VNNI_INLINE void loadPanelBlock(const uint8_t *panel, int64_t block,
                                    __m512i (&w)[8], __m512 &scale) {
  const uint8_t *at = panel + block * panelBlockBytes<Q4>();
  if (Prefetch)
    for (int64_t line = 0; line < panelBlockBytes<Q4>(); line += 64)
      _mm_prefetch(reinterpret_cast<const char *>(at) + kStreamPrefetchBytes +
                       line,
                   _MM_HINT_T1);
  if (Q4) {
    const __m512i nibble = _mm512_set1_epi8(0x0F);
    for (int g = 0; g < 4; ++g) {
      __m512i packed = _mm512_loadu_si512(at + 64 * g);
      w[g] = _mm512_and_si512(packed, nibble);
      w[g + 4] = HighTimes16
                     ? _mm512_andnot_si512(nibble, packed)
                     : _mm512_and_si512(_mm512_srli_epi16(packed, 4), nibble);
    }
  } else {
    for (int g = 0; g < 8; ++g)
      w[g] = _mm512_loadu_si512(at + 64 * g);
  }
  scale = _mm512_cvtph_ps(_mm256_loadu_si256(
      reinterpret_cast<const __m256i *>(at + weightBytes<Q4>())));
}

/// One panel x T tokens (from `token`) with vpdpbusd, into y's 16 columns.
template <bool Q4, bool Prefetch, int T>
TLM_VNNI void panelTileVNNI(const uint8_t *panel, const QuantizedInputs &in,
                            int64_t token, float *y, int64_t yStride) {
  __m512 acc[T];
  for (int t = 0; t < T; ++t)
    acc[t] = _mm512_setzero_ps();
  for (int64_t b = 0; b < in.blocks; ++b) {
    __m512i w[8];
    __m512 rowScales;
    loadPanelBlock<Q4, Prefetch, /*HighTimes16=*/true>(panel, b, w,
                                                       rowScales);
    for (int t = 0; t < T; ++t) {
      const int64_t at = in.at(token + t, b);
      const int8_t *q = in.values + (token + t) * in.columns + b * kBlock;
      int32_t words[8];
      memcpy(words, q, sizeof(words));
      // Two chains of 4 dependent vpdpbusd rather than one of 8: decode
      // has no other tokens to overlap their latency with. Q4_0's chains
      // are its low nibbles' groups and its high nibbles' (16 x their
      // value, HighTimes16): one shift of the second sum replaces a shift
      // per 64 weight bytes, 4 of the block's 25 vector instructions. The
      // kernel in cache streams only ~2.3x the DRAM rate it must keep up
      // with (tlmc-kernel-bench, Zen 4), though SmolLM2 Q4_0 tg128 against
      // the shifts measured level (alternated 10 times: 0.998x on 1 thread,
      // 0.993x on 2); the same logits bitwise.
      __m512i first = _mm512_setzero_si512(), second = _mm512_setzero_si512();
      for (int g = 0; g < 4; ++g) {
        const int inFirst = Q4 ? g : 2 * g;
        const int inSecond = Q4 ? g + 4 : 2 * g + 1;
        first = _mm512_dpbusd_epi32(first, w[inFirst],
                                    _mm512_set1_epi32(words[inFirst]));
        second = _mm512_dpbusd_epi32(second, w[inSecond],
                                     _mm512_set1_epi32(words[inSecond]));
      }
      if (Q4)
        second = _mm512_srai_epi32(second, 4);
      acc[t] = scaleBlock(_mm512_add_epi32(first, second), in, at, rowScales,
                          acc[t]);
    }
  }
  for (int t = 0; t < T; ++t)
    _mm512_storeu_ps(y + (token + t) * yStride, acc[t]);
}

/// Column group g of a panel's block (its 16 rows' 4 bytes each) as
/// unsigned bytes; a Q4_0 block keeps groups g and g + 4 in one 64-byte
/// line, low and high nibbles.
template <bool Q4>
TLM_VNNI_INLINE __m512i loadGroup(const uint8_t *block, int g) {
  if (!Q4)
    return _mm512_loadu_si512(block + 64 * g);
  __m512i packed = _mm512_loadu_si512(block + 64 * (g & 3));
  if (g >= 4)
    packed = _mm512_srli_epi16(packed, 4);
  return _mm512_and_si512(packed, _mm512_set1_epi8(0x0F));
}

/// Two panels x T tokens (from `token`) with vpdpbusd, into y's 32 columns
/// (the second panel's at y + 16).
///
/// Register tiling: 2 x T s32 dot products and 2 x T f32 accumulators; per
/// 4-byte column step of a block, 2 weight loads (one per panel) and T
/// token words broadcast from memory feed 2T vpdpbusd, so the loads per
/// vpdpbusd fall from 1.25 (one panel's 8 registers per block, a broadcast
/// per vpdpbusd) to (2 + T) / 2T, and every s32 chain is one of 2T
/// independent ones (no even/odd split). Per block and (panel, token): a
/// conversion and two FMAs (scaleBlock, the same arithmetic as the
/// one-panel kernel, so the two give the same bits). Bound: vpdpbusd and
/// the FMAs share two pipes on Zen 5 (peak/vnni_int8 in tlmc-kernel-bench):
/// 8 + 2 per 512 multiply-adds.
template <bool Q4, int T>
TLM_VNNI void panelPairTileVNNI(const uint8_t *panel0, const uint8_t *panel1,
                                const QuantizedInputs &in, int64_t token,
                                float *y, int64_t yStride) {
  __m512 acc0[T], acc1[T];
  for (int t = 0; t < T; ++t)
    acc0[t] = acc1[t] = _mm512_setzero_ps();
  const int8_t *x = in.values + token * in.columns;
  for (int64_t b = 0; b < in.blocks; ++b) {
    const uint8_t *block0 = panel0 + b * panelBlockBytes<Q4>();
    const uint8_t *block1 = panel1 + b * panelBlockBytes<Q4>();
    __m512i dot0[T], dot1[T];
    for (int t = 0; t < T; ++t)
      dot0[t] = dot1[t] = _mm512_setzero_si512();
    for (int g = 0; g < 8; ++g) {
      const __m512i w0 = loadGroup<Q4>(block0, g);
      const __m512i w1 = loadGroup<Q4>(block1, g);
      for (int t = 0; t < T; ++t) {
        int32_t word;
        memcpy(&word, x + t * in.columns + b * kBlock + 4 * g, 4);
        const __m512i words = _mm512_set1_epi32(word);
        dot0[t] = _mm512_dpbusd_epi32(dot0[t], w0, words);
        dot1[t] = _mm512_dpbusd_epi32(dot1[t], w1, words);
      }
    }
    const __m512 rowScales0 = _mm512_cvtph_ps(_mm256_loadu_si256(
        reinterpret_cast<const __m256i *>(block0 + weightBytes<Q4>())));
    const __m512 rowScales1 = _mm512_cvtph_ps(_mm256_loadu_si256(
        reinterpret_cast<const __m256i *>(block1 + weightBytes<Q4>())));
    for (int t = 0; t < T; ++t) {
      const int64_t at = in.at(token + t, b);
      acc0[t] = scaleBlock(dot0[t], in, at, rowScales0, acc0[t]);
      acc1[t] = scaleBlock(dot1[t], in, at, rowScales1, acc1[t]);
    }
  }
  for (int t = 0; t < T; ++t) {
    _mm512_storeu_ps(y + (token + t) * yStride, acc0[t]);
    _mm512_storeu_ps(y + (token + t) * yStride + kPanelRows, acc1[t]);
  }
}

template <bool Q4, bool Prefetch>
TLM_VNNI void panelVNNI(const uint8_t *panel, const QuantizedInputs &in,
                        int64_t first, int64_t tokens, float *y,
                        int64_t yStride) {
  tlmrt::forEachTokenTile(tokens, [&](auto tile, int64_t t) {
    panelTileVNNI<Q4, Prefetch, decltype(tile)::value>(panel, in, first + t, y,
                                                       yStride);
  });
}

/// Tokens per two-panel tile.
constexpr int64_t kPairTokens = 4;

/// Two adjacent panels (the second kPanelRows columns of y after the
/// first's) x `tokens` (2 or more) tokens from `first`; a last single token
/// takes the one-panel kernel. (Decode, one token, takes it panel by
/// panel: its two chains per token hide vpdpbusd's latency when nothing
/// else can, and its loop measured 1.2-1.4x faster than pairs in cache.)
template <bool Q4, bool Prefetch>
TLM_VNNI void panelPairVNNI(const uint8_t *panel0, const uint8_t *panel1,
                            const QuantizedInputs &in, int64_t first,
                            int64_t tokens, float *y, int64_t yStride) {
  int64_t t = 0;
  for (; t + kPairTokens <= tokens; t += kPairTokens)
    panelPairTileVNNI<Q4, kPairTokens>(panel0, panel1, in, first + t, y,
                                       yStride);
  switch (tokens - t) {
  case 3:
    panelPairTileVNNI<Q4, 3>(panel0, panel1, in, first + t, y, yStride);
    break;
  case 2:
    panelPairTileVNNI<Q4, 2>(panel0, panel1, in, first + t, y, yStride);
    break;
  case 1:
    panelTileVNNI<Q4, Prefetch, 1>(panel0, in, first + t, y, yStride);
    panelTileVNNI<Q4, Prefetch, 1>(panel1, in, first + t, y + kPanelRows,
                                   yStride);
    break;
  default:
    break;
  }
}

//===- AMX ----------------------------------------------------------------===//

/// The tile registers' shapes: C0, C1 and C2, C3 the s32 results of two
/// pairs of blocks (16 tokens x 16 rows), one pair in the tile unit while
/// the other is stored and scaled; A0, A1 a pair's inputs (16 tokens x 32
/// bytes); B0, B1 its weights (8 column groups x 16 rows x 4 bytes).
enum Tile { C0 = 0, C1 = 1, A0 = 2, A1 = 3, B0 = 4, B1 = 5, C2 = 6, C3 = 7 };

struct alignas(64) TileConfig {
  uint8_t palette = 1, startRow = 0, reserved[14] = {};
  uint16_t bytesPerRow[16] = {64, 64, 32, 32, 64, 64, 64, 64};
  uint8_t rows[16] = {16, 16, 16, 16, 8, 8, 16, 16};
};

/// Whether this process may use the AMX tile state (Linux grants it on
/// request; asked once).
bool amxPermitted() {
  // 0: not asked yet, 1: granted, -1: refused.
  static std::atomic<int> state{0};
  int now = state.load(std::memory_order_relaxed);
  if (now == 0) {
    constexpr long kRequestPermission = 0x1023; // ARCH_REQ_XCOMP_PERM
    constexpr long kTileData = 18;              // XFEATURE_XTILEDATA
    now = syscall(SYS_arch_prctl, kRequestPermission, kTileData) == 0 ? 1 : -1;
    state.store(now, std::memory_order_relaxed);
  }
  return now > 0;
}

/// Where a panel's blocks are for the tile unit: block b's B tile (64-byte
/// rows) at weights + b * weightStride, its rows' f16 scales at scales +
/// b * scaleStride.
struct PanelTiles {
  const uint8_t *weights;
  int64_t weightStride;
  const uint8_t *scales;
  int64_t scaleStride;

  const uint8_t *tile(int64_t b) const { return weights + b * weightStride; }
  TLM_AMX __m512 rowScales(int64_t b) const {
    return _mm512_cvtph_ps(_mm256_loadu_si256(
        reinterpret_cast<const __m256i *>(scales + b * scaleStride)));
  }
};

/// Adds block `b`'s s32 results (stored at `c`, one token per 64 bytes)
/// scaled by the rows' scales and the tokens' (16 each, from `scales` and
/// `corrections`) into acc: per token a conversion and two FMAs, the
/// VNNI path's scaleDot.
#define TLM_SCALE_TILE(c, scales, corrections, rowScales, acc)                 \
  _Pragma("clang loop unroll(full)") for (int t = 0; t < kTileTokens; ++t)     \
      acc[t] = scaleDot(_mm512_load_si512(c + 16 * t), scales[t],              \
                        corrections[t], rowScales, acc[t])

/// One panel x 16 tokens (from `token`, a multiple of 16) with tdpbsud.
/// With `prefetch`, the tiles are asked for 4 KiB ahead (the first tile of
/// tokens reads them from memory; tileloadd is not followed by the
/// hardware prefetcher as well as vector loads). Everything the loop reads
/// is in locals (the tile stores write memory, so fields of `panel` and
/// `in` would be reloaded after each), the token scales at constant offsets
/// from one pointer per block: the 16 accumulators, two blocks' row scales
/// and the temporaries fit the 32 registers with no spills.
TLM_AMX void panelTileAMX(const PanelTiles &panel, const QuantizedInputs &in,
                          int64_t token, bool prefetch, float *y,
                          int64_t yStride) {
  alignas(64) int32_t c0[16 * 16], c1[16 * 16];
  __m512 acc[kTileTokens];
  for (int t = 0; t < kTileTokens; ++t)
    acc[t] = _mm512_setzero_ps();
  const int64_t blocks = in.blocks, columns = in.columns;
  const int8_t *x = in.values + token * columns;
  const float *scales = in.scales + in.at(token, 0);
  const float *corrections = in.corrections + in.at(token, 0);
  const PanelTiles tiles = panel;
  const uint8_t *weights = tiles.weights;
  const int64_t weightStride = tiles.weightStride;
  // Pair i (blocks 2i, 2i + 1) runs in C0, C1 when i is even and in C2, C3
  // when odd: the tile unit computes pair i + 1 while pair i is stored and
  // scaled (tile registers are not renamed; with one set, each pair's
  // store waited for its products and the next products for that store).
#define TLM_ISSUE_PAIR(CA, CB, b)                                              \
  do {                                                                         \
    const uint8_t *tile = weights + (b) * weightStride;                        \
    if (prefetch)                                                              \
      for (int64_t line = 0; line < 2 * weightStride; line += 64)              \
        _mm_prefetch(reinterpret_cast<const char *>(tile) + kPrefetchBytes +   \
                         line,                                                 \
                     _MM_HINT_T0);                                             \
    _tile_zero(CA);                                                            \
    _tile_zero(CB);                                                            \
    _tile_loadd(A0, x + (b) * kBlock, columns);                                \
    _tile_loadd(B0, tile, 64);                                                 \
    _tile_loadd(A1, x + ((b) + 1) * kBlock, columns);                          \
    _tile_loadd(B1, tile + weightStride, 64);                                  \
    _tile_dpbsud(CA, A0, B0);                                                  \
    _tile_dpbsud(CB, A1, B1);                                                  \
  } while (0)
#define TLM_DRAIN_PAIR(CA, CB, b)                                              \
  do {                                                                         \
    _tile_stored(CA, c0, 64);                                                  \
    _tile_stored(CB, c1, 64);                                                  \
    const __m512 rowScales0 = tiles.rowScales(b);                              \
    const __m512 rowScales1 = tiles.rowScales((b) + 1);                        \
    const float *s0 = scales + (b) * kTileTokens;                              \
    const float *k0 = corrections + (b) * kTileTokens;                         \
    const float *s1 = s0 + kTileTokens, *k1 = k0 + kTileTokens;                \
    TLM_SCALE_TILE(c0, s0, k0, rowScales0, acc);                               \
    TLM_SCALE_TILE(c1, s1, k1, rowScales1, acc);                               \
  } while (0)
  const int64_t pairs = blocks / 2;
  if (pairs > 0)
    TLM_ISSUE_PAIR(C0, C1, 0);
  for (int64_t i = 0; i < pairs; i += 2) {
    if (i + 1 < pairs)
      TLM_ISSUE_PAIR(C2, C3, 2 * (i + 1));
    TLM_DRAIN_PAIR(C0, C1, 2 * i);
    if (i + 1 >= pairs)
      break;
    if (i + 2 < pairs)
      TLM_ISSUE_PAIR(C0, C1, 2 * (i + 2));
    TLM_DRAIN_PAIR(C2, C3, 2 * (i + 1));
  }
#undef TLM_ISSUE_PAIR
#undef TLM_DRAIN_PAIR
  const int64_t b = 2 * pairs;
  if (b < blocks) {
    _tile_zero(C0);
    _tile_loadd(A0, x + b * kBlock, columns);
    _tile_loadd(B0, weights + b * weightStride, 64);
    _tile_dpbsud(C0, A0, B0);
    _tile_stored(C0, c0, 64);
    const __m512 rowScales0 = tiles.rowScales(b);
    const float *s0 = scales + b * kTileTokens, *k0 = corrections + b * kTileTokens;
    TLM_SCALE_TILE(c0, s0, k0, rowScales0, acc);
  }
  for (int t = 0; t < kTileTokens; ++t)
    _mm512_storeu_ps(y + (token + t) * yStride, acc[t]);
}
#undef TLM_SCALE_TILE

/// Tokens [0, amxTokens) of one panel with AMX (a multiple of 16; Q4_0
/// panels unpacked into `unpacked`, 512 bytes per block, first).
template <bool Q4, bool Prefetch>
TLM_AMX void panelAMX(const uint8_t *panel, const QuantizedInputs &in,
                      int64_t amxTokens, uint8_t *unpacked, float *y,
                      int64_t yStride) {
  PanelTiles tiles{panel, panelBlockBytes<Q4>(), panel + weightBytes<Q4>(),
                   panelBlockBytes<Q4>()};
  if (Q4) {
    for (int64_t b = 0; b < in.blocks; ++b) {
      __m512i w[8];
      __m512 unused;
      loadPanelBlock<true, Prefetch>(panel, b, w, unused);
      for (int g = 0; g < 8; ++g)
        _mm512_store_si512(unpacked + b * 512 + 64 * g, w[g]);
    }
    tiles.weights = unpacked;
    tiles.weightStride = 512;
  }
  for (int64_t t = 0; t < amxTokens; t += kTileTokens)
    panelTileAMX(tiles, in, t, /*prefetch=*/!Q4 && t == 0, y, yStride);
}

/// Quantized inputs laid out in `bytes`: `tokens` rows of values, then
/// scales and corrections for `tokens` rounded up to whole runs of
/// `tileTokens`.
QuantizedInputs layOut(uint8_t *bytes, int64_t tokens, int64_t tileTokens,
                       int64_t columns) {
  QuantizedInputs in;
  in.columns = columns;
  in.blocks = columns / kBlock;
  in.tileTokens = tileTokens;
  const int64_t runs = (tokens + tileTokens - 1) / tileTokens;
  in.values = reinterpret_cast<int8_t *>(bytes);
  in.scales = reinterpret_cast<float *>(bytes + tokens * columns);
  in.corrections = in.scales + runs * tileTokens * in.blocks;
  return in;
}

/// Bytes layOut uses.
int64_t laidOutBytes(int64_t tokens, int64_t tileTokens, int64_t columns) {
  const int64_t runs = (tokens + tileTokens - 1) / tileTokens;
  return tokens * columns + 8 * runs * tileTokens * (columns / kBlock);
}

/// Every panel x the `tokens` tokens `in` holds, into y: AMX tiles for
/// whole 16-token tiles when `amx`, two-panel VNNI tiles for the rest.
template <bool Q4, bool Prefetch>
TLM_AMX void allPanels(const uint8_t *panels, int64_t rows,
                       const QuantizedInputs &in, int64_t tokens, bool amx,
                       uint8_t *unpacked, float *y, int64_t yStride) {
  const int64_t panelBytes = in.blocks * panelBlockBytes<Q4>();
  const int64_t amxTokens = amx ? tokens - tokens % kTileTokens : 0;
  const int64_t panelCount = rows / kPanelRows;
  int64_t p = 0;
  if (!amxTokens && tokens >= 2)
    for (; p + 2 <= panelCount; p += 2)
      panelPairVNNI<Q4, Prefetch>(panels + p * panelBytes,
                                  panels + (p + 1) * panelBytes, in, 0, tokens,
                                  y + p * kPanelRows, yStride);
  for (; p < panelCount; ++p) {
    const uint8_t *panel = panels + p * panelBytes;
    float *yp = y + p * kPanelRows;
    if (amxTokens)
      panelAMX<Q4, Prefetch>(panel, in, amxTokens, unpacked, yp, yStride);
    panelVNNI<Q4, Prefetch>(panel, in, amxTokens, tokens - amxTokens, yp,
                            yStride);
  }
}

template <bool Q4, bool AMX, bool Prefetch>
TLM_AMX void productPanels(const float *x, int64_t xStride, int64_t tokens,
                           const uint8_t *panels, int64_t rows, int64_t columns,
                           float *y, int64_t yStride) {
  const int64_t blocks = columns / kBlock;
  const int64_t bytesPerToken = columns + 8 * blocks;
  int64_t group = quantizedBytes<AMX>() / bytesPerToken;
  if (group == 0 || columns % kBlock || rows % kPanelRows)
    __builtin_trap(); // the compiler never packs such a weight
  const bool amxFits = AMX && (!Q4 || columns <= kMaxUnpackedColumns);
  // Q4_0 panels unpacked for the tile unit: 16 bytes per column.
  alignas(64) uint8_t unpacked[Q4 && AMX ? 16 * kMaxUnpackedColumns : 64];
  struct TileState { // the tile configuration while AMX tiles are in use
    bool on = false;
    TLM_AMX bool use(bool wanted) {
      if (wanted && !on && amxPermitted()) {
        static const TileConfig config;
        _tile_loadconfig(&config);
        on = true;
      }
      return wanted && on;
    }
    TLM_AMX ~TileState() {
      if (on)
        _tile_release();
    }
  } tiles;

  // Inside a parallel job, the job's threads quantize the inputs together,
  // once, into the pool's JobInputs (JobInputs.h), when they fit.
  constexpr int kFormat = (Q4 ? 1 : 0) | (AMX ? 2 : 0);
  tlmrt::JobInputs *shared = tlmrt::currentJobInputs();
  if (shared && tokens >= 2 * tlmrt::kJobInputSlice &&
      laidOutBytes(tokens, kTileTokens, columns) <= tlmrt::kJobInputBytes) {
    const int64_t slices =
        (tokens + tlmrt::kJobInputSlice - 1) / tlmrt::kJobInputSlice;
    if (shared->claim({x, xStride, tokens, columns, kFormat}, slices)) {
      QuantizedInputs in = layOut(shared->bytes, tokens, kTileTokens, columns);
      shared->quantizeShared([&](int64_t slice) {
        const int64_t first = slice * tlmrt::kJobInputSlice;
        const int64_t end = first + tlmrt::kJobInputSlice;
        quantizeInputs<Q4>(x, xStride, first, end < tokens ? end : tokens, in);
      });
      allPanels<Q4, Prefetch>(panels, rows, in, tokens, tiles.use(amxFits),
                              unpacked, y, yStride);
      return;
    }
  }

  // A job's small calls (decode): once per thread and job, into the
  // thread's own inputs, which the thread's later calls of the job on the
  // same input reuse.
  tlmrt::ThreadInputs *own = tlmrt::currentThreadInputs();
  if (own && tokens < kTileTokens &&
      laidOutBytes(tokens, tokens, columns) <= tlmrt::kThreadInputBytes) {
    QuantizedInputs in = layOut(own->bytes, tokens, tokens, columns);
    if (!own->holds({x, xStride, tokens, columns, kFormat},
                    tlmrt::currentJobId()))
      quantizeInputs<Q4>(x, xStride, 0, tokens, in);
    allPanels<Q4, Prefetch>(panels, rows, in, tokens, /*amx=*/false, unpacked,
                            y, yStride);
    return;
  }

  // Otherwise in groups of tokens that fit the stack, whole runs of
  // tileTokens tokens each (QuantizedInputs::at).
  const int64_t tileTokens = group < kTileTokens ? group : kTileTokens;
  group -= group % tileTokens;
  alignas(64) uint8_t storage[quantizedBytes<AMX>()];
  QuantizedInputs in = layOut(storage, group, tileTokens, columns);
  const bool amx = tiles.use(amxFits && tokens >= kTileTokens &&
                             group >= kTileTokens);
  for (int64_t t0 = 0; t0 < tokens; t0 += group) {
    const int64_t n = tokens - t0 < group ? tokens - t0 : group;
    quantizeInputs<Q4>(x + t0 * xStride, xStride, 0, n, in);
    allPanels<Q4, Prefetch>(panels, rows, in, n, amx, unpacked,
                            y + t0 * yStride, yStride);
  }
}

} // namespace

// The entry points compiled code calls (ProductKernels.h): one per weight
// format and instruction set, all the same signature, and each again with
// `_hwprefetch` for CPUs whose hardware prefetchers stream decode faster
// alone (see kStreamPrefetchBytes).
#define TLMRT_PANEL_KERNEL(NAME, Q4, AMX, PREFETCH)                            \
  extern "C" void NAME(const float *x, int64_t xStride, int64_t tokens,        \
                       const uint8_t *blocks, int64_t rows, int64_t columns,   \
                       float *y, int64_t yStride) {                            \
    productPanels<Q4, AMX, PREFETCH>(x, xStride, tokens, blocks, rows,         \
                                     columns, y, yStride);                     \
  }
TLMRT_PANEL_KERNEL(tlmrt_uk_q8_0x16_avx512vnni, false, false, true)
TLMRT_PANEL_KERNEL(tlmrt_uk_q4_0x16_avx512vnni, true, false, true)
TLMRT_PANEL_KERNEL(tlmrt_uk_q8_0x16_amx, false, true, true)
TLMRT_PANEL_KERNEL(tlmrt_uk_q4_0x16_amx, true, true, true)
TLMRT_PANEL_KERNEL(tlmrt_uk_q8_0x16_avx512vnni_hwprefetch, false, false, false)
TLMRT_PANEL_KERNEL(tlmrt_uk_q4_0x16_avx512vnni_hwprefetch, true, false, false)
TLMRT_PANEL_KERNEL(tlmrt_uk_q8_0x16_amx_hwprefetch, false, true, false)
TLMRT_PANEL_KERNEL(tlmrt_uk_q4_0x16_amx_hwprefetch, true, true, false)
#undef TLMRT_PANEL_KERNEL

#endif // __x86_64__
