//===- TargetOptions.cpp - the one place target choices are made ----*- C++ -*-===//

#include "codegen/Target/TargetOptions.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/SubtargetFeature.h"
#include "llvm/TargetParser/Triple.h"
#include "llvm/Support/FormatVariadic.h"

#include <vector>

using namespace tlmc;

// The architectures tlmc has kernels and a runtime for. Registering only these
// (not InitializeAllTargets) keeps the other LLVM backends out of a statically
// linked tlmc: they would cost tens of MB of text and start-up time.
#define TLMC_FOR_EACH_TARGET(X) X(X86) X(AArch64) X(RISCV)

#define TLMC_DECLARE_TARGET(T)                                                 \
  extern "C" void LLVMInitialize##T##TargetInfo();                             \
  extern "C" void LLVMInitialize##T##Target();                                 \
  extern "C" void LLVMInitialize##T##TargetMC();                               \
  extern "C" void LLVMInitialize##T##AsmPrinter();
TLMC_FOR_EACH_TARGET(TLMC_DECLARE_TARGET)

static void initializeTargets() {
  static bool done = [] {
#define TLMC_INITIALIZE_TARGET(T)                                              \
  LLVMInitialize##T##TargetInfo();                                             \
  LLVMInitialize##T##Target();                                                 \
  LLVMInitialize##T##TargetMC();                                               \
  LLVMInitialize##T##AsmPrinter();
    TLMC_FOR_EACH_TARGET(TLMC_INITIALIZE_TARGET)
    return true;
  }();
  (void)done;
}

llvm::Expected<std::unique_ptr<llvm::TargetMachine>>
tlmc::createTargetMachine(const TargetOptions &options) {
  initializeTargets();

  std::string hostTriple = llvm::sys::getDefaultTargetTriple();
  // "riscv64-linux-gnu" read as written would take "linux" for the vendor:
  // normalize to riscv64-unknown-linux-gnu so the OS is known.
  llvm::Triple triple(llvm::Triple::normalize(
      options.triple.empty() ? hostTriple : options.triple));
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
              " (`tlmc targets` shows examples, `llc -mtriple=" +
              triple.str() +
              " -mcpu=help` all of them; tlmc also takes native and generic)");
  }
  // What every Linux system of the architecture has, as clang assumes it:
  // RISC-V Linux is RV64GC with the double-float ABI (its C library and
  // start files are built so; objects must agree to link).
  llvm::TargetOptions targetOptions;
  llvm::SubtargetFeatures all(features);
  if (triple.isRISCV64() && triple.isOSLinux()) {
    for (const char *f : {"+m", "+a", "+f", "+d", "+c"})
      all.AddFeature(f);
    targetOptions.MCOptions.ABIName = "lp64d";
  }
  if (!options.features.empty()) {
    std::unique_ptr<llvm::MCSubtargetInfo> info(
        target->createMCSubtargetInfo(triple, "", ""));
    for (llvm::StringRef f : llvm::split(options.features, ',')) {
      llvm::StringRef name = f.ltrim("+-");
      bool known = info && (f.starts_with("+") || f.starts_with("-")) &&
                   llvm::any_of(info->getAllProcessorFeatures(),
                                [&](const llvm::SubtargetFeatureKV &kv) {
                                  return name == kv.Key;
                                });
      if (!known)
        return llvm::createStringError(
            llvm::inconvertibleErrorCode(),
            "--mattr '" + f.str() + "': not +FEATURE or -FEATURE of " +
                triple.str() + " (`llc -mtriple=" + triple.str() +
                " -mattr=help` lists them)");
      all.AddFeature(f);
    }
  }
  features = all.getString();
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

