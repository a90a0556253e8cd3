//===- ThreadPool.cpp - the workers generated code runs products on --*- C++ -*-===//
//
// A fixed set of workers started with the session. tlmrt_parallel_for cuts
// a product's output features into units, gives each thread a contiguous
// block of them, and every thread, the caller included, takes its own
// block from the front and then what is left of the others' blocks from
// the back, until none is left; then the caller waits for all of them:
// one barrier per product, spun rather than slept through (a 135M model
// runs ~150 jobs per token, a mutex and condition variable per job cost 2
// threads more than they gained).
//
// Taking from the front keeps a thread's weights one stream (decode is a
// stream of weights: a take continues where its last ended, so the
// kernels' prefetch runs on). Taking the others' rest from the back, where
// their owner will come last, balances the job: a worker that is late to
// it, or slower (measured on Zen 5, 2 threads: the worker's half of a
// decode product took 5-20% longer than the caller's, and the caller
// waited ~10 us per layer for it), leaves its last units to the other.
// Every take is half of what is left in the block (guided), at least one
// unit, so a thread makes a few kernel calls per job and the two finish
// within about one unit of each other.
//
// Units are multiples of 4, 16 or 32 features when the count allows (32:
// a pair of 16-row panels, which the int8 and f16 kernels tile together),
// and each feature is computed whole by one thread with the same code, so
// results are bitwise the same for any thread count and any order the
// units are taken in. The pool's JobInputs is where the int8 kernels
// quantize a job's inputs once, the threads sharing the work
// (JobInputs.h).
//
//===----------------------------------------------------------------------===//

#include "runtime/src/JobInputs.h"
#include "runtime/src/Session.h"

#include <pthread.h>
#include <sched.h>

#include <atomic>
#include <cstdlib>
#include "runtime/src/Allocate.h"

namespace tlmrt {

/// A thread's block of a job's units: [front, back), packed in one word
/// so that its owner (taking from the front) and a thread that finished
/// its own block (taking from the back) agree on every take with one
/// compare-and-swap. One cache line each, so the owners' takes do not
/// contend.
struct alignas(64) UnitBlock {
  std::atomic<uint64_t> range{0};

