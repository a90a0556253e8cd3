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

/// The runtime micro-kernels one instruction set has
/// (runtime/src/ProductKernels.h), called `tlmrt_uk_<format>_<suffix>`.
/// One table (TargetOptions.cpp) lists them; the layout (what is packed in
/// panels), the lowering and tlm-use-ukernels all read it.
struct ProductKernelSet {
  /// The name tlm-use-ukernels' `isa` takes.
  llvm::StringRef isa;
  /// f32/f16 weights in rows and f16/bf16/f32 in 16-row panels; empty: none.
  llvm::StringRef floatSuffix;
  /// GGUF Q8_0/Q4_0 blocks on int8-quantized inputs; empty: none.
  llvm::StringRef int8Suffix;
  /// GGUF blocks packed in 16-row panels (GGMLPanels.h); empty: none.
  llvm::StringRef panelSuffix;
  /// The set to use when inputs stay f32 (--int8-activations=false).
  llvm::StringRef withoutInt8;
};

/// The set named `isa`; null for "" (no kernels) and unknown names.
const ProductKernelSet *lookupProductKernels(llvm::StringRef isa);

/// Every set's name, for messages ("avx512, avx512vnni, ...").
std::string listProductKernelSets();

/// The kernel set `machine` can run: "avx512" for x86-64 CPUs with AVX-512
/// F, BW, VL, F16C and FMA (the f16/f32 kernels), "avx512vnni" when they
/// also have VNNI (and the int8 kernels), "amx" when they also have
/// AMX-INT8 (prefill tiles on the tile unit); "avx2" for x86-64 CPUs with
/// AVX2, F16C and FMA but not AVX-512 (the float kernels on 256-bit
/// registers and GGUF blocks in panels on vpmaddubsw; "avx2-float" without
/// the latter, for --int8-activations=false); "neondot" for AArch64 CPUs
/// with the dot product extension (the int8 kernels), "neoni8mm" when they
/// also have the int8 matrix multiply (prefill on smmla); empty when none
/// (the generated products run instead).
std::string selectProductKernels(const llvm::TargetMachine &machine);

/// Whether the runtime's panel kernels on `machine` leave a decode step's
/// weight stream to the hardware prefetchers (their `_hwprefetch` entry
/// points) rather than prefetching it in software: a property of the CPU's
/// memory system, measured per CPU (TargetOptions.cpp says which and by how
/// much), not of its instruction set.
bool prefersHardwarePrefetch(const llvm::TargetMachine &machine);

/// Query heads of a KV group whose attention scores one pass over the keys
/// computes on `machine` (ConvertTLMToLinalg's attention-heads-per-pass): 4
/// with AVX-512's 32 vector registers, else 1.
int64_t selectAttentionHeadsPerPass(const llvm::TargetMachine &machine);

/// Whether `machine` lacks instructions converting f16 to and from f32
/// (RISC-V without Zfhmin): the lowering then expands them
/// (LoweringOptions::softF16).
bool needsSoftF16(const llvm::TargetMachine &machine);

/// Whether set `isa` takes GGUF-block weights packed in panels.
bool packsGGMLPanels(llvm::StringRef isa);
/// Whether set `isa` takes f16 weights packed in panels.
bool packsFloatPanels(llvm::StringRef isa);

/// Prints the targets tlmc compiles for, example CPUs of each, and what a
/// CPU's features give the generated code (vector width, the sparse block
/// layout, integer dot products), read from LLVM's description of the CPU
/// (`tlmc targets`).
void printTargets(llvm::raw_ostream &os);

} // namespace tlmc

#endif // TLMC_CODEGEN_TARGET_TARGETOPTIONS_H
