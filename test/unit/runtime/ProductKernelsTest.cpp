//===- ProductKernelsTest.cpp - the runtime's micro-kernels vs a reference ===//
//
// Each kernel against a scalar reference written from the definitions:
// GGUF Q8_0/Q4_0 blocks as the GGML spec lays them out, inputs quantized to
// int8 per 32-column block (scale max|x| / 127 rounded to f16, values
// rounded to nearest even), the
// exact integer dot product per block, scaled. Shapes cover the kernels'
// tails: odd block counts, row counts that are not multiples of the row
// tile, token counts of every tile width, offset row ranges and strides
// wider than the data. A second check bounds the quantization error against
// the plain f32 product.
//
//===----------------------------------------------------------------------===//

#include "codegen/Target/FloatPanels.h"
#include "codegen/Target/GGMLPanels.h"
#include "runtime/src/ProductKernels.h"
#include "runtime/src/Session.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

namespace {

#if defined(__x86_64__)

float halfToFloat(uint16_t h) {
  int exponent = (h >> 10) & 31, mantissa = h & 1023;
  float magnitude = exponent == 0
                        ? std::ldexp(float(mantissa), -24)
                        : std::ldexp(float(mantissa | 1024), exponent - 25);
  return (h & 0x8000) ? -magnitude : magnitude;
}

/// `v` rounded to the nearest f16 (ties to even), for normal f16 values.
float roundToHalf(float v) {
  if (v == 0.0f)
    return 0.0f;
  int exponent;
  std::frexp(v, &exponent); // v = m * 2^exponent, 0.5 <= |m| < 1
  // f16 keeps 11 significant bits.
  float unit = std::ldexp(1.0f, exponent - 11);
  return std::nearbyint(v / unit) * unit;
}

struct Weights {
  std::vector<uint8_t> bytes;
  std::vector<float> values; // dequantized, rows x columns
};

/// Random Q8_0 (34-byte) or Q4_0 (18-byte) blocks.
Weights makeWeights(bool q4, int64_t rows, int64_t columns, std::mt19937 &rng) {
  const int64_t blocks = columns / 32, size = q4 ? 18 : 34;
  Weights w;
  w.bytes.resize(rows * blocks * size);
  w.values.resize(rows * columns);
  std::uniform_int_distribution<int> byte(0, 255), exponent(9, 13),
      mantissa(0, 1023);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t b = 0; b < blocks; ++b) {
      uint8_t *block = &w.bytes[(r * blocks + b) * size];
      uint16_t half = uint16_t(exponent(rng) << 10 | mantissa(rng));
      std::memcpy(block, &half, 2);
      float scale = halfToFloat(half);
      for (int j = 0; j < (q4 ? 16 : 32); ++j)
        block[2 + j] = uint8_t(byte(rng));
      for (int j = 0; j < 32; ++j) {
        int q = q4 ? ((j < 16 ? block[2 + j] & 15 : block[2 + j - 16] >> 4) - 8)
                   : int(int8_t(block[2 + j]));
        w.values[r * columns + b * 32 + j] = scale * float(q);
      }
    }
  return w;
}

/// The reference: inputs quantized per block as the kernels' contract says,
/// exact integer dot products, accumulated in double.
double referenceOutput(const Weights &w, bool q4, const float *x,
                       int64_t row, int64_t columns) {
  const int64_t blocks = columns / 32, size = q4 ? 18 : 34;
  double sum = 0;
  for (int64_t b = 0; b < blocks; ++b) {
    float amax = 0;
    for (int j = 0; j < 32; ++j)
      amax = std::max(amax, std::fabs(x[b * 32 + j]));
    float scale = roundToHalf(amax / 127.0f);
    float inverse = amax != 0 ? 127.0f / amax : 0.0f;
    const uint8_t *block = &w.bytes[(row * blocks + b) * size];
    uint16_t half;
    std::memcpy(&half, block, 2);
    int64_t dot = 0;
    for (int j = 0; j < 32; ++j) {
      int qx = int(std::nearbyint(x[b * 32 + j] * inverse));
      int qw = q4 ? ((j < 16 ? block[2 + j] & 15 : block[2 + j - 16] >> 4) - 8)
                  : int(int8_t(block[2 + j]));
      dot += int64_t(qx) * qw;
    }
    sum += double(halfToFloat(half)) * double(scale) * double(dot);
  }
  return sum;
}

