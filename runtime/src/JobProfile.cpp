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
};

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
                  "job, mean caller wait (counter ticks)\n");
  for (const KernelTimes &t : times) {
    if (!t.kernel || !t.jobs)
      continue;
    Dl_info info{};
    uintptr_t base = 0;
    if (dladdr(t.kernel, &info) && info.dli_fbase)
      base = reinterpret_cast<uintptr_t>(info.dli_fbase);
    fprintf(stderr, "job-profile: %#lx %llu %.0f %.0f %.0f\n",
            (unsigned long)(reinterpret_cast<uintptr_t>(t.kernel) - base),
            (unsigned long long)t.jobs, double(t.gap) / double(t.jobs),
            double(t.job) / double(t.jobs), double(t.wait) / double(t.jobs));
  }
}

} // namespace

void profileJobStart(const void *kernel) {
  started = now();
  current = find(kernel);
  if (lastEnd && started - lastEnd < kLongestGap)
    current->gap += started - lastEnd;
}

void profileOwnUnitsDone() { ownDone = now(); }

void profileJobEnd() {
  lastEnd = now();
  current->job += lastEnd - started;
  current->wait += lastEnd - ownDone;
  ++current->jobs;
}

} // namespace tlmrt

#endif // TLMRT_JOB_PROFILE
