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
  /// Tokens of @prefill_wide (logits of its last token only), for long
  /// prompts; 0, or not more than prefillChunk, for none.
  int64_t prefillWideChunk = 0;
  /// The KV caches' element type: f16 (half the bytes) instead of f32.
  bool kvCacheF16 = false;
};

/// Whether the module gets @prefill_wide: a wide chunk longer than the
/// prefill chunk that fits a context of `context` positions.
inline bool hasWidePrefill(const GraphOptions &options, int64_t context) {
  return options.prefillWideChunk > options.prefillChunk &&
         options.prefillWideChunk <= context;
}

/// Builds the module for `model`: `#tlm.config` on the module, one
/// `tlm.weight` per tensor (bytes shared with `model`, not copied), and three
/// entry points over the same graph:
///   func.func @decode(tensor<1xi32>, index, kcache, vcache) -> 1 x vocab
///   func.func @prefill(tensor<Cxi32>, index, kcache, vcache) -> C x vocab
///   func.func @prefill_last(tensor<Cxi32>, ...) -> 1 x vocab (last token)
/// and, with a wide chunk W that fits the context, a fourth:
///   func.func @prefill_wide(tensor<Wxi32>, ...) -> 1 x vocab (last token)
/// where the caches are memref<layers x context x kv_dim x f32>.
/// Loads the dialects it builds with (tlm, func, memref, tensor).
mlir::OwningOpRef<mlir::ModuleOp> buildModule(mlir::MLIRContext &context,
                                              const ImportedModel &model,
                                              const GraphOptions &options = {});

/// The `#tlm.config` attribute of `config`.
mlir::tlm::ModelConfigAttr getConfigAttr(mlir::MLIRContext &context,
                                         const ModelConfig &config);

} // namespace tlmc

#endif // TLMC_COMPILER_IMPORT_COMMON_MODULEBUILDER_H
