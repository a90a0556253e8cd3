//===- ContainerWriter.h - write the .tlmw weights container -----*- C++ -*-===//

#ifndef TLMC_CODEGEN_TARGET_CONTAINERWRITER_H
#define TLMC_CODEGEN_TARGET_CONTAINERWRITER_H

#include "codegen/Target/TokenizerData.h"
#include "codegen/Target/WeightLayout.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"

#include <vector>

namespace tlmc {

/// The compile-time memory plan and entry-point facts the runtime needs.
struct ContainerPlan {
  uint64_t arenaBytes = 0;
  uint64_t kvCacheBytes = 0;
  uint32_t prefillChunk = 0;
};

/// A container image and the fingerprint it carries.
struct Container {
  std::vector<char> bytes;
  uint64_t fingerprint = 0;
};

/// Builds the container for `module` (a tlm module with its weights): the
/// configuration from `#tlm.config`, `tokenizer`, the tensor table and the
/// weights at the offsets `layout` gives, and `plan`. The fingerprint
/// covers the configuration, the plan, the layout and every weight byte.
llvm::Expected<Container> buildContainer(mlir::ModuleOp module,
                                         const WeightLayout &layout,
                                         const TokenizerData &tokenizer,
                                         const ContainerPlan &plan);

} // namespace tlmc

#endif // TLMC_CODEGEN_TARGET_CONTAINERWRITER_H