using Kernel = tlmrt_product_kernel *;

/// Whether this CPU runs the AVX2 panel kernels.
bool hasAVX2Kernels() {
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
         __builtin_cpu_supports("f16c");
}

/// `panels`: the kernel reads the weights packed by codegen's
/// packGGMLPanels (16-row panels), and its row ranges start at multiples of
/// 16. `avx2`: an AVX2 kernel, which needs no AVX-512.
void checkKernel(Kernel kernel, bool q4, bool panels = false,
                 bool avx2 = false) {
  if (avx2 && !hasAVX2Kernels())
    GTEST_SKIP() << "this CPU has no AVX2";
  if (!avx2 && (!__builtin_cpu_supports("avx512vnni") ||
                !__builtin_cpu_supports("avx512bw") ||
                !__builtin_cpu_supports("avx512vl")))
    GTEST_SKIP() << "this CPU has no AVX-512 VNNI";
  std::mt19937 rng(1234);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  const int64_t shapes[][3] = {// rows, columns, tokens
                               {1, 32, 1},  {4, 64, 1},   {5, 96, 2},
                               {9, 160, 3}, {3, 576, 4},  {8, 576, 5},
                               {7, 224, 7}, {13, 64, 16}, {6, 1536, 9},
                               {12, 64, 1}, {16, 1536, 3}, {8, 128, 6},
                               {192, 576, 1}, {64, 1536, 16},
                               // Panels: AMX tiles of 16 tokens and the
                               // tokens left, odd block counts, a Q4_0
                               // panel too wide to unpack for AMX.
                               {32, 96, 17},  {48, 160, 35}, {32, 5632, 20},
                               {32, 9216, 16}, {16, 32, 2}};
  for (const auto &shape : shapes) {
    const int64_t rows = shape[0], columns = shape[1], tokens = shape[2];
    if (panels && rows % 16)
      continue;
    SCOPED_TRACE(testing::Message() << rows << " rows, " << columns
                                    << " columns, " << tokens << " tokens");
    Weights w = makeWeights(q4, rows, columns, rng);
    const int64_t xStride = columns + 8, yStride = rows + 3;
    std::vector<float> x(tokens * xStride);
    for (float &v : x)
      v = normal(rng);
    // One block exactly zero: its scale must not divide by zero.
    for (int j = 0; j < 32; ++j)
      x[j] = 0.0f;
    std::vector<float> y(tokens * yStride, -1.0f);
    // Rows [first, rows) in one call, [0, first) in another, as a thread
    // split does.
    const int64_t rowBytes = columns / 32 * (q4 ? 18 : 34);
    const int64_t first = panels ? 16 : 1;
    std::vector<uint8_t> packed(w.bytes.size());
    if (panels)
      ASSERT_TRUE(tlmc::packGGMLPanels(w.bytes, rows, columns, q4 ? 4 : 8,
                                       packed)
                      .succeeded());
    const uint8_t *bytes = panels ? packed.data() : w.bytes.data();
    kernel(x.data(), xStride, tokens, bytes + first * rowBytes, rows - first,
           columns, y.data() + first, yStride);
    kernel(x.data(), xStride, tokens, bytes, first, columns, y.data(),
           yStride);
    for (int64_t t = 0; t < tokens; ++t) {
      for (int64_t r = 0; r < rows; ++r) {
        const float *xt = &x[t * xStride];
        double expected = referenceOutput(w, q4, xt, r, columns);
        double exact = 0, magnitude = 0;
        for (int64_t c = 0; c < columns; ++c) {
          exact += double(w.values[r * columns + c]) * xt[c];
          magnitude += std::fabs(double(w.values[r * columns + c]) * xt[c]);
        }
        float got = y[t * yStride + r];
        // Same integers, f32 accumulation in another order.
        EXPECT_NEAR(got, expected, 1e-5 * magnitude + 1e-6)
            << "token " << t << " row " << r;
        // int8 inputs: ~0.5/127 of each block's largest input per term.
        EXPECT_NEAR(got, exact, 0.02 * magnitude) << "token " << t << " row " << r;
      }
      for (int64_t r = rows; r < yStride; ++r)
        EXPECT_EQ(y[t * yStride + r], -1.0f) << "wrote past the row range";
    }
  }
}

