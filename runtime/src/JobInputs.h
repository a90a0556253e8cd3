//===- JobInputs.h - a product's quantized inputs, shared by a job's threads -===//
//
// tlmrt_parallel_for hands out a product's output features in units that
// the threads take as they finish the last (ThreadPool.cpp); every unit
// reads the same inputs, which the int8 kernels quantize. Quantized per
// thread, a prefill chunk's inputs cost each thread the whole quantization
// (measured ~2.7x the one-thread time of it on 2 threads). Instead the pool
// keeps one JobInputs: the first thread of a job to call a kernel describes
// the call, then every thread that arrives takes slices of tokens to
// quantize until none is left, and waits until all are done (each slice
// is short, and is only ever taken by a running thread). Later units of
// the job find them ready. The pool allocates it once (no allocation after
// init) and resets it before each job; outside a job (one thread, or a
// product too small to split) there is none and the kernels quantize on
// their stack.
//
// A job's calls too small to share (a decode step's one token: a slice per
// thread would be a wait for the one that took it) are quantized by each
// thread once per job into its ThreadInputs: a thread makes several calls
// per job (the pool's guided takes, and q/k/v or gate/up run as one job
// call one product each on the same input, on one thread too), and
// quantizing the input per call cost ~2.5-5 us per decode job on 2
// threads (SmolLM2-135M, rdtsc around the jobs: the fixed cost grew with
// the input's columns).
//
//===----------------------------------------------------------------------===//

#ifndef TLMRT_JOBINPUTS_H
#define TLMRT_JOBINPUTS_H

#include <stdint.h>

#include <atomic>

namespace tlmrt {

/// Bytes of a job's quantized inputs: a 128-token prefill of products up
/// to ~6.5K columns (values and 8 bytes per 32-column block, per token).
constexpr int64_t kJobInputBytes = 1 << 20;

/// Tokens per slice the threads take: a whole run of the kernels' token
/// scales (QuantizedInputs in ProductKernelsPanels.cpp keeps a block's 16
/// tokens' scales in one cache line; slices of 8, two threads writing one
/// line, measured 0.77x of quantizing per thread on 2 threads).
constexpr int64_t kJobInputSlice = 16;

/// The call whose inputs a JobInputs holds.
struct JobInputsKey {
  const float *x = nullptr;
  int64_t xStride = 0, tokens = 0, columns = 0;
  int format = 0;

  bool operator==(const JobInputsKey &o) const {
    return x == o.x && xStride == o.xStride && tokens == o.tokens &&
           columns == o.columns && format == o.format;
  }
};

struct JobInputs {
  alignas(64) uint8_t bytes[kJobInputBytes];
  /// 0: nothing described yet this job; 1: a thread is describing `key`;
  /// 2: described.
  alignas(64) std::atomic<int> state{0};
  JobInputsKey key;
  int64_t slices = 0;
  alignas(64) std::atomic<int64_t> nextSlice{0};
  alignas(64) std::atomic<int64_t> doneSlices{0};

  /// Before a job starts (no thread is in one).
  void reset() {
    state.store(0, std::memory_order_relaxed);
    nextSlice.store(0, std::memory_order_relaxed);
    doneSlices.store(0, std::memory_order_relaxed);
  }

  /// Whether this job's inputs are (or will be) those of `call`; the first
  /// caller of a job describes its call with `slices` slices.
  bool claim(const JobInputsKey &call, int64_t sliceCount) {
    // Read first: once described, the line stays shared between the
    // threads' caches instead of moving for a failed compare-and-swap.
    if (state.load(std::memory_order_acquire) == 2)
      return key == call;
    int expected = 0;
    if (state.compare_exchange_strong(expected, 1,
                                      std::memory_order_acquire)) {
      key = call;
      slices = sliceCount;
      state.store(2, std::memory_order_release);
      return true;
    }
    while (state.load(std::memory_order_acquire) != 2)
      relax();
    return key == call;
  }

  /// Runs `quantize(slice)` on slices no thread has taken, then waits
  /// until every slice is done.
  template <typename Quantize> void quantizeShared(Quantize quantize) {
    while (nextSlice.load(std::memory_order_relaxed) < slices) {
      int64_t slice = nextSlice.fetch_add(1, std::memory_order_relaxed);
      if (slice >= slices)
        break;
      quantize(slice);
      doneSlices.fetch_add(1, std::memory_order_release);
    }
    while (doneSlices.load(std::memory_order_acquire) < slices)
      relax();
  }

  static void relax() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
  }
};

/// Bytes of a thread's own quantized inputs: one token of up to ~58K
/// columns (values and 8 bytes per 32-column block).
constexpr int64_t kThreadInputBytes = 1 << 16;

/// A thread's quantized inputs of the current job's small calls.
struct ThreadInputs {
  alignas(64) uint8_t bytes[kThreadInputBytes];
  JobInputsKey key;
  uint64_t job = 0;

  /// Whether `bytes` already hold `call`'s inputs, quantized earlier in
  /// job `jobId`; if not, they are about to (the caller quantizes).
  bool holds(const JobInputsKey &call, uint64_t jobId) {
    if (job == jobId && key == call)
      return true;
    job = jobId;
    key = call;
    return false;
  }
};

/// The calling thread's job inputs while it runs a job's units; null
/// otherwise.
JobInputs *currentJobInputs();
/// The calling thread's own inputs while it runs a job (the pool keeps
/// one per thread, allocated with it); null otherwise.
ThreadInputs *currentThreadInputs();
/// The job the calling thread runs (tlmrt_parallel_for, on the pool or
/// alone), unique in its pool; 0 outside one.
uint64_t currentJobId();

} // namespace tlmrt

#endif // TLMRT_JOBINPUTS_H