  static uint64_t pack(uint32_t front, uint32_t back) {
    return uint64_t(front) | uint64_t(back) << 32;
  }
  void reset(int64_t front, int64_t back) {
    range.store(pack(uint32_t(front), uint32_t(back)),
                std::memory_order_relaxed);
  }
  /// Takes half of what is left (at least one unit) from the front, or
  /// from the back; false when the block is empty.
  bool take(bool fromFront, int64_t *begin, int64_t *end) {
    uint64_t seen = range.load(std::memory_order_relaxed);
    for (;;) {
      uint32_t front = uint32_t(seen), back = uint32_t(seen >> 32);
      if (front >= back)
        return false;
      uint32_t units = (back - front + 1) / 2;
      uint64_t next = fromFront ? pack(front + units, back)
                                : pack(front, back - units);
      if (range.compare_exchange_weak(seen, next, std::memory_order_relaxed,
                                      std::memory_order_relaxed)) {
        *begin = fromFront ? front : back - units;
        *end = fromFront ? front + units : back;
        return true;
      }
    }
  }
};

struct ThreadPool {
  int threads = 1;
  pthread_t *workers = nullptr;
  int started = 0;
  // A product is handed out by bumping `generation` (release: the job
  // fields below are written before it) and finished when `pending` drops
  // to 0. Workers spin on `generation` for a while (a decode step runs a
  // product every few microseconds, and waking a sleeping thread costs
  // tens of them), then sleep on `wake`; `sleepers` says whether the
  // caller must signal.
  std::atomic<uint64_t> generation{0};
  std::atomic<int> pending{0};
  pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
  pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
  int sleepers = 0; // guarded by mutex
  std::atomic<bool> stop{false};
  // The current job: the kernel, its arguments, and its units of
  // `unitFeatures` features, handed out from one block per thread.
  tlm_kernel_fn kernel = nullptr;
  const uint8_t *weights = nullptr;
  uint8_t *arena = nullptr;
  int64_t count = 0;
  int64_t scalars[2] = {0, 0};
  int64_t unitFeatures = 0;
  // One per thread (index 0: the caller).
  UnitBlock *blocks = nullptr;
  // The current job's quantized inputs, shared by its threads (none on
  // one thread).
  JobInputs *inputs = nullptr;
  // Each thread's own quantized inputs (index 0: the caller).
  ThreadInputs *own = nullptr;
};

namespace {
/// The job the calling thread runs: its id, its shared inputs (none when
/// run alone) and the thread's own; all null outside a job.
struct ThreadJob {
  uint64_t id = 0;
  JobInputs *shared = nullptr;
  ThreadInputs *own = nullptr;
};
thread_local ThreadJob currentJob;

/// Makes `job` the calling thread's current job while it lives.
struct InJob {
  explicit InJob(ThreadJob job) { currentJob = job; }
  ~InJob() { currentJob = ThreadJob(); }
};
} // namespace

JobInputs *currentJobInputs() { return currentJob.shared; }

uint64_t currentJobId() { return currentJob.id; }

ThreadInputs *currentThreadInputs() { return currentJob.own; }

namespace {

/// How long a worker spins before it sleeps: ~2^14 pauses, a few hundred
/// microseconds, longer than the gaps between the products of one token.
constexpr int kSpinPauses = 1 << 14;

inline void cpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

constexpr size_t kWorkerStackBytes = 2 << 20;

struct WorkerStart {
  ThreadPool *pool;
  int index;
};

/// Units start at multiples of this many features: the largest of 32, 16
/// and 4 that is a multiple of the kernel's grain, divides the count and
/// still leaves each thread a unit; else the grain. 32: the panel kernels
/// tile pairs of 16-row panels (a take of an odd number of panels runs its
/// last one alone, at ~0.75x the pairs' rate); 16 f32 outputs are a cache
/// line (no two threads write one).
int64_t splitUnit(int64_t count, int64_t grain, int threads) {
  for (int64_t unit : {32, 16, 4})
    if (unit % grain == 0 && count % unit == 0 && count / unit >= threads)
      return unit;
  return grain;
}

/// Runs `kernel` over all `count` features on the calling thread, as a
/// job of its own when there is a pool (its calls on one input quantize it
/// once, into the caller's inputs).
void runAlone(ThreadPool *pool, tlm_kernel_fn kernel, const uint8_t *weights,
              uint8_t *arena, int64_t count, int64_t scalar0,
              int64_t scalar1) {
  if (!pool) {
    kernel(weights, arena, 0, count, scalar0, scalar1);
    return;
  }
  InJob job({JobInputs::nextJobId(), nullptr, &pool->own[0]});
  kernel(weights, arena, 0, count, scalar0, scalar1);
}

/// Runs the current job's units until none is left: its own block's from
/// the front, then the others' from the back.
void runUnits(ThreadPool *pool, int index) {
  InJob job({pool->inputs->job, pool->inputs, &pool->own[index]});
  for (int k = 0; k < pool->threads; ++k) {
    UnitBlock &block = pool->blocks[(index + k) % pool->threads];
    int64_t first, last;
    while (block.take(/*fromFront=*/k == 0, &first, &last)) {
      int64_t begin = first * pool->unitFeatures;
      int64_t end = last * pool->unitFeatures;
      pool->kernel(pool->weights, pool->arena, begin,
                   end < pool->count ? end : pool->count, pool->scalars[0],
                   pool->scalars[1]);
    }
  }
}

/// Waits until the generation moves past `seen`; returns the new one.
uint64_t waitForWork(ThreadPool *pool, uint64_t seen) {
  for (int i = 0; i < kSpinPauses; ++i) {
    uint64_t now = pool->generation.load(std::memory_order_acquire);
    if (now != seen)
      return now;
    cpuRelax();
  }
  pthread_mutex_lock(&pool->mutex);
  ++pool->sleepers;
  uint64_t now;
  while ((now = pool->generation.load(std::memory_order_acquire)) == seen)
    pthread_cond_wait(&pool->wake, &pool->mutex);
  --pool->sleepers;
  pthread_mutex_unlock(&pool->mutex);
  return now;
}

void *workerMain(void *arg) {
  WorkerStart start = *static_cast<WorkerStart *>(arg);
  destroy(static_cast<WorkerStart *>(arg));
  ThreadPool *pool = start.pool;
  uint64_t seen = 0;
  for (;;) {
    seen = waitForWork(pool, seen);
    if (pool->stop.load(std::memory_order_acquire))
      break;
    runUnits(pool, start.index);
    pool->pending.fetch_sub(1, std::memory_order_release);
  }
  return nullptr;
}

/// Publishes a new generation (a job, or the stop) and wakes sleepers.
void publish(ThreadPool *pool) {
  pool->generation.fetch_add(1, std::memory_order_release);
  pthread_mutex_lock(&pool->mutex);
  if (pool->sleepers)
    pthread_cond_broadcast(&pool->wake);
  pthread_mutex_unlock(&pool->mutex);
}

} // namespace

ThreadPool *createThreadPool(int threads, bool *failed) {
  *failed = false;
  if (threads < 1)
    threads = 1;
  ThreadPool *pool = create<ThreadPool>();
  if (!pool) {
    *failed = true;
    return nullptr;
  }
  pool->threads = threads;
  pool->workers =
      static_cast<pthread_t *>(std::calloc(size_t(threads), sizeof(pthread_t)));
  if (threads > 1)
    pool->inputs = static_cast<JobInputs *>(
        std::aligned_alloc(alignof(JobInputs), sizeof(JobInputs)));
  pool->blocks = static_cast<UnitBlock *>(
      std::aligned_alloc(alignof(UnitBlock), threads * sizeof(UnitBlock)));
  pool->own = static_cast<ThreadInputs *>(
      std::aligned_alloc(alignof(ThreadInputs), threads * sizeof(ThreadInputs)));
  if (!pool->workers || (threads > 1 && !pool->inputs) || !pool->blocks ||
      !pool->own) {
    std::free(pool->workers);
    std::free(pool->inputs);
    std::free(pool->blocks);
    std::free(pool->own);
    destroy(pool);
    *failed = true;
    return nullptr;
  }
  if (pool->inputs)
    new (pool->inputs) JobInputs();
  for (int i = 0; i < threads; ++i)
    new (&pool->own[i]) ThreadInputs();
  for (int i = 0; i < threads; ++i)
    new (&pool->blocks[i]) UnitBlock();
  // The product kernels keep their quantized inputs on the stack (up to
  // ~0.5 MiB, ProductKernelsPanels.cpp): ask for enough whatever the libc's
  // default (musl's is 128 KiB).
  pthread_attr_t attributes;
  if (pthread_attr_init(&attributes) != 0) {
    destroyThreadPool(pool);
    *failed = true;
    return nullptr;
  }
  pthread_attr_setstacksize(&attributes, kWorkerStackBytes);
  // Workers take blocks 1..threads-1; the calling thread takes block 0.
  for (int i = 1; i < threads; ++i) {
    WorkerStart *start = create<WorkerStart>(pool, i);
    if (!start || pthread_create(&pool->workers[i], &attributes, workerMain,
                                 start) != 0) {
      destroy(start);
      pthread_attr_destroy(&attributes);
      destroyThreadPool(pool);
      *failed = true;
      return nullptr;
    }
    ++pool->started;
  }
  pthread_attr_destroy(&attributes);
  return pool;
}

void destroyThreadPool(ThreadPool *pool) {
  if (!pool)
    return;
  pool->stop.store(true, std::memory_order_release);
  publish(pool);
  for (int i = 1; i <= pool->started; ++i)
    pthread_join(pool->workers[i], nullptr);
  std::free(pool->workers);
  std::free(pool->inputs); // JobInputs, UnitBlock and ThreadInputs are
  std::free(pool->blocks); // trivially destructible
  std::free(pool->own);
  destroy(pool);
}

} // namespace tlmrt