TEST(ProductKernels, Q8_0AVX512VNNIMatchesReference) {
  checkKernel(tlmrt_uk_q8_0_avx512vnni, /*q4=*/false);
}

TEST(ProductKernels, Q4_0AVX512VNNIMatchesReference) {
  checkKernel(tlmrt_uk_q4_0_avx512vnni, /*q4=*/true);
}

TEST(ProductKernels, Q8_0PanelsAVX512VNNIMatchesReference) {
  checkKernel(tlmrt_uk_q8_0x16_avx512vnni, /*q4=*/false, /*panels=*/true);
}

TEST(ProductKernels, Q4_0PanelsAVX512VNNIMatchesReference) {
  checkKernel(tlmrt_uk_q4_0x16_avx512vnni, /*q4=*/true, /*panels=*/true);
}

// On a CPU or OS without the AMX tile state these take the VNNI path.
TEST(ProductKernels, Q8_0PanelsAMXMatchesReference) {
  checkKernel(tlmrt_uk_q8_0x16_amx, /*q4=*/false, /*panels=*/true);
}

TEST(ProductKernels, Q4_0PanelsAMXMatchesReference) {
  checkKernel(tlmrt_uk_q4_0x16_amx, /*q4=*/true, /*panels=*/true);
}

TEST(ProductKernels, Q8_0PanelsAVX2MatchesReference) {
  checkKernel(tlmrt_uk_q8_0x16_avx2, /*q4=*/false, /*panels=*/true,
              /*avx2=*/true);
  checkKernel(tlmrt_uk_q8_0x16_avx2_hwprefetch, /*q4=*/false,
              /*panels=*/true, /*avx2=*/true);
}

TEST(ProductKernels, Q4_0PanelsAVX2MatchesReference) {
  checkKernel(tlmrt_uk_q4_0x16_avx2, /*q4=*/true, /*panels=*/true,
              /*avx2=*/true);
  checkKernel(tlmrt_uk_q4_0x16_avx2_hwprefetch, /*q4=*/true,
              /*panels=*/true, /*avx2=*/true);
}

