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
// end; and per thread of the job, when the workers started on it and were
// done (from the caller's entry), how long each thread spent in the
// kernel's calls and how many it made: a slow worker, a late start or a
// job cut too coarsely to balance shows there. One session at a time (the
// counters are the caller's, unguarded; each thread writes only its own
// line of them during a job, the caller reads them after). Without the
// option these are empty inline functions.
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
/// Thread `thread` (0: the caller) starts or ends its part of the job.
void profileThreadStart(int thread);
void profileThreadEnd(int thread);
/// Thread `thread` calls the kernel on a range it took: returns the time
/// the call starts, for profileTakeEnd.
unsigned long long profileTakeStart();
void profileTakeEnd(int thread, unsigned long long started);
#else
inline void profileJobStart(const void *) {}
inline void profileOwnUnitsDone() {}
inline void profileJobEnd() {}
inline void profileThreadStart(int) {}
inline void profileThreadEnd(int) {}
inline unsigned long long profileTakeStart() { return 0; }
inline void profileTakeEnd(int, unsigned long long) {}
#endif

} // namespace tlmrt

#endif // TLMRT_JOBPROFILE_H
