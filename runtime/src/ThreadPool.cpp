//===- ThreadPool.cpp - the workers generated code runs products on --*- C++ -*-===//
//
// A fixed set of workers started with the session. tlmrt_parallel_for hands
// each worker one contiguous block of output features and waits for all of
// them: one barrier per product, spun rather than slept through (a 135M
// model runs ~200 products per token, a mutex and condition variable per
// product cost 2 threads more than they gained). Blocks are fixed by (count,
// threads), start at multiples of 4 or 16 features when the count allows, and
// each feature is computed whole by one thread, so results are bitwise the
// same for any thread count.
//
//===----------------------------------------------------------------------===//

#include "runtime/src/Session.h"

#include <pthread.h>
#include <sched.h>

#include <atomic>
#include <cstdlib>
#include "runtime/src/Allocate.h"

namespace tlmrt {

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
  // The current job.
  tlm_kernel_fn kernel = nullptr;
  const uint8_t *weights = nullptr;
  uint8_t *arena = nullptr;
  int64_t count = 0;
  int64_t scalars[2] = {0, 0};
};

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

/// Blocks start at multiples of this many features when the count allows:
/// weights packed in 4-row groups need multiples of 4, and 16 f32 outputs
/// are a cache line (no two threads write one).
int64_t splitUnit(int64_t count) {
  return count % 16 == 0 ? 16 : count % 4 == 0 ? 4 : 1;
}

void runBlock(ThreadPool *pool, int index) {
  int64_t unit = splitUnit(pool->count), units = pool->count / unit;
  int64_t begin = units * index / pool->threads * unit;
  int64_t end = units * (index + 1) / pool->threads * unit;
  if (begin < end)
    pool->kernel(pool->weights, pool->arena, begin, end, pool->scalars[0],
                 pool->scalars[1]);
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
    runBlock(pool, start.index);
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
  if (threads <= 1)
    return nullptr;
  ThreadPool *pool = create<ThreadPool>();
  if (!pool) {
    *failed = true;
    return nullptr;
  }
  pool->threads = threads;
  pool->workers =
      static_cast<pthread_t *>(std::calloc(size_t(threads), sizeof(pthread_t)));
  if (!pool->workers) {
    destroy(pool);
    *failed = true;
    return nullptr;
  }
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
  destroy(pool);
}

} // namespace tlmrt

extern "C" void tlmrt_parallel_for(void *ctx, tlm_kernel_fn kernel,
                                   const uint8_t *weights, uint8_t *arena,
                                   int64_t count, int64_t scalar0,
                                   int64_t scalar1) {
  auto *pool = static_cast<tlmrt::ThreadPool *>(ctx);
  if (!pool || pool->threads <= 1 || count < pool->threads) {
    kernel(weights, arena, 0, count, scalar0, scalar1);
    return;
  }
  pool->kernel = kernel;
  pool->weights = weights;
  pool->arena = arena;
  pool->count = count;
  pool->scalars[0] = scalar0;
  pool->scalars[1] = scalar1;
  pool->pending.store(pool->threads - 1, std::memory_order_relaxed);
  tlmrt::publish(pool);
  tlmrt::runBlock(pool, 0);
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