/// Every kernel set the runtime has: isa, float, int8, panels, without int8.
static const ProductKernelSet kProductKernelSets[] = {
    {"avx512", "avx512", "", "", "avx512"},
    {"avx512vnni", "avx512", "avx512vnni", "avx512vnni", "avx512"},
    {"amx", "avx512", "avx512vnni", "amx", "avx512"},
    {"avx2-float", "avx2", "", "", "avx2-float"},
    {"avx2", "avx2", "", "avx2", "avx2-float"},
    {"neondot", "", "neondot", "", ""},
    {"neoni8mm", "", "neoni8mm", "", ""},
};

const ProductKernelSet *tlmc::lookupProductKernels(llvm::StringRef isa) {
  for (const ProductKernelSet &set : kProductKernelSets)
    if (set.isa == isa)
      return &set;
  return nullptr;
}

std::string tlmc::listProductKernelSets() {
  std::string names;
  for (const ProductKernelSet &set : kProductKernelSets)
    names += (names.empty() ? "" : ", ") + set.isa.str();
  return names;
}

std::string tlmc::selectProductKernels(const llvm::TargetMachine &machine) {
  const llvm::Triple &triple = machine.getTargetTriple();
  const llvm::MCSubtargetInfo *info = machine.getMCSubtargetInfo();
  if (!info)
    return "";
  if (triple.getArch() == llvm::Triple::aarch64)
    return !info->checkFeatures("+dotprod") ? ""
           : info->checkFeatures("+i8mm")   ? "neoni8mm"
                                            : "neondot";
  if (triple.getArch() != llvm::Triple::x86_64)
    return "";
  if (!info->checkFeatures("+avx512f,+avx512bw,+avx512vl,+f16c,+fma"))
    return info->checkFeatures("+avx2,+f16c,+fma") ? "avx2" : "";
  if (!info->checkFeatures("+avx512vnni"))
    return "avx512";
  return info->checkFeatures("+amx-tile,+amx-int8") ? "amx" : "avx512vnni";
}

bool tlmc::prefersHardwarePrefetch(const llvm::TargetMachine &machine) {
  // Measured with one thread, decode after a 4-token prompt, the same
  // compile with and without the kernels' software prefetch, alternated 6-8
  // times: on AMD Zen 4 (EPYC, 2026-12-03) SmolLM2-135M Q8_0 1.23-1.29x,
  // Q4_0 1.15-1.24x, F16 1.08-1.09x and TinyLlama-1.1B Q4_0 1.19x faster
  // without (the non-temporal hint 1.05-1.2x, prefetching into L1 1.1x);
  // on 2 threads, where both cores reach the machine's bandwidth either
  // way, 1.01-1.18x within a wide noise; prefill level. On an Intel Xeon
  // (session 9) the software prefetch made decode ~1.3x faster; Zen 5 is
  // not measured and keeps it.
  return machine.getTargetTriple().getArch() == llvm::Triple::x86_64 &&
         machine.getTargetCPU() == "znver4";
}

int64_t tlmc::selectAttentionHeadsPerPass(const llvm::TargetMachine &machine) {
  // A pass keeps 4 partial sums of a block of 16 scores per head in
  // registers: 4 heads' are 16 of AVX-512's 32 registers of 16 floats. With
  // 16 registers of 8 (AVX2) or 32 of 4 (NEON) one head's already take half
  // of them, so a pass keeps to one head there.
  const llvm::MCSubtargetInfo *info = machine.getMCSubtargetInfo();
  return machine.getTargetTriple().getArch() == llvm::Triple::x86_64 && info &&
                 info->checkFeatures("+avx512f")
             ? 4
             : 1;
}

bool tlmc::needsSoftF16(const llvm::TargetMachine &machine) {
  const llvm::MCSubtargetInfo *info = machine.getMCSubtargetInfo();
  return machine.getTargetTriple().isRISCV() && info &&
         !info->checkFeatures("+zfhmin") && !info->checkFeatures("+zfh");
}

bool tlmc::packsGGMLPanels(llvm::StringRef isa) {
  const ProductKernelSet *set = lookupProductKernels(isa);
  return set && !set->panelSuffix.empty();
}

