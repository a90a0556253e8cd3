//===- ModuleBuilder.h - an ImportedModel as tlm IR --------------*- C++ -*-===//

#ifndef TLMC_COMPILER_IMPORT_COMMON_MODULEBUILDER_H
#define TLMC_COMPILER_IMPORT_COMMON_MODULEBUILDER_H

#include "compiler/import/common/ImportedModel.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

namespace tlmc {

struct GraphOptions {
  /// Tokens a prefill call processes at once (a static shape).
  int64_t prefillChunk = 16;
};

/// Builds the module for `model`: `#tlm.config` on the module, one
/// `tlm.weight` per tensor (bytes shared with `model`, not copied), and two
/// entry points over the same graph:
///   func.func @decode(tensor<1xi32>, index, kcache, vcache) -> logits
///   func.func @prefill(tensor<Cxi32>, index, kcache, vcache) -> logits
/// where the caches are memref<layers x context x kv_dim x f32>.
/// The context must have the tlm, func and memref dialects loaded.
mlir::OwningOpRef<mlir::ModuleOp> buildModule(mlir::MLIRContext &context,
                                              const ImportedModel &model,
                                              const GraphOptions &options = {});

/// The `#tlm.config` attribute of `config`.
mlir::tlm::ModelConfigAttr getConfigAttr(mlir::MLIRContext &context,
                                         const ModelConfig &config);

} // namespace tlmc

#endif // TLMC_COMPILER_IMPORT_COMMON_MODULEBUILDER_H