/// The AVX2 panel kernels give bitwise the VNNI ones' outputs (the same
/// int8 inputs, the same s32 dot products, scaled in the same order), for
/// weights at the extremes of their range (Q8_0's -128 and 127, whose
/// w + 128 would saturate vpmaddubsw's pairs) and at random, one token and
/// many, every token tile.
void checkAVX2EqualsVNNI(Kernel avx2, Kernel vnni, bool q4) {
  if (!hasAVX2Kernels() || !__builtin_cpu_supports("avx512vnni"))
    GTEST_SKIP() << "this CPU has not both AVX2 and AVX-512 VNNI";
  std::mt19937 rng(4242);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  const int64_t shapes[][3] = {{16, 32, 1},  {48, 576, 1}, {32, 1536, 1},
                               {64, 576, 7}, {16, 96, 33}, {48, 1568, 40}};
  for (const auto &shape : shapes) {
    const int64_t rows = shape[0], columns = shape[1], tokens = shape[2];
    SCOPED_TRACE(testing::Message() << rows << " rows, " << columns
                                    << " columns, " << tokens << " tokens");
    // 0: random; 1: extreme weights (Q8_0: -128 or 127), inputs of either
    // sign at the scale's limit; 2: every weight at its largest (Q4_0: 7,
    // stored as nibble 15), every input +127 once quantized, the largest
    // sums the AVX2 kernels' s16 pairs (Q4_0) must hold.
    for (int extremes = 0; extremes < 3; ++extremes) {
      Weights w = makeWeights(q4, rows, columns, rng);
      if (extremes == 1 && !q4)
        // Every Q8_0 weight -128 or 127 (bytes 2..33 of each block).
        for (size_t b = 0; b < w.bytes.size(); b += 34)
          for (int j = 2; j < 34; ++j)
            w.bytes[b + j] = (j + b / 34) % 2 ? 0x80 : 0x7f;
      if (extremes == 2) {
        const size_t blockBytes = q4 ? 18 : 34;
        for (size_t b = 0; b < w.bytes.size(); b += blockBytes)
          for (size_t j = 2; j < blockBytes; ++j)
            w.bytes[b + j] = q4 ? 0xff : 0x7f;
      }
      std::vector<uint8_t> packed(w.bytes.size());
      ASSERT_TRUE(
          tlmc::packGGMLPanels(w.bytes, rows, columns, q4 ? 4 : 8, packed)
              .succeeded());
      std::vector<float> x(tokens * columns), a(tokens * rows),
          b(tokens * rows);
      for (float &v : x)
        v = extremes == 2   ? 4.0f
            : extremes == 1 ? (normal(rng) < 0 ? -4.0f : 4.0f)
                            : normal(rng);
      avx2(x.data(), columns, tokens, packed.data(), rows, columns, a.data(),
           rows);
      vnni(x.data(), columns, tokens, packed.data(), rows, columns, b.data(),
           rows);
      EXPECT_EQ(0, std::memcmp(a.data(), b.data(), a.size() * sizeof(float)))
          << (extremes == 2   ? "largest"
              : extremes == 1 ? "extreme"
                              : "random")
          << " weights";
    }
  }
}

TEST(ProductKernels, Q8_0PanelsAVX2EqualVNNI) {
  checkAVX2EqualsVNNI(tlmrt_uk_q8_0x16_avx2, tlmrt_uk_q8_0x16_avx512vnni,
                      /*q4=*/false);
}

TEST(ProductKernels, Q4_0PanelsAVX2EqualVNNI) {
  checkAVX2EqualsVNNI(tlmrt_uk_q4_0x16_avx2, tlmrt_uk_q4_0x16_avx512vnni,
                      /*q4=*/true);
}

/// Tokens computed together (AMX tiles, two-panel VNNI tiles of 4 and the
/// 3, 2 or 1 left) and tokens one at a time give bitwise the same outputs
/// (so a compiled model's prefill equals its decode steps). 48 rows: a
/// pair of panels and one alone.
void checkTogetherEqualsOneAtATime(Kernel together, Kernel single, bool q4) {
  if (!__builtin_cpu_supports("avx512vnni"))
    GTEST_SKIP() << "this CPU has no AVX-512 VNNI";
  std::mt19937 rng(77);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  const int64_t rows = 48, columns = 1568;
  Weights w = makeWeights(q4, rows, columns, rng);
  std::vector<uint8_t> packed(w.bytes.size());
  ASSERT_TRUE(
      tlmc::packGGMLPanels(w.bytes, rows, columns, q4 ? 4 : 8, packed)
          .succeeded());
  for (int64_t tokens : {37, 38, 39, 40}) {
    SCOPED_TRACE(testing::Message() << tokens << " tokens");
    std::vector<float> x(tokens * columns), tiles(tokens * rows),
        ones(tokens * rows);
    for (float &v : x)
      v = normal(rng);
    together(x.data(), columns, tokens, packed.data(), rows, columns,
             tiles.data(), rows);
    for (int64_t t = 0; t < tokens; ++t)
      single(x.data() + t * columns, columns, 1, packed.data(), rows, columns,
             ones.data() + t * rows, rows);
    EXPECT_EQ(0, std::memcmp(tiles.data(), ones.data(),
                             tiles.size() * sizeof(float)));
  }
}

TEST(ProductKernels, Q8_0PanelsAMXEqualsOneTokenAtATime) {
  checkTogetherEqualsOneAtATime(tlmrt_uk_q8_0x16_amx,
                                tlmrt_uk_q8_0x16_avx512vnni, /*q4=*/false);
}

