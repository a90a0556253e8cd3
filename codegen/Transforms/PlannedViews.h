//===- PlannedViews.h - buffers as constant-offset views of the arguments -===//
//
// After tlm-plan-arena every buffer of an entry point or layer function is
// a memref.view at a constant byte offset of its weights (argument 0) or
// its arena (argument 1); a layer function's KV caches are memref
// arguments every caller passes as the same arena view. The passes that
// outline work into kernels (tlm-parallelize-rows) or regroup it
// (tlm-token-loops) find buffers, and where they sit, through these.
//
//===----------------------------------------------------------------------===//

#ifndef TLMC_CODEGEN_TRANSFORMS_PLANNEDVIEWS_H
#define TLMC_CODEGEN_TRANSFORMS_PLANNEDVIEWS_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/BuiltinOps.h"

#include <optional>

namespace tlmc {

/// Where a kernel finds a buffer: a view at `offset` bytes of argument
/// `argument` (0: weights, 1: arena).
struct PlannedView {
  unsigned argument;
  int64_t offset;
  mlir::MemRefType type;

  /// The bytes it spans.
  int64_t bytes() const;
  /// Whether the two are the same view (argument, offset and type).
  bool isSame(const PlannedView &other) const;
  /// Whether the two share a byte and are not the same view.
  bool overlapsOther(const PlannedView &other) const;
  /// Whether the two share a byte.
  bool overlaps(const PlannedView &other) const;
};

/// The constant-offset view of argument 0 or 1 of `fn` that `value` is, or
/// null.
mlir::memref::ViewOp getArgumentView(mlir::Value value, mlir::func::FuncOp fn);

/// Where `value` sits if it is such a view.
std::optional<PlannedView> getPlannedView(mlir::Value value,
                                          mlir::func::FuncOp fn);

/// The view every call of `fn` passes as its memref argument `value`, if
/// they all pass the same planned view (a layer function's KV caches).
std::optional<PlannedView> getPassedView(mlir::Value value,
                                         mlir::func::FuncOp fn,
                                         mlir::ModuleOp module);

/// The arena views the calls of `fn` pass as its memref argument `value`,
/// one per call (they may differ: a layer's input and output), if every
/// call passes a planned view of its own arena and that arena as `fn`'s.
/// A kernel finds such a buffer from its byte offset in the arena, which
/// changes from call to call.
std::optional<llvm::SmallVector<PlannedView>>
getPassedArenaViews(mlir::Value value, mlir::func::FuncOp fn,
                    mlir::ModuleOp module);

/// The first op from `op` on (itself included) that touches memory, holds
/// regions or ends the block: what runs next after side-effect-free ops
/// (views, constants) that may sit between two ops. Null past the end.
mlir::Operation *skipEffectFreeOps(mlir::Operation *op);

/// Whether `op` (and all it holds) writes none of `reads` and touches none
/// of `writes`, so work that reads `reads` and writes `writes` may run
/// after `op` instead of before it. False when `op` touches a buffer that
/// is not a planned view, or has effects it does not name.
bool leavesAlone(mlir::Operation *op, llvm::ArrayRef<PlannedView> reads,
                 llvm::ArrayRef<PlannedView> writes, mlir::func::FuncOp fn);

} // namespace tlmc

#endif // TLMC_CODEGEN_TRANSFORMS_PLANNEDVIEWS_H
