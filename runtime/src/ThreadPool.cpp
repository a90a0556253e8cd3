//===- ThreadPool.cpp - the workers generated code runs products on --*- C++ -*-===//
//
// A fixed set of workers started with the session. tlmrt_parallel_for cuts
// a product's output features into units, gives each thread a contiguous
// block of them, and every thread, the caller included, takes its own
// block from the front and then what is left of the others' blocks from
// the back, until none is left; then the caller waits for all of them:
// one barrier per product, spun rather than slept through (a 135M model
// runs ~150 jobs per token, a mutex and condition variable per job cost 2
// threads more than they gained). What crosses between the cores per job
// is kept to the least: the job in one line the workers spin on, a done
// line per worker only the caller reads, blocks nobody resets (JobLine,
// DoneLine, UnitBlock below): an empty job on 2 threads went from ~1.25
// to ~0.85 us (tlmc-kernel-bench threads/handoff; the cores' round trip
// here is ~0.55 us).
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
#include "runtime/src/JobProfile.h"
#include "runtime/src/Session.h"

#include <pthread.h>
#include <sched.h>

#include <atomic>
#include <cstdlib>
#include "runtime/src/Allocate.h"

namespace tlmrt {

/// A job as the workers see it: everything they need in one cache line,
/// the generation that announces it last. The workers spin reading this
/// line, so one transfer of it between the cores brings a worker the whole
/// job. On this kind of VM a line takes ~300 ns from one core to the other
/// (utils: a ping-pong of two atomics, ~550 ns round trip), so every line a
/// worker must fetch before it can start, or that the caller must see
/// before it can go on, costs that much on each of the ~150 jobs of a
/// token: spreading the job over the pool's fields, the blocks the caller
/// reset and the inputs' job id cost ~1.25 us per empty job
/// (tlmc-kernel-bench threads/handoff).
struct Job {
  tlm_kernel_fn kernel = nullptr;
  const uint8_t *weights = nullptr;
  uint8_t *arena = nullptr;
  int64_t scalars[2] = {0, 0};
  int64_t count = 0;
  /// Units of `unitFeatures` features, `units` of them.
  uint32_t unitFeatures = 0;
  uint32_t units = 0;
};
struct alignas(64) JobLine {
  /// Bumped (release) after `job` is written; the job's id.
  std::atomic<uint64_t> generation{0};
  Job job;
};
static_assert(sizeof(JobLine) == 64, "a job is one cache line");

/// What a worker says when it has finished a job: the job's generation, in
/// a line of its own that only the caller reads.
struct alignas(64) DoneLine {
  std::atomic<uint64_t> generation{0};
};

/// A thread's block of a job's units: [front, back), packed in one word
/// with the job's generation (its low 16 bits), so that its owner (taking
/// from the front) and a thread that finished its own block (taking from
/// the back) agree on every take with one compare-and-swap. A word that
/// still holds an earlier job's tag stands for the block's whole initial
/// range, which both threads compute from the job line: nobody resets the
/// blocks between jobs (that was a line per worker the caller wrote and
/// the worker then had to fetch back). Every block is taken from in every
/// job (its owner starts there), so a tag is never more than one job old
/// and 16 bits cannot wrap onto the current one. One cache line each, so
/// the owners' takes do not contend.
struct alignas(64) UnitBlock {
  std::atomic<uint64_t> range{0};