TEST(ProductKernels, Q4_0PanelsAMXEqualsOneTokenAtATime) {
  checkTogetherEqualsOneAtATime(tlmrt_uk_q4_0x16_amx,
                                tlmrt_uk_q4_0x16_avx512vnni, /*q4=*/true);
}

TEST(ProductKernels, Q8_0PanelsVNNITilesEqualOneTokenAtATime) {
  checkTogetherEqualsOneAtATime(tlmrt_uk_q8_0x16_avx512vnni,
                                tlmrt_uk_q8_0x16_avx512vnni, /*q4=*/false);
}

TEST(ProductKernels, Q4_0PanelsVNNITilesEqualOneTokenAtATime) {
  checkTogetherEqualsOneAtATime(tlmrt_uk_q4_0x16_avx512vnni,
                                tlmrt_uk_q4_0x16_avx512vnni, /*q4=*/true);
}

// The `_hwprefetch` twins (no software prefetch of the decode stream, for
// CPUs whose hardware prefetchers stream faster alone) compute the same
// bits: tokens together through a twin equal tokens one at a time through
// the kernel with the prefetches.
void checkHardwarePrefetchTwins(Kernel vnniTwin, Kernel amxTwin,
                                Kernel kernel, bool q4) {
  checkKernel(vnniTwin, q4, /*panels=*/true);
  checkTogetherEqualsOneAtATime(vnniTwin, kernel, q4);
  checkTogetherEqualsOneAtATime(amxTwin, kernel, q4);
}

TEST(ProductKernels, Q8_0PanelsHardwarePrefetchTwinsEqualKernels) {
  checkHardwarePrefetchTwins(tlmrt_uk_q8_0x16_avx512vnni_hwprefetch,
                             tlmrt_uk_q8_0x16_amx_hwprefetch,
                             tlmrt_uk_q8_0x16_avx512vnni, /*q4=*/false);
}

TEST(ProductKernels, Q4_0PanelsHardwarePrefetchTwinsEqualKernels) {
  checkHardwarePrefetchTwins(tlmrt_uk_q4_0x16_avx512vnni_hwprefetch,
                             tlmrt_uk_q4_0x16_amx_hwprefetch,
                             tlmrt_uk_q4_0x16_avx512vnni, /*q4=*/true);
}

/// A product handed to the runtime's thread pool (tlmrt_parallel_for's
/// kernel signature: its range of rows, the call in the "arena").
struct PooledCall {
  Kernel kernel;
  const float *x;
  int64_t xStride, tokens, columns, rowBytes;
  float *y;
  int64_t yStride;
};

void runPooledRows(const uint8_t *weights, uint8_t *arena, int64_t begin,
                   int64_t end, int64_t, int64_t) {
  const auto &c = *reinterpret_cast<const PooledCall *>(arena);
  c.kernel(c.x, c.xStride, c.tokens, weights + begin * c.rowBytes,
           end - begin, c.columns, c.y + begin, c.yStride);
}