extern "C" void tlmrt_parallel_for(void *ctx, tlm_kernel_fn kernel,
                                   const uint8_t *weights, uint8_t *arena,
                                   int64_t count, int64_t grain,
                                   int64_t scalar0, int64_t scalar1) {
  auto *pool = static_cast<tlmrt::ThreadPool *>(ctx);
  if (!pool || pool->threads <= 1 || count < pool->threads) {
    tlmrt::runAlone(pool, kernel, weights, arena, count, scalar0, scalar1);
    return;
  }
  pool->kernel = kernel;
  pool->weights = weights;
  pool->arena = arena;
  pool->count = count;
  pool->scalars[0] = scalar0;
  pool->scalars[1] = scalar1;
  const int64_t unit = tlmrt::splitUnit(count, grain > 0 ? grain : 1,
                                        pool->threads);
  const int64_t units = (count + unit - 1) / unit;
  if (units > int64_t(UINT32_MAX)) { // beyond a block's packed range
    tlmrt::runAlone(pool, kernel, weights, arena, count, scalar0, scalar1);
    return;
  }
  pool->unitFeatures = unit;
  for (int i = 0; i < pool->threads; ++i)
    pool->blocks[i].reset(units * i / pool->threads,
                          units * (i + 1) / pool->threads);
  pool->inputs->reset();
  pool->pending.store(pool->threads - 1, std::memory_order_relaxed);
  tlmrt::publish(pool);
  tlmrt::runUnits(pool, 0);
  // The workers are awake and on their blocks: spin for them, yielding the
  // processor now and then in case one of them is waiting for it (more
  // threads than processors, or a busy machine).
  for (int spins = 1; pool->pending.load(std::memory_order_acquire) > 0;
       ++spins) {
    tlmrt::cpuRelax();
    if (spins % tlmrt::kSpinPauses == 0)
      sched_yield();
  }
}
