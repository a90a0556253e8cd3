//===- KVCacheLayout.cpp - where attention keeps keys and values ----------===//

#include "codegen/Conversion/TLMToLinalg/KVCacheLayout.h"
#include "codegen/Conversion/TLMToLinalg/Emitter.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

#include <algorithm>

using namespace mlir;
using namespace tlmc;

KVCacheLayout::KVCacheLayout(tlm::AttentionOp op)
    : keyCache(op.getKeyCache()), valueCache(op.getValueCache()),
      kvHeads(op.getKvHeads()), headDim(op.getHeadDim()),
      capacity(op.getKeyCache().getType().getDimSize(1)), block(kKeyBlock) {
  while (capacity % block)
    block /= 2;
}

static Value flatten(OpBuilder &b, Location loc, Value cache) {
  return memref::CollapseShapeOp::create(
      b, loc, cache, ArrayRef<ReassociationIndices>{{0, 1, 2}});
}

Value KVCacheLayout::flatKeys(OpBuilder &b, Location loc) const {
  return flatten(b, loc, keyCache);
}

Value KVCacheLayout::flatValues(OpBuilder &b, Location loc) const {
  return flatten(b, loc, valueCache);
}

Value KVCacheLayout::keyAt(OpBuilder &b, Location loc, Value layer,
                           Value position, Value kvh, Value d) const {
  Emitter in{b, loc};
  Value slab = in.addIndex(in.mulIndex(layer, in.index(kvHeads)), kvh);
  Value lane = arith::RemUIOp::create(b, loc, position, in.index(block));
  Value start = in.subIndex(position, lane);
  Value row =
      in.mulIndex(in.addIndex(in.mulIndex(slab, in.index(capacity)), start),
                  in.index(headDim));
  return in.addIndex(in.addIndex(row, in.mulIndex(d, in.index(block))), lane);
}

Value KVCacheLayout::valueRowAt(OpBuilder &b, Location loc, Value layer,
                                Value position, Value kvBase) const {
  Emitter in{b, loc};
  Value layerRows = in.mulIndex(layer, in.index(kvHeads * capacity));
  return in.addIndex(
      in.mulIndex(kvBase, in.index(capacity)),
      in.mulIndex(in.addIndex(layerRows, position), in.index(headDim)));
}

void KVCacheLayout::prefetchStepForWriting(OpBuilder &b, Location loc,
                                           Value layer, Value position) const {
  Emitter at{b, loc};
  auto prefetch = [&](OpBuilder &b, Location loc, Value cache, Value index) {
    memref::PrefetchOp::create(b, loc, cache, ValueRange{index},
                               /*isWrite=*/true, /*localityHint=*/3,
                               /*isDataCache=*/true);
  };
  Value keys = flatKeys(b, loc);
  scf::ForOp::create(
      b, loc, at.index(0), at.index(kvHeads * headDim), at.index(1),
      ValueRange{}, [&](OpBuilder &b, Location loc, Value j, ValueRange) {
        Emitter in{b, loc};
        Value kvh = arith::DivUIOp::create(b, loc, j, in.index(headDim));
        Value d = arith::RemUIOp::create(b, loc, j, in.index(headDim));
        prefetch(b, loc, keys, keyAt(b, loc, layer, position, kvh, d));
        scf::YieldOp::create(b, loc);
      });
  auto cacheType = cast<MemRefType>(valueCache.getType());
  int64_t lineElements = std::min<int64_t>(
      headDim, 512 / cacheType.getElementType().getIntOrFloatBitWidth());
  Value values = flatValues(b, loc);
  scf::ForOp::create(
      b, loc, at.index(0), at.index(kvHeads * headDim), at.index(lineElements),
      ValueRange{}, [&](OpBuilder &b, Location loc, Value j, ValueRange) {
        Emitter in{b, loc};
        Value d = arith::RemUIOp::create(b, loc, j, in.index(headDim));
        Value row = valueRowAt(b, loc, layer, position, in.subIndex(j, d));
        prefetch(b, loc, values, in.addIndex(row, d));
        scf::YieldOp::create(b, loc);
      });
}
