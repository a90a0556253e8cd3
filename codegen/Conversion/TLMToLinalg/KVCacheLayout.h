//===- KVCacheLayout.h - where attention keeps keys and values -*- C++ -*-===//
//
// The KV caches are memrefs of shape (layers, capacity, kv_heads * head_dim)
// whose element order only the attention lowering knows (the runtime holds
// their bytes and nothing else reads them), so it is chosen for the reads:
//
// - Keys, per layer and KV head, in blocks of `block` positions, each
//   head_dim rows of `block` keys: element (layer, p, kvh * hd + d) at
//   ((layer * kvHeads + kvh) * capacity + p - p % block) * hd + d * block +
//   p % block. A query's scores for a block are then head_dim FMAs of a
//   broadcast query element into one vector, no reduction across lanes.
// - Values, per layer and KV head, one row of head_dim per position:
//   element (layer, p, kvh * hd + d) at ((layer * kvHeads + kvh) *
//   capacity + p) * hd + d. A KV group's weighted sums read one stream; a
//   row per position with every head's values made each group's pass read
//   hd of every kvHeads * hd elements, a strided walk the prefetchers
//   served at about half the bandwidth (SmolLM2 Q4_0 on Zen 4, 1 thread:
//   decode after 400 positions 1.25x, after 1900 1.57x).
//
//===----------------------------------------------------------------------===//

#ifndef TLMC_CODEGEN_CONVERSION_TLMTOLINALG_KVCACHELAYOUT_H
#define TLMC_CODEGEN_CONVERSION_TLMTOLINALG_KVCACHELAYOUT_H

#include "dialects/tlm/IR/TLMOps.h"

#include "mlir/IR/Builders.h"

namespace tlmc {

/// Keys per block of the key cache: 16 f32 lanes, one AVX-512 register
/// (capacities that are not a multiple take the largest power of two that
/// divides them).
constexpr int64_t kKeyBlock = 16;

/// The element order of one attention op's caches, and the indices into
/// them as one run of elements (flatKeys, flatValues).
struct KVCacheLayout {
  mlir::Value keyCache, valueCache;
  int64_t kvHeads, headDim, capacity;
  /// Positions per key block: kKeyBlock, or the largest power of two below
  /// it that divides the capacity.
  int64_t block;

  explicit KVCacheLayout(mlir::tlm::AttentionOp op);

  /// The caches as one run of elements each (memref.collapse_shape).
  mlir::Value flatKeys(mlir::OpBuilder &b, mlir::Location loc) const;
  mlir::Value flatValues(mlir::OpBuilder &b, mlir::Location loc) const;
  /// Where (layer, position, kvh * hd + d) of the key cache is in flatKeys.
  mlir::Value keyAt(mlir::OpBuilder &b, mlir::Location loc, mlir::Value layer,
                    mlir::Value position, mlir::Value kvh, mlir::Value d) const;
  /// Where (layer, position, kvBase .. kvBase + hd) of the value cache
  /// starts in flatValues, kvBase = kvh * hd.
  mlir::Value valueRowAt(mlir::OpBuilder &b, mlir::Location loc,
                         mlir::Value layer, mlir::Value position,
                         mlir::Value kvBase) const;
  /// Write prefetches of every line a decode step's new key and value at
  /// `position` of `layer` will be stored in: one per key element (each
  /// in a line of its own in the blocked layout), one per 64 bytes of each
  /// KV head's value row.
  void prefetchStepForWriting(mlir::OpBuilder &b, mlir::Location loc,
                              mlir::Value layer, mlir::Value position) const;
};

} // namespace tlmc

#endif // TLMC_CODEGEN_CONVERSION_TLMTOLINALG_KVCACHELAYOUT_H
