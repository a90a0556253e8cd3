//===- Progress.cpp - where a compile's time goes, and a progress line -*- C++ -*-===//

#include "compiler/driver/Progress.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Process.h"

using namespace tlmc;

CompileProgress::CompileProgress(int stages)
    : total(stages),
      terminal(llvm::sys::Process::StandardErrIsDisplayed()),
      start(Clock::now()), stageStart(start) {}

CompileProgress::~CompileProgress() { finish(); }

void CompileProgress::endStage() {
  if (stages.empty())
    return;
  Clock::time_point now = Clock::now();
  stages.back().seconds += std::chrono::duration<double>(now - stageStart).count();
  stageStart = now;
}

void CompileProgress::stage(llvm::StringRef name) {
  endStage();
  stageStart = Clock::now();
  stages.push_back({name.str(), 0});
  double elapsed = std::chrono::duration<double>(stageStart - start).count();
  // Quick compiles print nothing; a log (stderr not a terminal) gets no
  // carriage-return noise.
  if (!terminal || elapsed < 2.0)
    return;
  int done = int(stages.size()) - 1;
  llvm::errs() << llvm::formatv("\r\x1b[Ktlmc: [{0}/{1} {2}%] {3} ({4:f1} s)",
                                done + 1, total, 100 * done / total, name,
                                elapsed);
  llvm::errs().flush();
  lineShown = true;
}

void CompileProgress::finish() {
  endStage();
  if (lineShown) {
    llvm::errs() << "\r\x1b[K";
    llvm::errs().flush();
    lineShown = false;
  }
}

void CompileProgress::printTimes(llvm::raw_ostream &os) const {
  double sum = 0;
  for (const Stage &s : stages)
    sum += s.seconds;
  os << "tlmc: time per stage (wall)\n";
  for (const Stage &s : stages)
    os << llvm::formatv("  {0,-28} {1,8:f3} s  {2,5:f1}%\n", s.name, s.seconds,
                        sum > 0 ? 100 * s.seconds / sum : 0.0);
  os << llvm::formatv("  {0,-28} {1,8:f3} s\n", "total", sum);
}