/// On 1 (a pool without workers: the job runs alone), 2 and 3 threads (rows in units the
/// threads take, inputs quantized once per job by all of them together,
/// or by each thread once per job for a few tokens) the outputs are
/// bitwise those of one call on one thread, for token counts that do and
/// do not fill the threads' slices, and for a second job right after the
/// first on new values at the same address (what a thread quantized in
/// the first must not be reused).
void checkThreadsEqualOneThread(Kernel kernel, bool q4, bool avx2 = false) {
  if (avx2 && !hasAVX2Kernels())
    GTEST_SKIP() << "this CPU has no AVX2";
  if (!avx2 && !__builtin_cpu_supports("avx512vnni"))
    GTEST_SKIP() << "this CPU has no AVX-512 VNNI";
  std::mt19937 rng(5);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  const int64_t rows = 192, columns = 576;
  Weights w = makeWeights(q4, rows, columns, rng);
  std::vector<uint8_t> packed(w.bytes.size());
  ASSERT_TRUE(
      tlmc::packGGMLPanels(w.bytes, rows, columns, q4 ? 4 : 8, packed)
          .succeeded());
  for (int threads : {1, 2, 3}) {
    bool failed = false;
    tlmrt::ThreadPool *pool = tlmrt::createThreadPool(threads, &failed);
    ASSERT_TRUE(pool && !failed);
    for (int64_t tokens : {1, 16, 17, 37, 128}) {
      SCOPED_TRACE(testing::Message()
                   << threads << " threads, " << tokens << " tokens");
      const int64_t xStride = columns + 16, yStride = rows + 8;
      std::vector<float> x(tokens * xStride), one(tokens * yStride, -1.0f);
      for (int job = 0; job < 2; ++job) {
        for (float &v : x)
          v = normal(rng);
        kernel(x.data(), xStride, tokens, packed.data(), rows, columns,
               one.data(), yStride);
        std::vector<float> pooled(tokens * yStride, -1.0f);
        PooledCall call{kernel, x.data(), xStride, tokens, columns,
                        columns / 32 * (q4 ? 18 : 34), pooled.data(), yStride};
        tlmrt_parallel_for(pool, runPooledRows, packed.data(),
                           reinterpret_cast<uint8_t *>(&call), rows, 16, 0,
                           0);
        EXPECT_EQ(0, std::memcmp(one.data(), pooled.data(),
                                 pooled.size() * sizeof(float)))
            << "job " << job;
      }
    }
    tlmrt::destroyThreadPool(pool);
  }
}

TEST(ProductKernels, Q8_0PanelsOnThreadsEqualOneThread) {
  checkThreadsEqualOneThread(tlmrt_uk_q8_0x16_avx512vnni, /*q4=*/false);
  checkThreadsEqualOneThread(tlmrt_uk_q8_0x16_amx, /*q4=*/false);
}

TEST(ProductKernels, Q4_0PanelsOnThreadsEqualOneThread) {
  checkThreadsEqualOneThread(tlmrt_uk_q4_0x16_avx512vnni, /*q4=*/true);
  checkThreadsEqualOneThread(tlmrt_uk_q4_0x16_amx, /*q4=*/true);
}

TEST(ProductKernels, PanelsAVX2OnThreadsEqualOneThread) {
  checkThreadsEqualOneThread(tlmrt_uk_q8_0x16_avx2, /*q4=*/false,
                             /*avx2=*/true);
  checkThreadsEqualOneThread(tlmrt_uk_q4_0x16_avx2, /*q4=*/true,
                             /*avx2=*/true);
}

/// What a float kernel's weights are.
enum class FloatWeights { F16, BF16, F32 };

