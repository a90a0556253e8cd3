//===- LayerWeights.cpp - each call of a shared layer gets its weights -*- C++ -*-===//
//
// A layer function (tlm-share-layers) names the weights of its first layer
// t. It reads them relative to layer t's first weight, and each call for
// layer l passes the weights buffer advanced to layer l's first weight. This
// is sound because the weight layout stores every layer's weights in one
// contiguous stretch, in declaration order: layers with the same weights
// (which identical signatures imply) have the same relative offsets. That
// is checked here for every (function, layer) pair rather than assumed.
//
//===----------------------------------------------------------------------===//

#include "codegen/Conversion/Patterns.h"
#include "codegen/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/DenseSet.h"

using namespace mlir;
using namespace tlmc;

namespace {

/// Each layer's stretch of the weights buffer.
struct LayerStretch {
  int64_t begin = INT64_MAX, end = 0;
  SmallVector<const WeightSlot *> slots;
};

DenseMap<int64_t, LayerStretch> getLayerStretches(const WeightLayout &layout) {
  DenseMap<int64_t, LayerStretch> stretches;
  for (const WeightSlot &slot : layout.slots) {
    std::optional<int64_t> layer = getWeightLayer(slot.name);
    if (!layer)
      continue;
    LayerStretch &s = stretches[*layer];
    s.begin = std::min(s.begin, slot.offset);
    s.end = std::max(s.end, slot.offset + slot.bytes);
    s.slots.push_back(&slot);
  }
  return stretches;
}

/// Fails unless layer `to` stores every weight of layer `from` with the same
/// type at the same offset relative to its stretch.
LogicalResult checkSameLayout(Operation *call, int64_t from, int64_t to,
                              const DenseMap<int64_t, LayerStretch> &stretches,
                              const WeightLayout &layout) {
  auto a = stretches.find(from), b = stretches.find(to);
  if (a == stretches.end() || b == stretches.end())
    return call->emitOpError("layer ")
           << from << " or " << to << " has no weights in the layout";
  for (const WeightSlot *slot : a->second.slots) {
    const WeightSlot *other = layout.lookup(renameWeightLayer(slot->name, to));
    if (!other || other->storedType != slot->storedType ||
        other->offset - b->second.begin != slot->offset - a->second.begin)
      return call->emitOpError("layer ")
             << to << " does not store '" << slot->name
             << "' as layer " << from << " does; it cannot share its code";
  }
  return success();
}

} // namespace

LogicalResult tlmc::addLayerWeightOperands(ModuleOp module,
                                           const WeightLayout &layout) {
  DenseMap<int64_t, LayerStretch> stretches = getLayerStretches(layout);
  DenseSet<std::pair<int64_t, int64_t>> checked;
  WalkResult walk = module.walk([&](func::CallOp call) {
    auto layer = call->getAttrOfType<IntegerAttr>(kLayerAttr);
    if (!layer)
      return WalkResult::advance();
    auto callee = module.lookupSymbol<func::FuncOp>(call.getCallee());
    auto from = callee ? callee->getAttrOfType<IntegerAttr>(kLayerAttr)
                       : IntegerAttr();
    auto caller = call->getParentOfType<func::FuncOp>();
    if (!from || caller.getNumArguments() == 0 ||
        callee.getArgument(0).getType() != caller.getArgument(0).getType()) {
      call.emitOpError("expected a layer function and a caller that both "
                       "take the weights buffer first");
      return WalkResult::interrupt();
    }
    int64_t l = layer.getInt(), t = from.getInt();
    if (checked.insert({t, l}).second &&
        failed(checkSameLayout(call, t, l, stretches, layout)))
      return WalkResult::interrupt();
    // The buffer seen from layer l's first weight. Its type claims the
    // whole buffer's length so that the callee's type (and its kernels')
    // is the entry points'; the callee only reads its layer's stretch.
    OpBuilder b(call);
    Value weights = caller.getArgument(0);
    Value shift =
        arith::ConstantIndexOp::create(b, call.getLoc(), stretches[l].begin);
    Value view = memref::ViewOp::create(b, call.getLoc(), weights.getType(),
                                        weights, shift, ValueRange{});
    call->insertOperands(0, view);
    return WalkResult::advance();
  });
  return failure(walk.wasInterrupted());
}

LogicalResult tlmc::rebaseLayerWeightViews(ModuleOp module,
                                           const WeightLayout &layout) {
  DenseMap<int64_t, LayerStretch> stretches = getLayerStretches(layout);
  for (auto fn : module.getOps<func::FuncOp>()) {
    auto layer = fn->getAttrOfType<IntegerAttr>(kLayerAttr);
    if (!layer || fn.isExternal())
      continue;
    const LayerStretch &s = stretches[layer.getInt()];
    Value weights = fn.getArgument(0);
    WalkResult walk = fn.walk([&](memref::ViewOp view) {
      if (view.getSource() != weights)
        return WalkResult::advance();
      auto shift = view.getByteShift().getDefiningOp<arith::ConstantIndexOp>();
      if (!shift || shift.value() < s.begin || shift.value() >= s.end) {
        view.emitOpError("a layer function reads weights outside layer ")
            << layer.getInt();
        return WalkResult::interrupt();
      }
      OpBuilder b(view);
      view.getByteShiftMutable().assign(arith::ConstantIndexOp::create(
          b, view.getLoc(), shift.value() - s.begin));
      return WalkResult::advance();
    });
    if (walk.wasInterrupted())
      return failure();
  }
  return success();
}
