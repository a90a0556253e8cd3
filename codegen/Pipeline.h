//===- Pipeline.h - from the tlm graph to the LLVM dialect --------*- C++ -*-===//

#ifndef TLMC_CODEGEN_PIPELINE_H
#define TLMC_CODEGEN_PIPELINE_H

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Pass/PassManager.h"

#include <string>

namespace tlmc {

struct LoweringOptions {
  /// Prefix of the entry points' symbols (`<prefix>decode`, `<prefix>prefill`).
  std::string symbolPrefix;
  /// Products of at least this many multiply-adds run on the runtime's
  /// threads (see tlm-parallelize-rows and its min-work).
  int64_t parallelMinWork = 65536;
  /// Runs of a prefill's elementwise ops of at least this much work run on
  /// the threads (see tlm-token-loops and its min-work: a 128-token
  /// chunk's norms, not a 32-token one's).
  int64_t tokenLoopMinWork = 131072;
  /// Sparse weights in 32-feature blocks with AVX-512 permutes (x86-64 with
  /// AVX-512F only); must match the layout the container is written with.
  bool sparseBlocks = false;
  /// Instruction set of the runtime micro-kernels products may call
  /// (tlm-use-ukernels; selectProductKernels); empty for none.
  std::string productKernels;
  /// GGUF-block weights packed in 16-row panels (needs productKernels); must
  /// match the layout the container is written with.
  bool ggmlPanels = false;
  /// f16 weights packed in 16-row panels (needs productKernels); must match
  /// the layout the container is written with.
  bool floatPanels = false;
  /// Panel kernels leave decode's weight stream to the hardware prefetchers
  /// (tlm-use-ukernels' hardware-prefetch; prefersHardwarePrefetch).
  bool hardwarePrefetch = false;
  /// Query heads of a KV group whose attention scores one pass over the
  /// keys computes (selectAttentionHeadsPerPass).
  int64_t attentionHeadsPerPass = 1;
  /// The target has no f16 <-> f32 conversions: expand them into integer
  /// arithmetic (tlm-expand-f16-conversions; see needsSoftF16).
  bool softF16 = false;
};

/// Registers every dialect and interface the lowering needs (bufferization
/// models, LLVM translation).
void registerCodegenDialects(mlir::DialectRegistry &registry);

/// Adds the passes that take a verified tlm module to the LLVM dialect:
/// tlm -> linalg/scf on tensors -> one-shot bufferization -> planned arena
/// -> loops -> LLVM.
void buildLoweringPipeline(mlir::OpPassManager &pm,
                           const LoweringOptions &options);

/// Registers the codegen passes and the `tlm-lower-to-llvm` pipeline with
/// the pass registry (for tlmc-opt).
void registerCodegenPasses();

} // namespace tlmc

#endif // TLMC_CODEGEN_PIPELINE_H