  static constexpr uint64_t kUnitMask = (uint64_t(1) << 24) - 1;
  static uint64_t pack(uint64_t tag, uint64_t front, uint64_t back) {
    return (tag & 0xffff) << 48 | (front & kUnitMask) << 24 |
           (back & kUnitMask);
  }
  /// Whether `word` was packed for job `tag`.
  static bool isOf(uint64_t word, uint64_t tag) {
    return (word >> 48) == (tag & 0xffff);
  }
  /// Takes half of what is left (at least one unit) of job `tag`, whose
  /// initial range for this block is [first, last), from the front or
  /// from the back; false when the block is empty.
  bool take(uint64_t tag, uint64_t first, uint64_t last, bool fromFront,
            int64_t *begin, int64_t *end) {
    uint64_t seen = range.load(std::memory_order_relaxed);
    for (;;) {
      uint64_t front = first, back = last;
      if (isOf(seen, tag)) {
        front = (seen >> 24) & kUnitMask;
        back = seen & kUnitMask;
      }
      if (front >= back) {
        // An empty initial range still takes the job's tag, so that no
        // word ever lags more than one job behind.
        if (!isOf(seen, tag) &&
            !range.compare_exchange_weak(seen, pack(tag, front, back),
                                         std::memory_order_relaxed,
                                         std::memory_order_relaxed))
          continue;
        return false;
      }
      uint64_t units = (back - front + 1) / 2;
      uint64_t next = fromFront ? pack(tag, front + units, back)
                                : pack(tag, front, back - units);
      if (range.compare_exchange_weak(seen, next, std::memory_order_relaxed,
                                      std::memory_order_relaxed)) {
        *begin = int64_t(fromFront ? front : back - units);
        *end = int64_t(fromFront ? front + units : back);
        return true;
      }
    }
  }
};

/// The most units a job can have (a block's packed range).
constexpr int64_t kMaxUnits = int64_t(UnitBlock::kUnitMask);

struct ThreadPool {
  int threads = 1;
  pthread_t *workers = nullptr;
  int started = 0;
  // The current job; workers spin on its generation for a while (a decode
  // step runs a product every few microseconds, and waking a sleeping
  // thread costs tens of them), then sleep on `wake`. `sleepers` says
  // whether the caller must signal: a worker counts itself in before it
  // checks the generation a last time under the mutex, and the caller
  // bumps the generation before it reads `sleepers` (both sequentially
  // consistent), so either the caller sees the sleeper or the sleeper sees
  // the job. Without sleepers, handing out a job takes no lock.
  JobLine current;
  // One per worker (index 0, the caller's, unused).
  DoneLine *done = nullptr;
  alignas(64) std::atomic<int> sleepers{0};
  std::atomic<bool> stop{false};
  pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
  pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
  // Ids of jobs run alone on the caller (their ThreadInputs' key), apart
  // from the generations.
  uint64_t aloneJobs = 0;
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
  // Ids apart from the generations (which stay below 2^63).
  InJob job({uint64_t(1) << 63 | ++pool->aloneJobs, nullptr, &pool->own[0]});
  kernel(weights, arena, 0, count, scalar0, scalar1);
}

/// Runs `job` (generation `id`) until none of its units is left: the own
/// block's from the front, then the others' from the back.
void runUnits(ThreadPool *pool, int index, const Job &job, uint64_t id) {
  InJob in({id, pool->inputs, &pool->own[index]});
  const int threads = pool->threads;
  const uint64_t units = job.units;
  for (int k = 0; k < threads; ++k) {
    const int b = (index + k) % threads;
    const uint64_t first = units * b / threads;
    const uint64_t last = units * (b + 1) / threads;
    int64_t from, to;
    while (pool->blocks[b].take(id, first, last, /*fromFront=*/k == 0, &from,
                                &to)) {
      int64_t begin = from * job.unitFeatures;
      int64_t end = to * job.unitFeatures;
      const unsigned long long takeStarted = profileTakeStart();
      job.kernel(job.weights, job.arena, begin,
                 end < job.count ? end : job.count, job.scalars[0],
                 job.scalars[1]);
      profileTakeEnd(index, takeStarted);
    }
  }
}

/// Waits until the generation moves past `seen`; returns the new one.
uint64_t waitForWork(ThreadPool *pool, uint64_t seen) {
  for (int i = 0; i < kSpinPauses; ++i) {
    uint64_t now = pool->current.generation.load(std::memory_order_acquire);
    if (now != seen)
      return now;
    cpuRelax();
  }
  pthread_mutex_lock(&pool->mutex);
  pool->sleepers.fetch_add(1, std::memory_order_seq_cst);
  uint64_t now;
  while ((now = pool->current.generation.load(std::memory_order_seq_cst)) ==
         seen)
    pthread_cond_wait(&pool->wake, &pool->mutex);
  pool->sleepers.fetch_sub(1, std::memory_order_relaxed);
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
    // The caller rewrites the line only after every worker is done.
    const Job job = pool->current.job;
    profileThreadStart(start.index);
    runUnits(pool, start.index, job, seen);
    profileThreadEnd(start.index);
    pool->done[start.index].generation.store(seen, std::memory_order_release);
  }
  return nullptr;
}