/// f16/bf16/f32 weights: the exact product in double, against f32 sums.
/// With `panels`, weights packed by codegen's packFloatPanels, row ranges
/// from multiples of 16 (an odd number of panels, so the pair path and the
/// single-panel one both run; rows that are not a multiple of 16 end in a
/// padded panel, whose outputs past the rows must not be stored), and
/// tokens computed together equal tokens one at a time bitwise (prefill
/// equals decode).
void checkFloatKernel(Kernel kernel, FloatWeights weights,
                      bool panels = false, bool avx2 = false,
                      Kernel sameBits = nullptr) {
  if (avx2 && !hasAVX2Kernels())
    GTEST_SKIP() << "this CPU has no AVX2";
  if (!avx2 &&
      (!__builtin_cpu_supports("avx512f") || !__builtin_cpu_supports("f16c")))
    GTEST_SKIP() << "this CPU has no AVX-512";
  if (sameBits && !__builtin_cpu_supports("avx512f"))
    sameBits = nullptr;
  std::mt19937 rng(99);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_int_distribution<int> exponent(9, 16), mantissa(0, 1023),
      sign(0, 1), low(0, 0xffff);
  const int64_t elementBytes = weights == FloatWeights::F32 ? 4 : 2;
  const int64_t shapes[][3] = {{1, 16, 1},  {5, 48, 1},   {9, 64, 3},
                               {7, 576, 4}, {6, 96, 9},   {16, 1536, 2},
                               {32, 577, 11}, {48, 96, 17}, {32, 31, 1},
                               // Panel pairs converted once (prefill):
                               // odd columns, every tail tile, the widest.
                               {64, 577, 13}, {48, 2048, 6}, {48, 2049, 7},
                               // A padded last panel (stories260K's FFN).
                               {172, 64, 5}, {40, 96, 7}};
  for (const auto &shape : shapes) {
    const int64_t rows = shape[0], columns = shape[1], tokens = shape[2];
    if (!panels && columns % 16 != 0)
      continue;
    SCOPED_TRACE(testing::Message() << rows << " rows, " << columns
                                    << " columns, " << tokens << " tokens");
    std::vector<float> values(rows * columns);
    std::vector<uint8_t> bytes(rows * columns * elementBytes);
    for (int64_t i = 0; i < rows * columns; ++i) {
      uint16_t half = uint16_t(sign(rng) << 15 | exponent(rng) << 10 |
                               mantissa(rng));
      values[i] = halfToFloat(half);
      uint32_t bits;
      std::memcpy(&bits, &values[i], 4);
      switch (weights) {
      case FloatWeights::F16:
        std::memcpy(&bytes[2 * i], &half, 2);
        break;
      case FloatWeights::BF16: {
        // The value's top 16 bits, then the value they stand for.
        uint16_t top = uint16_t(bits >> 16);
        std::memcpy(&bytes[2 * i], &top, 2);
        bits = uint32_t(top) << 16;
        std::memcpy(&values[i], &bits, 4);
        break;
      }
      case FloatWeights::F32:
        // Low bits an f16 has not, so that every bit of an f32 counts.
        bits |= uint32_t(low(rng)) & 0x1fff;
        std::memcpy(&values[i], &bits, 4);
        std::memcpy(&bytes[4 * i], &values[i], 4);
        break;
      }
    }
    const int64_t xStride = columns + 16, yStride = rows + 2;
    std::vector<float> x(tokens * xStride), y(tokens * yStride, -1.0f);
    for (float &v : x)
      v = normal(rng);
    const int64_t rowBytes = columns * elementBytes;
    if (panels) {
      std::vector<char> packed(tlmc::getFloatPanelRows(rows) * rowBytes);
      ASSERT_TRUE(tlmc::packFloatPanels(
                      llvm::ArrayRef<char>(
                          reinterpret_cast<const char *>(bytes.data()),
                          bytes.size()),
                      elementBytes, rows, columns, packed)
                      .succeeded());
      bytes.assign(packed.begin(), packed.end());
    }
    // Two calls, as two threads' ranges; one when the rows are a single
    // (padded) panel.
    const int64_t first = !panels ? 1 : rows > 16 ? 16 : 0;
    kernel(x.data(), xStride, tokens, bytes.data() + first * rowBytes,
           rows - first, columns, y.data() + first, yStride);
    if (first)
      kernel(x.data(), xStride, tokens, bytes.data(), first, columns,
             y.data(), yStride);
    if (panels)
      for (int64_t t = 0; t < tokens; ++t) {
        std::vector<float> single(rows);
        kernel(x.data() + t * xStride, xStride, 1, bytes.data(), rows,
               columns, single.data(), rows);
        EXPECT_EQ(0, std::memcmp(single.data(), &y[t * yStride],
                                 rows * sizeof(float)))
            << "token " << t << " alone differs from its tile";
      }
    if (sameBits) {
      std::vector<float> other(tokens * yStride, -1.0f);
      sameBits(x.data(), xStride, tokens, bytes.data(), rows, columns,
               other.data(), yStride);
      EXPECT_EQ(0, std::memcmp(other.data(), y.data(),
                               other.size() * sizeof(float)))
          << "differs from the other instruction set's kernel";
    }
    for (int64_t t = 0; t < tokens; ++t) {
      for (int64_t r = 0; r < rows; ++r) {
        double exact = 0, magnitude = 0;
        for (int64_t c = 0; c < columns; ++c) {
          exact += double(values[r * columns + c]) * x[t * xStride + c];
          magnitude += std::fabs(double(values[r * columns + c]) *
                                 x[t * xStride + c]);
        }
        EXPECT_NEAR(y[t * yStride + r], exact, 1e-5 * magnitude + 1e-6)
            << "token " << t << " row " << r;
      }
      for (int64_t r = rows; r < yStride; ++r)
        EXPECT_EQ(y[t * yStride + r], -1.0f) << "wrote past the row range";
    }
  }
}

