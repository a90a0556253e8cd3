//===- JobProfile.h - where a step's time goes, job by job (opt-in) -------===//
//
// A decode step on 2 threads is ~150 jobs of a few microseconds, and
// between them the calling thread's serial steps; what a change does to
// either is lost in this machine's noise when measured as tokens per
// second, and perf's samples cannot tell a job's start from its end. Built
// with -DTLMRT_JOB_PROFILE=ON (utils/bench/job-profile.sh), the runtime
// reads the time stamp counter where tlmrt_parallel_for is entered, where
// the caller has finished its own units and where every thread is done,
// and at exit prints per kernel (its offset in the executable) the mean
// serial gap before its job, the job's time and the caller's wait at its
// end. One session at a time (the counters are the caller's, unguarded).
// Without the option these are empty inline functions.
//
//===----------------------------------------------------------------------===//

#ifndef TLMRT_JOBPROFILE_H
#define TLMRT_JOBPROFILE_H

namespace tlmrt {

#if TLMRT_JOB_PROFILE
/// The caller enters tlmrt_parallel_for with `kernel`.
void profileJobStart(const void *kernel);
/// The caller has run its own units (and the others' it took).
void profileOwnUnitsDone();
/// Every thread is done with the job.
void profileJobEnd();
#else
inline void profileJobStart(const void *) {}
inline void profileOwnUnitsDone() {}
inline void profileJobEnd() {}
#endif

} // namespace tlmrt

#endif // TLMRT_JOBPROFILE_H