/// Publishes a new generation (a job, or the stop) and wakes sleepers.
void publish(ThreadPool *pool) {
  pool->current.generation.fetch_add(1, std::memory_order_seq_cst);
  if (pool->sleepers.load(std::memory_order_seq_cst) == 0)
    return;
  pthread_mutex_lock(&pool->mutex);
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
  pool->done = static_cast<DoneLine *>(
      std::aligned_alloc(alignof(DoneLine), threads * sizeof(DoneLine)));
  if (!pool->workers || (threads > 1 && !pool->inputs) || !pool->blocks ||
      !pool->own || !pool->done) {
    std::free(pool->workers);
    std::free(pool->inputs);
    std::free(pool->blocks);
    std::free(pool->own);
    std::free(pool->done);
    destroy(pool);
    *failed = true;
    return nullptr;
  }
  if (pool->inputs)
    new (pool->inputs) JobInputs();
  for (int i = 0; i < threads; ++i)
    new (&pool->own[i]) ThreadInputs();
  for (int i = 0; i < threads; ++i) {
    new (&pool->blocks[i]) UnitBlock();
    new (&pool->done[i]) DoneLine();
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
  std::free(pool->inputs); // JobInputs, UnitBlock, ThreadInputs and
  std::free(pool->blocks); // DoneLine are trivially destructible
  std::free(pool->own);
  std::free(pool->done);
  destroy(pool);
}

} // namespace tlmrt

extern "C" void tlmrt_parallel_for(void *ctx, tlm_kernel_fn kernel,
                                   const uint8_t *weights, uint8_t *arena,
                                   int64_t count, int64_t grain,
                                   int64_t scalar0, int64_t scalar1) {
  auto *pool = static_cast<tlmrt::ThreadPool *>(ctx);
  tlmrt::profileJobStart(reinterpret_cast<const void *>(kernel));
  auto alone = [&] {
    tlmrt::runAlone(pool, kernel, weights, arena, count, scalar0, scalar1);
    tlmrt::profileOwnUnitsDone();
    tlmrt::profileJobEnd();
  };
  if (!pool || pool->threads <= 1 || count < pool->threads)
    return alone();
  const int64_t unit = tlmrt::splitUnit(count, grain > 0 ? grain : 1,
                                        pool->threads);
  const int64_t units = (count + unit - 1) / unit;
  if (units > tlmrt::kMaxUnits) // beyond a block's packed range
    return alone();
  // The job line, then its generation (publish).
  tlmrt::Job &job = pool->current.job;
  job.kernel = kernel;
  job.weights = weights;
  job.arena = arena;
  job.scalars[0] = scalar0;
  job.scalars[1] = scalar1;
  job.count = count;
  job.unitFeatures = uint32_t(unit);
  job.units = uint32_t(units);
  pool->inputs->reset();
  tlmrt::publish(pool);
  const uint64_t id =
      pool->current.generation.load(std::memory_order_relaxed);
  tlmrt::runUnits(pool, 0, job, id);
  tlmrt::profileOwnUnitsDone();
  // The workers are awake and on their blocks: spin for them, yielding the
  // processor now and then in case one of them is waiting for it (more
  // threads than processors, or a busy machine).
  for (int i = 1; i < pool->threads; ++i)
    for (int spins = 1;
         pool->done[i].generation.load(std::memory_order_acquire) != id;
         ++spins) {
      tlmrt::cpuRelax();
      if (spins % tlmrt::kSpinPauses == 0)
        sched_yield();
    }
  tlmrt::profileJobEnd();
}