TEST(ProductKernels, F16AVX512MatchesExactProduct) {
  checkFloatKernel(tlmrt_uk_f16_avx512, FloatWeights::F16);
}

TEST(ProductKernels, F32AVX512MatchesExactProduct) {
  checkFloatKernel(tlmrt_uk_f32_avx512, FloatWeights::F32);
}

TEST(ProductKernels, F16PanelsAVX512MatchesExactProduct) {
  checkFloatKernel(tlmrt_uk_f16x16_avx512, FloatWeights::F16,
                   /*panels=*/true);
}

TEST(ProductKernels, BF16PanelsAVX512MatchesExactProduct) {
  checkFloatKernel(tlmrt_uk_bf16x16_avx512, FloatWeights::BF16,
                   /*panels=*/true);
}

TEST(ProductKernels, F32PanelsAVX512MatchesExactProduct) {
  checkFloatKernel(tlmrt_uk_f32x16_avx512, FloatWeights::F32,
                   /*panels=*/true);
}

TEST(ProductKernels, FloatAVX2MatchesExactProduct) {
  checkFloatKernel(tlmrt_uk_f16_avx2, FloatWeights::F16, /*panels=*/false,
                   /*avx2=*/true);
  checkFloatKernel(tlmrt_uk_f32_avx2, FloatWeights::F32, /*panels=*/false,
                   /*avx2=*/true);
}

// The AVX2 panels sum each row's products in the AVX-512 panels' order:
// the same bits (checked where the CPU runs both).
TEST(ProductKernels, FloatPanelsAVX2MatchExactProductAndAVX512) {
  checkFloatKernel(tlmrt_uk_f16x16_avx2, FloatWeights::F16, /*panels=*/true,
                   /*avx2=*/true, tlmrt_uk_f16x16_avx512);
  checkFloatKernel(tlmrt_uk_bf16x16_avx2, FloatWeights::BF16,
                   /*panels=*/true, /*avx2=*/true, tlmrt_uk_bf16x16_avx512);
  checkFloatKernel(tlmrt_uk_f32x16_avx2, FloatWeights::F32, /*panels=*/true,
                   /*avx2=*/true, tlmrt_uk_f32x16_avx512);
  checkFloatKernel(tlmrt_uk_f16x16_avx2_hwprefetch, FloatWeights::F16,
                   /*panels=*/true, /*avx2=*/true, tlmrt_uk_f16x16_avx512);
  checkFloatKernel(tlmrt_uk_bf16x16_avx2_hwprefetch, FloatWeights::BF16,
                   /*panels=*/true, /*avx2=*/true, tlmrt_uk_bf16x16_avx512);
  checkFloatKernel(tlmrt_uk_f32x16_avx2_hwprefetch, FloatWeights::F32,
                   /*panels=*/true, /*avx2=*/true, tlmrt_uk_f32x16_avx512);
}

TEST(ProductKernels, FloatPanelsHardwarePrefetchTwinsMatchExactProduct) {
  checkFloatKernel(tlmrt_uk_f16x16_avx512_hwprefetch, FloatWeights::F16,
                   /*panels=*/true);
  checkFloatKernel(tlmrt_uk_bf16x16_avx512_hwprefetch, FloatWeights::BF16,
                   /*panels=*/true);
  checkFloatKernel(tlmrt_uk_f32x16_avx512_hwprefetch, FloatWeights::F32,
                   /*panels=*/true);
}

#endif // __x86_64__

} // namespace
