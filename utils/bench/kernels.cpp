//===- kernels.cpp - the runtime's product kernels against their roofline -===//
//
// tlmc-kernel-bench: each x86 product kernel of runtime/src/ProductKernels.h
// on SmolLM2-135M's product shapes (q/o 576x576, gate/up 1536x576, down
// 576x1536) for 1 token (decode), 32 (a prefill chunk) and 128 tokens, with
// weights small enough to stay in L2 across iterations: what the kernel
// computes per second when memory is not the bound (decode from DRAM is
// judged by utils/bench/vs-llamacpp.sh). Two more benchmarks measure the
// core's peaks the kernels are judged against: f32 FMAs (16 independent
// 16-lane chains) and AMX int8 tiles (tdpbssd, 4 independent 16x16 results,
// K = 64 and K = 32 as the GGUF-block kernels use). Counters: MAC/s (and
// weight bytes/s). Kernels the host cannot run are skipped. threads/handoff
// is what handing one product to the runtime's 2-thread pool costs
// (tlmrt_parallel_for with a kernel that does nothing), the overhead a
// product's halved work must outweigh to be worth threading
// (tlm-parallelize-rows' min-work).
//
//   build/bin/tlmc-kernel-bench [--benchmark_filter=REGEX]
//
//===----------------------------------------------------------------------===//

#include "codegen/Target/FloatPanels.h"
#include "codegen/Target/GGMLPanels.h"
#include "runtime/src/ProductKernels.h"
#include "runtime/src/Session.h"

#include <benchmark/benchmark.h>

#include <immintrin.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

namespace {

bool hostHas(const char *flag) {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line))
    if (line.rfind("flags", 0) == 0)
      return (line + " ").find(std::string(" ") + flag + " ") !=
             std::string::npos;
  return false;
}

using Kernel = tlmrt_product_kernel *;

enum class Format { Q8_0, Q4_0, F16 };

struct KernelInfo {
  const char *name;
  Kernel kernel;
  Format format;
  const char *needs; // /proc/cpuinfo flag
};

const KernelInfo kKernels[] = {
    {"q8_0x16_amx", tlmrt_uk_q8_0x16_amx, Format::Q8_0, "amx_int8"},
    {"q8_0x16_avx512vnni", tlmrt_uk_q8_0x16_avx512vnni, Format::Q8_0,
     "avx512_vnni"},
    {"q4_0x16_amx", tlmrt_uk_q4_0x16_amx, Format::Q4_0, "amx_int8"},
    {"q4_0x16_avx512vnni", tlmrt_uk_q4_0x16_avx512vnni, Format::Q4_0,
     "avx512_vnni"},
    {"f16x16_avx512", tlmrt_uk_f16x16_avx512, Format::F16, "avx512f"},
    {"q8_0x16_avx2", tlmrt_uk_q8_0x16_avx2, Format::Q8_0, "avx2"},
    {"q4_0x16_avx2", tlmrt_uk_q4_0x16_avx2, Format::Q4_0, "avx2"},
};

/// Random weights of `format` packed as the kernel reads them.
std::vector<uint8_t> packedWeights(Format format, int64_t rows,
                                   int64_t columns, std::mt19937 &rng) {
  std::uniform_int_distribution<int> byte(0, 255), mantissa(0, 1023),
      exponent(9, 13);
  auto half = [&] { return uint16_t(exponent(rng) << 10 | mantissa(rng)); };
  if (format == Format::F16) {
    std::vector<uint16_t> values(rows * columns);
    for (uint16_t &v : values)
      v = half();
    std::vector<char> packed(values.size() * 2);
    if (mlir::failed(tlmc::packFloatPanels(
            llvm::ArrayRef<char>(reinterpret_cast<const char *>(values.data()),
                                 packed.size()),
            2, rows, columns, packed)))
      std::abort();
    return std::vector<uint8_t>(packed.begin(), packed.end());
  }
  const bool q4 = format == Format::Q4_0;
  const int64_t size = q4 ? 18 : 34, blocks = rows * columns / 32;
  std::vector<uint8_t> file(blocks * size), packed(blocks * size);
  for (int64_t b = 0; b < blocks; ++b) {
    uint16_t scale = half();
    std::memcpy(&file[b * size], &scale, 2);
    for (int64_t j = 2; j < size; ++j)
      file[b * size + j] = uint8_t(byte(rng));
  }
  if (mlir::failed(
          tlmc::packGGMLPanels(file, rows, columns, q4 ? 4 : 8, packed)))
    std::abort();
  return packed;
}

