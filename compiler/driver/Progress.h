//===- Progress.h - where a compile's time goes, and a progress line -*- C++ -*-===//
//
// `tlmc compile` runs a few long stages (import, compression, lowering,
// container writing, LLVM code generation, linking). This records each
// stage's wall time for `--time-passes`, and, when stderr is a terminal and
// the compile has run for more than two seconds, keeps one progress line
// there ("tlmc: [4/6 67%] LLVM code generation") that is erased at the end.
//
//===----------------------------------------------------------------------===//

#ifndef TLMC_COMPILER_DRIVER_PROGRESS_H
#define TLMC_COMPILER_DRIVER_PROGRESS_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <string>
#include <vector>

namespace tlmc {

class CompileProgress {
public:
  /// `stages`: how many stages the compile will run (for the percentage).
  explicit CompileProgress(int stages);
  ~CompileProgress();

  /// Ends the running stage and starts `name`.
  void stage(llvm::StringRef name);
  /// Ends the running stage and erases the progress line.
  void finish();
  /// The stages and their wall times, as a table.
  void printTimes(llvm::raw_ostream &os) const;

private:
  using Clock = std::chrono::steady_clock;
  struct Stage {
    std::string name;
    double seconds = 0;
  };
  void endStage();

  int total;
  bool terminal;
  bool lineShown = false;
  Clock::time_point start, stageStart;
  std::vector<Stage> stages;
};

} // namespace tlmc

#endif // TLMC_COMPILER_DRIVER_PROGRESS_H
