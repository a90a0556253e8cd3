//===- PlannedViews.cpp - buffers as constant-offset views of the arguments -===//

#include "codegen/Transforms/PlannedViews.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

using namespace mlir;

namespace tlmc {

int64_t PlannedView::bytes() const {
  return type.getNumElements() * type.getElementTypeBitWidth() / 8;
}

bool PlannedView::isSame(const PlannedView &other) const {
  return argument == other.argument && offset == other.offset &&
         type == other.type;
}

bool PlannedView::overlapsOther(const PlannedView &other) const {
  if (argument != other.argument || isSame(other))
    return false;
  return offset < other.offset + other.bytes() &&
         other.offset < offset + bytes();
}

bool PlannedView::overlaps(const PlannedView &other) const {
  return argument == other.argument && offset < other.offset + other.bytes() &&
         other.offset < offset + bytes();
}

memref::ViewOp getArgumentView(Value value, func::FuncOp fn) {
  auto view = value.getDefiningOp<memref::ViewOp>();
  if (!view || !view.getSizes().empty())
    return {};
  auto arg = dyn_cast<BlockArgument>(view.getSource());
  if (!arg || arg.getOwner() != &fn.getBody().front() || arg.getArgNumber() > 1)
    return {};
  if (!view.getByteShift().getDefiningOp<arith::ConstantIndexOp>())
    return {};
  return view;
}

std::optional<PlannedView> getPlannedView(Value value, func::FuncOp fn) {
  memref::ViewOp view = getArgumentView(value, fn);
  if (!view)
    return std::nullopt;
  return PlannedView{
      cast<BlockArgument>(view.getSource()).getArgNumber(),
      view.getByteShift().getDefiningOp<arith::ConstantIndexOp>().value(),
      view.getType()};
}

/// Each call of `fn` with the planned view (in its caller) it passes as
/// `value`, a memref argument of `fn`; nothing if `fn` is used other than
/// by calls or a call passes anything else.
static std::optional<SmallVector<std::pair<func::CallOp, PlannedView>>>
getCallersViews(Value value, func::FuncOp fn, ModuleOp module) {
  auto arg = dyn_cast<BlockArgument>(value);
  if (!arg || arg.getOwner() != &fn.getBody().front() ||
      !isa<MemRefType>(arg.getType()))
    return std::nullopt;
  auto uses = SymbolTable::getSymbolUses(fn.getSymNameAttr(), module);
  if (!uses)
    return std::nullopt;
  SmallVector<std::pair<func::CallOp, PlannedView>> views;
  for (const SymbolTable::SymbolUse &use : *uses) {
    auto call = dyn_cast<func::CallOp>(use.getUser());
    if (!call)
      return std::nullopt;
    std::optional<PlannedView> view =
        getPlannedView(call.getOperand(arg.getArgNumber()),
                       call->getParentOfType<func::FuncOp>());
    if (!view)
      return std::nullopt;
    views.push_back({call, *view});
  }
  return views;
}

std::optional<PlannedView> getPassedView(Value value, func::FuncOp fn,
                                         ModuleOp module) {
  auto views = getCallersViews(value, fn, module);
  if (!views || views->empty())
    return std::nullopt;
  PlannedView passed = views->front().second;
  for (const auto &[call, view] : *views)
    if (view.argument != passed.argument || view.offset != passed.offset)
      return std::nullopt;
  passed.type = cast<MemRefType>(value.getType());
  return passed;
}

std::optional<SmallVector<PlannedView>>
getPassedArenaViews(Value value, func::FuncOp fn, ModuleOp module) {
  auto views = getCallersViews(value, fn, module);
  if (!views || views->empty() || fn.getNumArguments() < 2)
    return std::nullopt;
  SmallVector<PlannedView> passed;
  for (auto [call, view] : *views) {
    auto caller = call->getParentOfType<func::FuncOp>();
    if (view.argument != 1 || call.getOperand(1) != caller.getArgument(1))
      return std::nullopt;
    passed.push_back(view);
  }
  return passed;
}

Operation *skipEffectFreeOps(Operation *op) {
  while (op && op->getNumRegions() == 0 && isMemoryEffectFree(op) &&
         !op->hasTrait<OpTrait::IsTerminator>())
    op = op->getNextNode();
  return op;
}

bool leavesAlone(Operation *op, ArrayRef<PlannedView> reads,
                 ArrayRef<PlannedView> writes, func::FuncOp fn) {
  std::optional<SmallVector<MemoryEffects::EffectInstance>> effects =
      getEffectsRecursively(op);
  if (!effects)
    return false;
  for (const MemoryEffects::EffectInstance &effect : *effects) {
    std::optional<PlannedView> touched;
    if (Value value = effect.getValue())
      touched = getPlannedView(value, fn);
    if (!touched)
      return false;
    auto overlapsTouched = [&](const PlannedView &view) {
      return view.overlaps(*touched);
    };
    if (llvm::any_of(writes, overlapsTouched))
      return false;
    if (!isa<MemoryEffects::Read>(effect.getEffect()) &&
        llvm::any_of(reads, overlapsTouched))
      return false;
  }
  return true;
}

} // namespace tlmc