void runProduct(benchmark::State &state, const KernelInfo &info,
                int64_t rows, int64_t columns) {
  if (!hostHas(info.needs)) {
    state.SkipWithError((std::string("host lacks ") + info.needs).c_str());
    return;
  }
  const int64_t tokens = state.range(0);
  std::mt19937 rng(1);
  std::vector<uint8_t> weights = packedWeights(info.format, rows, columns, rng);
  std::normal_distribution<float> normal;
  std::vector<float> x(tokens * columns), y(tokens * rows);
  for (float &v : x)
    v = normal(rng);
  for (auto _ : state) {
    info.kernel(x.data(), columns, tokens, weights.data(), rows, columns,
                y.data(), rows);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  const double macs = double(rows) * columns * tokens;
  state.counters["MAC/s"] = benchmark::Counter(
      macs, benchmark::Counter::kIsIterationInvariantRate,
      benchmark::Counter::kIs1000);
  state.counters["weight B/s"] = benchmark::Counter(
      double(weights.size()), benchmark::Counter::kIsIterationInvariantRate,
      benchmark::Counter::kIs1000);
}

/// 16 independent 16-lane FMA chains: the f32 roofline of the float kernels.
__attribute__((target("avx512f"))) void peakF32FMA(benchmark::State &state) {
  __m512 chains[16];
  for (int i = 0; i < 16; ++i)
    chains[i] = _mm512_set1_ps(float(i));
  const __m512 scale = _mm512_set1_ps(1.0000001f), add = _mm512_set1_ps(1e-9f);
  constexpr int64_t kSteps = 1 << 16;
  for (auto _ : state)
    for (int64_t k = 0; k < kSteps; ++k)
      for (int i = 0; i < 16; ++i) {
        chains[i] = _mm512_fmadd_ps(chains[i], scale, add);
        asm volatile("" : "+v"(chains[i]));
      }
  state.counters["MAC/s"] = benchmark::Counter(
      double(kSteps) * 16 * 16, benchmark::Counter::kIsIterationInvariantRate,
      benchmark::Counter::kIs1000);
}

/// 16 independent vpdpbusd chains (u8 x s8 -> s32, 64 multiply-adds each):
/// the int8 roofline of the VNNI kernels.
__attribute__((target("avx512f,avx512vnni"))) void
peakVNNIInt8(benchmark::State &state) {
  if (!hostHas("avx512_vnni")) {
    state.SkipWithError("no AVX512-VNNI on this host");
    return;
  }
  __m512i chains[16];
  for (int i = 0; i < 16; ++i)
    chains[i] = _mm512_set1_epi32(i);
  const __m512i a = _mm512_set1_epi8(3), b = _mm512_set1_epi8(-2);
  constexpr int64_t kSteps = 1 << 16;
  for (auto _ : state)
    for (int64_t k = 0; k < kSteps; ++k)
      for (int i = 0; i < 16; ++i) {
        chains[i] = _mm512_dpbusd_epi32(chains[i], a, b);
        asm volatile("" : "+v"(chains[i]));
      }
  state.counters["MAC/s"] = benchmark::Counter(
      double(kSteps) * 16 * 64, benchmark::Counter::kIsIterationInvariantRate,
      benchmark::Counter::kIs1000);
}

struct alignas(64) TileConfig {
  uint8_t palette = 1, startRow = 0, reserved[14] = {};
  uint16_t bytesPerRow[16] = {};
  uint8_t rows[16] = {};
};

/// tdpbssd into 4 independent 16x16 s32 tiles: the AMX int8 roofline, for
/// K = 64 (a full tile) and K = 32 (one GGUF block, as the kernels use).
__attribute__((target("amx-tile,amx-int8"))) void
peakAMXInt8(benchmark::State &state) {
  if (!hostHas("amx_int8") ||
      syscall(SYS_arch_prctl, 0x1023 /*ARCH_REQ_XCOMP_PERM*/,
              18 /*XFEATURE_XTILEDATA*/) != 0) {
    state.SkipWithError("no AMX-INT8 on this host");
    return;
  }
  const int k = int(state.range(0));
  TileConfig config;
  for (int t = 0; t < 4; ++t) { // C tiles
    config.bytesPerRow[t] = 64;
    config.rows[t] = 16;
  }
  for (int t = 4; t < 6; ++t) { // A tiles: 16 x K bytes
    config.bytesPerRow[t] = uint16_t(k);
    config.rows[t] = 16;
  }
  for (int t = 6; t < 8; ++t) { // B tiles: K/4 x 64 bytes
    config.bytesPerRow[t] = 64;
    config.rows[t] = uint8_t(k / 4);
  }
  _tile_loadconfig(&config);
  alignas(64) static int8_t data[16 * 64] = {1};
  _tile_loadd(4, data, 64);
  _tile_loadd(5, data, 64);
  _tile_loadd(6, data, 64);
  _tile_loadd(7, data, 64);
  _tile_zero(0);
  _tile_zero(1);
  _tile_zero(2);
  _tile_zero(3);
  constexpr int64_t kSteps = 1 << 14;
  for (auto _ : state)
    for (int64_t s = 0; s < kSteps; ++s) {
      _tile_dpbssd(0, 4, 6);
      _tile_dpbssd(1, 4, 7);
      _tile_dpbssd(2, 5, 6);
      _tile_dpbssd(3, 5, 7);
    }
  _tile_release();
  state.counters["MAC/s"] = benchmark::Counter(
      double(kSteps) * 4 * 16 * 16 * k,
      benchmark::Counter::kIsIterationInvariantRate,
      benchmark::Counter::kIs1000);
}

void emptyKernel(const uint8_t *, uint8_t *, int64_t, int64_t, int64_t,
                 int64_t) {}

/// One product handed to 2 threads and waited for, doing nothing.
void threadHandoff(benchmark::State &state) {
  bool failed = false;
  tlmrt::ThreadPool *pool = tlmrt::createThreadPool(2, &failed);
  if (!pool) {
    state.SkipWithError("no thread pool");
    return;
  }
  for (auto _ : state)
    tlmrt_parallel_for(pool, emptyKernel, nullptr, nullptr, 64, 1, 0, 0);
  tlmrt::destroyThreadPool(pool);
}

struct Shape {
  const char *name;
  int64_t rows, columns;
};

const Shape kShapes[] = {
    {"576x576", 576, 576}, {"1536x576", 1536, 576}, {"576x1536", 576, 1536}};

int registerAll() {
  benchmark::RegisterBenchmark("peak/f32_fma", peakF32FMA);
  benchmark::RegisterBenchmark("peak/vnni_int8", peakVNNIInt8);
  benchmark::RegisterBenchmark("threads/handoff", threadHandoff);
  benchmark::RegisterBenchmark("peak/amx_int8_k", peakAMXInt8)
      ->Arg(64)
      ->Arg(32);
  for (const KernelInfo &info : kKernels)
    for (const Shape &shape : kShapes)
      benchmark::RegisterBenchmark(
          (std::string(info.name) + "/" + shape.name + "/tokens").c_str(),
          [&info, &shape](benchmark::State &state) {
            runProduct(state, info, shape.rows, shape.columns);
          })
          ->Arg(1)
          ->Arg(32)
          ->Arg(128);
  return 0;
}

const int registered = registerAll();

} // namespace

BENCHMARK_MAIN();
