//===- TargetOptions.h - the one place target choices are made ---*- C++ -*-===//

#ifndef TLMC_CODEGEN_TARGET_TARGETOPTIONS_H
#define TLMC_CODEGEN_TARGET_TARGETOPTIONS_H

#include "llvm/Support/Error.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"

#include <memory>
#include <string>

namespace tlmc {

struct TargetOptions {
  /// Target triple; empty means the host.
  std::string triple;
  /// CPU name; "native" (the default) means the host's CPU when compiling
  /// for the host and the architecture's generic CPU otherwise.
  std::string cpu = "native";
  /// Features to add to or remove from the CPU's, as llc's -mattr takes
  /// them ("+v,-zvfh"); empty for none.
  std::string features;
};

/// A TargetMachine for `options` (position-independent code, -O3), with the
/// host's features when the CPU is the host's.
llvm::Expected<std::unique_ptr<llvm::TargetMachine>>
createTargetMachine(const TargetOptions &options);

/// Whether `machine` has AVX-512F's 16-float two-source permute, which the
/// block layout of sparse weights needs (codegen/Target/SparseBlocks.h).
bool hasSparseBlockPermute(const llvm::TargetMachine &machine);

/// The instruction set of the runtime micro-kernels `machine` can run
/// (tlm-use-ukernels' `isa`): "avx512" for x86-64 CPUs with AVX-512 F, BW,
/// VL, F16C and FMA (the f16/f32 kernels), "avx512vnni" when they also have
/// VNNI (and the int8 kernels), "amx" when they also have AMX-INT8 (prefill
/// tiles on the tile unit), empty when none (the generated products run
/// instead).
std::string selectProductKernels(const llvm::TargetMachine &machine);

/// Whether kernels of instruction set `isa` include the int8 ones (and so
/// GGUF-block weights may be packed in panels for them, GGMLPanels.h).
bool hasInt8ProductKernels(llvm::StringRef isa);

/// Prints the targets tlmc compiles for, example CPUs of each, and what a
/// CPU's features give the generated code (vector width, the sparse block
/// layout, integer dot products), read from LLVM's description of the CPU
/// (`tlmc targets`).
void printTargets(llvm::raw_ostream &os);

} // namespace tlmc

#endif // TLMC_CODEGEN_TARGET_TARGETOPTIONS_H
