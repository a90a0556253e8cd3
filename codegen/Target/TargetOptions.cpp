//===- TargetOptions.cpp - the one place target choices are made ----*- C++ -*-===//

#include "codegen/Target/TargetOptions.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/SubtargetFeature.h"
#include "llvm/TargetParser/Triple.h"

using namespace tlmc;

llvm::Expected<std::unique_ptr<llvm::TargetMachine>>
tlmc::createTargetMachine(const TargetOptions &options) {
  llvm::InitializeAllTargetInfos();
  llvm::InitializeAllTargets();
  llvm::InitializeAllTargetMCs();
  llvm::InitializeAllAsmPrinters();

  std::string hostTriple = llvm::sys::getDefaultTargetTriple();
  llvm::Triple triple(options.triple.empty() ? hostTriple : options.triple);
  bool isHost = llvm::Triple(hostTriple).getArch() == triple.getArch() &&
                llvm::Triple(hostTriple).getOS() == triple.getOS();
  std::string error;
  const llvm::Target *target = llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target)
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "--target '" + triple.str() + "': " + error);

  std::string cpu = options.cpu;
  std::string features;
  if (cpu == "native") {
    if (isHost) {
      cpu = llvm::sys::getHostCPUName().str();
      llvm::SubtargetFeatures f;
      for (auto &feature : llvm::sys::getHostCPUFeatures())
        f.AddFeature(feature.first(), feature.second);
      features = f.getString();
    } else {
      cpu = "generic";
    }
  }
  // An unknown CPU would make LLVM print a warning per subtarget and go on
  // (or abort later): refuse it here, in one line.
  if (cpu != "generic") {
    std::unique_ptr<llvm::MCSubtargetInfo> info(
        target->createMCSubtargetInfo(triple, "", ""));
    if (!info || !info->isCPUStringValid(cpu))
      return llvm::createStringError(
          llvm::inconvertibleErrorCode(),
          "--mcpu '" + cpu + "' is not a CPU of " + triple.str() +
              " (`llc -mtriple=" + triple.str() +
              " -mcpu=help` lists them; tlmc also takes native and generic)");
  }
  llvm::TargetOptions targetOptions;
  auto machine = std::unique_ptr<llvm::TargetMachine>(
      target->createTargetMachine(triple, cpu, features, targetOptions,
                                  llvm::Reloc::PIC_, std::nullopt,
                                  llvm::CodeGenOptLevel::Aggressive));
  if (!machine)
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "cannot create a target machine for " +
                                       triple.str() + " (cpu " + cpu + ")");
  return machine;
}

bool tlmc::hasSparseBlockPermute(const llvm::TargetMachine &machine) {
  if (!machine.getTargetTriple().isX86())
    return false;
  const llvm::MCSubtargetInfo *info = machine.getMCSubtargetInfo();
  return info && info->checkFeatures("+avx512f");
}
