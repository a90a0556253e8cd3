//===- ContainerWriter.h - write the .tlmw weights container -----*- C++ -*-===//

#ifndef TLMC_CODEGEN_TARGET_CONTAINERWRITER_H
#define TLMC_CODEGEN_TARGET_CONTAINERWRITER_H

#include "codegen/Target/TokenizerData.h"
#include "codegen/Target/WeightLayout.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/raw_ostream.h"

#include <vector>

namespace tlmc {

/// The compile-time memory plan and entry-point facts the runtime needs.
struct ContainerPlan {
  uint64_t arenaBytes = 0;
  uint64_t kvCacheBytes = 0;
  uint32_t prefillChunk = 0;
  /// Who wrote the container (the compiler and its version), recorded in it.
  std::string producer;
};

/// Writes the container for `module` (a tlm module with its weights) to
/// `os` at its current position: the configuration from `#tlm.config`,
/// `tokenizer`, the tensor table and `plan` (a FlatBuffer), then the
/// weights at the offsets `layout` gives. Returns the fingerprint, which
/// covers the configuration, the plan, the layout and every weight byte.
/// Weights stream through one at a time: the compiler never holds the
/// whole container, and pages of the model file it has copied are given
/// back as it goes.
llvm::Expected<uint64_t> writeContainer(mlir::ModuleOp module,
                                        const WeightLayout &layout,
                                        const TokenizerData &tokenizer,
                                        const ContainerPlan &plan,
                                        llvm::raw_pwrite_stream &os);

/// A container image in memory and the fingerprint it carries (for
/// --embed-weights and tests; writeContainer streams to a file).
struct Container {
  std::vector<char> bytes;
  uint64_t fingerprint = 0;
};

/// writeContainer into memory.
llvm::Expected<Container> buildContainer(mlir::ModuleOp module,
                                         const WeightLayout &layout,
                                         const TokenizerData &tokenizer,
                                         const ContainerPlan &plan);

} // namespace tlmc

#endif // TLMC_CODEGEN_TARGET_CONTAINERWRITER_H
