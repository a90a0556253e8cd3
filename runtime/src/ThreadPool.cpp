//===- ThreadPool.cpp - the workers generated code runs products on --*- C++ -*-===//
//
// A fixed set of workers started with the session. tlmrt_parallel_for hands
// each worker one contiguous block of output features and waits for all of
// them: one barrier per product. Blocks are fixed by (count, threads), and
// each feature is computed whole by one thread, so results are bitwise the
// same for any thread count.
//
//===----------------------------------------------------------------------===//

#include "runtime/src/Session.h"

#include <pthread.h>
#include <cstdlib>
#include <new>

namespace tlmrt {

struct ThreadPool {
  int threads = 1;
  pthread_t *workers = nullptr;
  int started = 0;
  pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
  pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
  pthread_cond_t done = PTHREAD_COND_INITIALIZER;
  uint64_t generation = 0;
  int pending = 0;
  bool stop = false;
  // The current job.
  tlm_kernel_fn kernel = nullptr;
  const uint8_t *weights = nullptr;
  uint8_t *arena = nullptr;
  int64_t count = 0;
};

namespace {

struct WorkerStart {
  ThreadPool *pool;
  int index;
};

void runBlock(ThreadPool *pool, int index) {
  int64_t begin = pool->count * index / pool->threads;
  int64_t end = pool->count * (index + 1) / pool->threads;
  if (begin < end)
    pool->kernel(pool->weights, pool->arena, begin, end);
}

void *workerMain(void *arg) {
  WorkerStart start = *static_cast<WorkerStart *>(arg);
  delete static_cast<WorkerStart *>(arg);
  ThreadPool *pool = start.pool;
  uint64_t seen = 0;
  pthread_mutex_lock(&pool->mutex);
  for (;;) {
    while (!pool->stop && pool->generation == seen)
      pthread_cond_wait(&pool->wake, &pool->mutex);
    if (pool->stop)
      break;
    seen = pool->generation;
    pthread_mutex_unlock(&pool->mutex);
    runBlock(pool, start.index);
    pthread_mutex_lock(&pool->mutex);
    if (--pool->pending == 0)
      pthread_cond_signal(&pool->done);
  }
  pthread_mutex_unlock(&pool->mutex);
  return nullptr;
}

} // namespace

ThreadPool *createThreadPool(int threads, bool *failed) {
  *failed = false;
  if (threads <= 1)
    return nullptr;
  ThreadPool *pool = new (std::nothrow) ThreadPool();
  if (!pool) {
    *failed = true;
    return nullptr;
  }
  pool->threads = threads;
  pool->workers =
      static_cast<pthread_t *>(std::calloc(size_t(threads), sizeof(pthread_t)));
  if (!pool->workers) {
    delete pool;
    *failed = true;
    return nullptr;
  }
  // Workers take blocks 1..threads-1; the calling thread takes block 0.
  for (int i = 1; i < threads; ++i) {
    WorkerStart *start = new (std::nothrow) WorkerStart{pool, i};
    if (!start || pthread_create(&pool->workers[i], nullptr, workerMain,
                                 start) != 0) {
      delete start;
      destroyThreadPool(pool);
      *failed = true;
      return nullptr;
    }
    ++pool->started;
  }
  return pool;
}

void destroyThreadPool(ThreadPool *pool) {
  if (!pool)
    return;
  pthread_mutex_lock(&pool->mutex);
  pool->stop = true;
  pthread_cond_broadcast(&pool->wake);
  pthread_mutex_unlock(&pool->mutex);
  for (int i = 1; i <= pool->started; ++i)
    pthread_join(pool->workers[i], nullptr);
  std::free(pool->workers);
  delete pool;
}

} // namespace tlmrt

extern "C" void tlmrt_parallel_for(void *ctx, tlm_kernel_fn kernel,
                                   const uint8_t *weights, uint8_t *arena,
                                   int64_t count) {
  auto *pool = static_cast<tlmrt::ThreadPool *>(ctx);
  if (!pool || pool->threads <= 1 || count < pool->threads) {
    kernel(weights, arena, 0, count);
    return;
  }
  pthread_mutex_lock(&pool->mutex);
  pool->kernel = kernel;
  pool->weights = weights;
  pool->arena = arena;
  pool->count = count;
  pool->pending = pool->threads - 1;
  ++pool->generation;
  pthread_cond_broadcast(&pool->wake);
  pthread_mutex_unlock(&pool->mutex);
  tlmrt::runBlock(pool, 0);
  pthread_mutex_lock(&pool->mutex);
  while (pool->pending > 0)
    pthread_cond_wait(&pool->done, &pool->mutex);
  pthread_mutex_unlock(&pool->mutex);
}
