//===- JobProfile.cpp - where a step's time goes, job by job (opt-in) -----===//

#include "runtime/src/JobProfile.h"

#if TLMRT_JOB_PROFILE

#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

namespace tlmrt {
namespace {

/// Ticks of the time stamp counter (x86-64) or the virtual counter
/// (AArch64); nanoseconds elsewhere.
uint64_t now() {
#if defined(__x86_64__)
  return __builtin_ia32_rdtsc();
#elif defined(__aarch64__)
  uint64_t ticks;
  asm volatile("mrs %0, cntvct_el0" : "=r"(ticks));
  return ticks;
#else
  timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return uint64_t(t.tv_sec) * 1000000000u + uint64_t(t.tv_nsec);
#endif
}

/// Gaps longer than this (ticks) are not between two jobs of a step: the
/// program doing something else (loading, printing, a benchmark's pause).
constexpr uint64_t kLongestGap = 4000000;

struct KernelTimes {
  const void *kernel = nullptr;
  uint64_t jobs = 0, gap = 0, job = 0, wait = 0;
  /// Sums over the workers of each job, and their count.
  uint64_t workerStart = 0, workerEnd = 0, workerBusy = 0, workerTakes = 0,
           workers = 0;
  uint64_t callerBusy = 0, callerTakes = 0;
};

/// One thread's part of the current job, in a line of its own.
struct alignas(64) ThreadTimes {
  uint64_t start = 0, end = 0, busy = 0, takes = 0;
};
/// Threads whose parts are recorded (the caller and the first workers).
constexpr int kThreads = 16;
ThreadTimes threadTimes[kThreads];

constexpr int kKernels = 256;
KernelTimes times[kKernels];
KernelTimes *current = nullptr;
uint64_t started = 0, ownDone = 0, lastEnd = 0;

KernelTimes *find(const void *kernel) {
  for (KernelTimes &t : times) {
    if (t.kernel == kernel)
      return &t;
    if (!t.kernel) {
      t.kernel = kernel;
      return &t;
    }
  }
  return &times[kKernels - 1];
}

__attribute__((destructor)) void report() {
  if (!times[0].kernel)
    return;
  fprintf(stderr, "job-profile: kernel offset, jobs, mean gap before, mean "
                  "job, mean caller wait, mean worker start, mean worker "
                  "end, mean caller busy, mean worker busy, mean caller "
                  "takes, mean worker takes (counter ticks)\n");
  for (const KernelTimes &t : times) {
    if (!t.kernel || !t.jobs)
      continue;
    Dl_info info{};
    uintptr_t base = 0;
    if (dladdr(t.kernel, &info) && info.dli_fbase)
      base = reinterpret_cast<uintptr_t>(info.dli_fbase);
    const double jobs = double(t.jobs);
    const double workers = t.workers ? double(t.workers) : 1.0;
    fprintf(stderr,
            "job-profile: %#lx %llu %.0f %.0f %.0f %.0f %.0f %.0f %.0f %.2f "
            "%.2f\n",
            (unsigned long)(reinterpret_cast<uintptr_t>(t.kernel) - base),
            (unsigned long long)t.jobs, double(t.gap) / jobs,
            double(t.job) / jobs, double(t.wait) / jobs,
            double(t.workerStart) / workers, double(t.workerEnd) / workers,
            double(t.callerBusy) / jobs, double(t.workerBusy) / workers,
            double(t.callerTakes) / jobs, double(t.workerTakes) / workers);
  }
}

} // namespace

void profileJobStart(const void *kernel) {
  started = now();
  current = find(kernel);
  for (ThreadTimes &t : threadTimes)
    t = ThreadTimes();
  if (lastEnd && started - lastEnd < kLongestGap)
    current->gap += started - lastEnd;
}

void profileOwnUnitsDone() { ownDone = now(); }

void profileJobEnd() {
  lastEnd = now();
  current->job += lastEnd - started;
  current->wait += lastEnd - ownDone;
  ++current->jobs;
  current->callerBusy += threadTimes[0].busy;
  current->callerTakes += threadTimes[0].takes;
  for (int i = 1; i < kThreads; ++i) {
    const ThreadTimes &t = threadTimes[i];
    if (!t.start)
      continue;
    current->workerStart += t.start - started;
    current->workerEnd += t.end - started;
    current->workerBusy += t.busy;
    current->workerTakes += t.takes;
    ++current->workers;
  }
}

void profileThreadStart(int thread) {
  if (thread < kThreads)
    threadTimes[thread].start = now();
}

void profileThreadEnd(int thread) {
  if (thread < kThreads)
    threadTimes[thread].end = now();
}

unsigned long long profileTakeStart() { return now(); }

void profileTakeEnd(int thread, unsigned long long takeStarted) {
  if (thread >= kThreads)
    return;
  threadTimes[thread].busy += now() - takeStarted;
  ++threadTimes[thread].takes;
}

} // namespace tlmrt

#endif // TLMRT_JOB_PROFILE
