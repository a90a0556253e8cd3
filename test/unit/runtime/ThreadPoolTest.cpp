//===- ThreadPoolTest.cpp - how tlmrt_parallel_for hands out a job -*- C++ -*-===//
//
// The pool splits a job's features into units, one block per thread, each
// taken by its owner from the front and by the other threads from the
// back (ThreadPool.cpp). Whatever order the takes happen in, every feature
// must be computed exactly once, and every take must start on a unit (the
// kernels tile pairs of 16-row panels; a take splitting a pair would still
// be correct but the results of such splits are what the bitwise tests of
// ProductKernelsTest.cpp pin down). Here a kernel records its ranges, and
// one thread is made slow so that the others steal from its block.
//
//===----------------------------------------------------------------------===//

#include "runtime/include/tlm/tlm.h"
#include "runtime/src/Session.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace {

/// What the recording kernel writes to: a counter per feature, and how
/// many ranges started off a unit.
struct Record {
  std::vector<std::atomic<int>> hits;
  std::atomic<int> misaligned{0};
  int64_t unit = 1;
  std::thread::id slowThread;
  explicit Record(int64_t count) : hits(count) {}
};

void recordRange(const uint8_t *, uint8_t *arena, int64_t begin, int64_t end,
                 int64_t, int64_t) {
  auto &r = *reinterpret_cast<Record *>(arena);
  if (begin % r.unit != 0)
    r.misaligned.fetch_add(1);
  // The slow thread sleeps in each of its calls, so its block is left to
  // the others to finish from the back.
  if (std::this_thread::get_id() == r.slowThread)
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  for (int64_t i = begin; i < end; ++i)
    r.hits[i].fetch_add(1);
}

struct Case {
  int64_t count, grain, unit;
};

TEST(ThreadPool, EveryFeatureOnceInUnitsWhenThreadsSteal) {
  // count, grain, and the unit takes must start on (32: pairs of panels,
  // 16, 4, or the grain when none of them divides the count).
  const Case cases[] = {{3072, 16, 32}, {960, 16, 32}, {576, 16, 32},
                        {49152, 16, 32}, {9, 1, 1},    {128, 1, 32},
                        {48, 16, 16},    {20, 4, 4},   {37, 1, 1}};
  for (int threads : {1, 2, 3, 4}) {
    bool failed = false;
    tlmrt::ThreadPool *pool = tlmrt::createThreadPool(threads, &failed);
    ASSERT_TRUE(pool && !failed);
    for (bool callerSlow : {false, true})
      for (const Case &c : cases) {
        SCOPED_TRACE(testing::Message()
                     << threads << " threads, count " << c.count << ", grain "
                     << c.grain << (callerSlow ? ", slow caller" : ""));
        Record record(c.count);
        record.unit = c.unit;
        // A slow caller: the workers finish its block from the back while
        // it sleeps in its first take (how much they take depends on the
        // scheduler, so only the outcome is checked).
        record.slowThread =
            callerSlow ? std::this_thread::get_id() : std::thread::id();
        tlmrt_parallel_for(pool, recordRange, nullptr,
                           reinterpret_cast<uint8_t *>(&record), c.count,
                           c.grain, 0, 0);
        int wrong = 0;
        for (int64_t i = 0; i < c.count; ++i)
          wrong += record.hits[i].load() != 1;
        EXPECT_EQ(0, wrong) << "features not computed exactly once";
        EXPECT_EQ(0, record.misaligned.load()) << "takes off a unit";
      }
    tlmrt::destroyThreadPool(pool);
  }
}

TEST(ThreadPool, BlocksStayRightPastTheirTagsWrapping) {
  // A block's word carries the low 16 bits of its job's generation; one
  // whose initial range is empty (fewer units than threads) must still
  // take each job's tag, or 2^16 jobs later its old, used-up word would
  // pass for the current job's and its units would never run. On 2
  // threads (no more than this machine's cores, or the jobs would wait on
  // the scheduler): a job of 6 units (both blocks used up), 2^16 - 1 jobs
  // of one unit (block 0 empty), and again a job of 6 units, whose
  // generation has the first one's low bits.
  bool failed = false;
  tlmrt::ThreadPool *pool = tlmrt::createThreadPool(2, &failed);
  ASSERT_TRUE(pool && !failed);
  Record small(16), large(96);
  small.unit = large.unit = 16;
  auto run = [&](Record &record) {
    tlmrt_parallel_for(pool, recordRange, nullptr,
                       reinterpret_cast<uint8_t *>(&record),
                       int64_t(record.hits.size()), 16, 0, 0);
  };
  run(large);
  for (int job = 1; job < (1 << 16); ++job)
    run(small);
  run(large);
  int wrong = 0;
  for (auto &hit : small.hits)
    wrong += hit.load() != (1 << 16) - 1;
  for (auto &hit : large.hits)
    wrong += hit.load() != 2;
  EXPECT_EQ(0, wrong) << "features not computed once per job";
  EXPECT_EQ(0, small.misaligned.load() + large.misaligned.load());
  tlmrt::destroyThreadPool(pool);
}

} // namespace