bool tlmc::packsFloatPanels(llvm::StringRef isa) {
  const ProductKernelSet *set = lookupProductKernels(isa);
  return set && !set->floatSuffix.empty();
}

namespace {

/// One CPU's line: its vector width and what tlmc's code gets from it.
std::string describeCPU(const llvm::Target &target, const llvm::Triple &triple,
                        llvm::StringRef cpu) {
  std::unique_ptr<llvm::MCSubtargetInfo> info(
      target.createMCSubtargetInfo(triple, cpu, ""));
  if (!info)
    return "(no description)";
  auto has = [&](llvm::StringRef feature) {
    return info->checkFeatures(("+" + feature).str());
  };
  std::string out;
  llvm::raw_string_ostream os(out);
  if (triple.isX86()) {
    os << (has("avx512f")  ? "512-bit vectors (AVX-512)"
           : has("avx2")   ? "256-bit vectors (AVX2)"
                           : "128-bit vectors (SSE)");
    if (has("avx512f"))
      os << "; sparse weights in blocks (vpermi2ps)";
    if (has("avx512vnni") || has("avxvnni"))
      os << "; int8 dot products (VNNI) available";
    if (has("amx-int8"))
      os << "; AMX";
  } else if (triple.isAArch64()) {
    os << "128-bit vectors (NEON)";
    if (has("sve"))
      os << ", SVE";
    if (has("dotprod"))
      os << "; int8 dot products (SDOT) available";
    if (has("i8mm"))
      os << ", i8mm";
  } else if (triple.isRISCV()) {
    os << (has("v") ? "vectors of any length (RVV 1.0)" : "no vector unit");
  }
  // Which of the runtime's hand-written kernels its code calls.
  llvm::TargetOptions options;
  std::unique_ptr<llvm::TargetMachine> machine(target.createTargetMachine(
      triple, cpu, "", options, llvm::Reloc::PIC_));
  std::string kernels = machine ? selectProductKernels(*machine) : "";
  os << "; runtime kernels: " << (kernels.empty() ? "none" : kernels);
  if (machine && !kernels.empty() && prefersHardwarePrefetch(*machine))
    os << " (decode streams on the hardware prefetchers)";
  return out;
}

} // namespace

void tlmc::printTargets(llvm::raw_ostream &os) {
  initializeTargets();
  struct Row {
    const char *triple;
    std::vector<const char *> cpus;
  };
  const Row rows[] = {
      {"x86_64-linux-gnu",
       {"x86-64", "x86-64-v3", "x86-64-v4", "znver4", "sapphirerapids"}},
      {"aarch64-linux-gnu",
       {"generic", "cortex-a53", "cortex-a55", "cortex-a76", "neoverse-v1"}},
      {"riscv64-linux-gnu", {"generic-rv64", "sifive-p670", "sifive-x280"}},
  };
  os << "tlmc compiles for these targets (--target TRIPLE --mcpu CPU; the "
        "default is the host, --mcpu native):\n";
  for (const Row &row : rows) {
    llvm::Triple triple(row.triple);
    std::string error;
    const llvm::Target *target = llvm::TargetRegistry::lookupTarget(triple, error);
    os << "\n  " << row.triple << (target ? "" : " (not in this LLVM)") << "\n";
    if (!target)
      continue;
    for (const char *cpu : row.cpus)
      os << llvm::formatv("    {0,-16} {1}\n", cpu,
                          describeCPU(*target, triple, cpu));
  }
  std::string host = llvm::sys::getHostCPUName().str();
  os << "\n  this machine: " << llvm::sys::getDefaultTargetTriple()
     << ", --mcpu native is " << host << "\n"
     << "  Any CPU LLVM knows for a target is accepted: `llc -mtriple=TRIPLE "
        "-mcpu=help` lists them.\n"
     << "  \"runtime kernels\": the hand-written products its code calls "
        "(runtime/src/ProductKernels.h); with none, LLVM vectorizes the "
        "generated ones.\n";
}
