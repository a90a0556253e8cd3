//===- JobScratch.h - memory a thread keeps across one parallel job ---*- C++ -*-===//
//
// tlmrt_parallel_for hands out a product's output features in chunks that
// the threads take as they finish the last (ThreadPool.cpp), so a thread
// calls the product's kernel several times in one job, on the same inputs.
// The int8 kernels quantize their inputs per call; with this scratch, one
// per pool thread, they quantize once per thread and job and the later
// calls read what the first one wrote. The pool allocates it with the
// session (no allocation after init); outside a job (one thread, or a
// product too small to split) there is none and the kernels use their
// stack as before.
//
//===----------------------------------------------------------------------===//

#ifndef TLMRT_JOBSCRATCH_H
#define TLMRT_JOBSCRATCH_H

#include <stdint.h>

namespace tlmrt {

/// Bytes of a thread's scratch: the int8 kernels' largest quantized inputs
/// (ProductKernelsPanels.cpp's quantizedBytes<true>()).
constexpr int64_t kJobScratchBytes = 384 * 1024;

struct JobScratch {
  alignas(64) uint8_t bytes[kJobScratchBytes];
  /// What `bytes` holds: the job (its pool generation; 0 for nothing) and
  /// the call whose inputs were quantized into it.
  uint64_t job = 0;
  const float *x = nullptr;
  int64_t xStride = 0, tokens = 0, columns = 0;
  int format = 0;

  bool holds(uint64_t currentJob, const float *x_, int64_t xStride_,
             int64_t tokens_, int64_t columns_, int format_) const {
    return job == currentJob && x == x_ && xStride == xStride_ &&
           tokens == tokens_ && columns == columns_ && format == format_;
  }
};

/// The calling thread's scratch and job while it runs a job's chunks;
/// null / 0 otherwise.
struct CurrentJob {
  JobScratch *scratch;
  uint64_t job;
};
CurrentJob currentJob();
void setCurrentJob(JobScratch *scratch, uint64_t job);

} // namespace tlmrt

#endif // TLMRT_JOBSCRATCH_H
