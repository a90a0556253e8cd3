//===- ThreadPool.cpp - the workers generated code runs products on --*- C++ -*-===//
//
// A fixed set of workers started with the session. tlmrt_parallel_for cuts
// a product's output features into chunks (kChunksPerThread per thread,
// now one), gives each thread a contiguous block of them, and every
// thread, the caller included, takes its own block's chunks in order and
// then the chunks left in the others' blocks, until none is left; then the
// caller waits for all of them: one barrier per product, spun rather than
// slept through (a 135M model runs ~150 jobs per token, a mutex and
// condition variable per job cost 2 threads more than they gained).
// Taking its own block in order keeps a thread's weights one stream, so
// the kernels' prefetch runs on (decode is a stream of weights); taking
// what is left of the others' blocks means a worker that is late to a job
// (woken, or busy elsewhere) does not hold the caller up. Chunks start at
// multiples of 4, 16 or 32 features when the count allows (32: a pair of
// 16-row panels, which the int8 and f16 kernels tile together), and each
// feature is computed whole by one
// thread with the same code, so results are bitwise the same for any
// thread count and any order the chunks are taken in. The pool's
// JobInputs is where the int8 kernels quantize a job's inputs once, the
// threads sharing the work (JobInputs.h).
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

/// A thread's block of a job's chunks: the next to take (by its owner, or
/// by a thread that finished its own) and the end. One cache line each, so
/// taking chunks from different blocks does not contend.
struct alignas(64) ChunkBlock {
  std::atomic<int64_t> next{0};
  int64_t end = 0;
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
  // The current job: the kernel, its arguments, and its chunks of
  // `chunkFeatures` features, handed out from one block per thread.
  tlm_kernel_fn kernel = nullptr;
  const uint8_t *weights = nullptr;
  uint8_t *arena = nullptr;
  int64_t count = 0;
  int64_t scalars[2] = {0, 0};
  int64_t chunkFeatures = 0;
  // One per thread (index 0: the caller).
  ChunkBlock *blocks = nullptr;
  // The current job's quantized inputs, shared by its threads.
  JobInputs *inputs = nullptr;
};

namespace {
thread_local JobInputs *currentInputs = nullptr;
} // namespace

JobInputs *currentJobInputs() { return currentInputs; }

void setCurrentJobInputs(JobInputs *inputs) { currentInputs = inputs; }

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

/// Chunks per thread. One: each thread streams its block's weights as one
/// run, and a thread that has not started its block when another is done
/// hands it over whole. Measured on Zen 5 (SmolLM2-135M Q4_0, 2 threads,
/// paired runs): decode +8% against 2 chunks per thread (each of a decode
/// step's ~150 jobs is a few microseconds; a second chunk per thread is a
/// second stream to ramp up and a second quantization of the input), 128-
/// token prefill within noise (+2%). Two had been chosen so that a thread
/// ~25% slower (a busy core) hands its second chunk to the other; on
/// these machines the streams cost more than that imbalance.
constexpr int64_t kChunksPerThread = 1;

/// Chunks start at multiples of this many items: the largest of 32, 16
/// and 4 that is a multiple of the kernel's grain, divides the count and
/// still leaves kChunksPerThread chunks per thread; else the grain. 32:
/// the panel kernels tile pairs of 16-row panels (a chunk of an odd number
/// of panels runs its last one alone, at ~0.75x the pairs' rate); 16 f32
/// outputs are a cache line (no two threads write one).
int64_t splitUnit(int64_t count, int64_t grain, int threads) {
  for (int64_t unit : {32, 16, 4})
    if (unit % grain == 0 && count % unit == 0 &&
        count / unit >= threads * kChunksPerThread)
      return unit;
  return grain;
}

/// Takes and runs chunks of the current job until none is left: its own
/// block's first, then the others'.
void runChunks(ThreadPool *pool, int index) {
  setCurrentJobInputs(pool->inputs);
  for (int k = 0; k < pool->threads; ++k) {
    ChunkBlock &block = pool->blocks[(index + k) % pool->threads];
    for (;;) {
      int64_t chunk = block.next.fetch_add(1, std::memory_order_relaxed);
      if (chunk >= block.end)
        break;
      int64_t begin = chunk * pool->chunkFeatures;
      int64_t end = begin + pool->chunkFeatures;
      pool->kernel(pool->weights, pool->arena, begin,
                   end < pool->count ? end : pool->count, pool->scalars[0],
                   pool->scalars[1]);
    }
  }
  setCurrentJobInputs(nullptr);
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
    runChunks(pool, start.index);
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
  pool->inputs = static_cast<JobInputs *>(
      std::aligned_alloc(alignof(JobInputs), sizeof(JobInputs)));
  pool->blocks = static_cast<ChunkBlock *>(
      std::aligned_alloc(alignof(ChunkBlock), threads * sizeof(ChunkBlock)));
  if (!pool->workers || !pool->inputs || !pool->blocks) {
    std::free(pool->workers);
    std::free(pool->inputs);
    std::free(pool->blocks);
    destroy(pool);
    *failed = true;
    return nullptr;
  }
  new (pool->inputs) JobInputs();
  for (int i = 0; i < threads; ++i)
    new (&pool->blocks[i]) ChunkBlock();
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
  std::free(pool->inputs); // JobInputs and ChunkBlock are trivially
  std::free(pool->blocks); // destructible
  destroy(pool);
}

} // namespace tlmrt

extern "C" void tlmrt_parallel_for(void *ctx, tlm_kernel_fn kernel,
                                   const uint8_t *weights, uint8_t *arena,
                                   int64_t count, int64_t grain,
                                   int64_t scalar0, int64_t scalar1) {
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
  const int64_t unit = tlmrt::splitUnit(count, grain > 0 ? grain : 1,
                                        pool->threads);
  const int64_t units = (count + unit - 1) / unit;
  int64_t chunkUnits = units / (pool->threads * tlmrt::kChunksPerThread);
  if (chunkUnits < 1)
    chunkUnits = 1;
  pool->chunkFeatures = chunkUnits * unit;
  const int64_t chunks = (count + pool->chunkFeatures - 1) / pool->chunkFeatures;
  for (int i = 0; i < pool->threads; ++i) {
    pool->blocks[i].next.store(chunks * i / pool->threads,
                               std::memory_order_relaxed);
    pool->blocks[i].end = chunks * (i + 1) / pool->threads;
  }
  pool->inputs->reset();
  pool->pending.store(pool->threads - 1, std::memory_order_relaxed);
  tlmrt::publish(pool);
  tlmrt::runChunks(pool, 0);
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
