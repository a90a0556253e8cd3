//===- PlanArena.cpp - one arena for the KV cache and all buffers ---*- C++ -*-===//
//
// After bufferization an entry point allocates one buffer per intermediate
// tensor. A device must not allocate while generating, so this pass gives
// every buffer a fixed offset in one arena the runtime allocates once (or
// the application provides): the KV caches first, then the buffers, placed
// first-fit by their live ranges in the function's straight-line body so
// that buffers never live at the same time share bytes.
//
//===----------------------------------------------------------------------===//

#include "codegen/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Interfaces/ViewLikeInterface.h"
#include "llvm/Support/MathExtras.h"

namespace tlmc {
#define GEN_PASS_DEF_TLMPLANARENA
#include "codegen/Passes.h.inc"
} // namespace tlmc

using namespace mlir;
using namespace tlmc;

namespace {

constexpr int64_t kBufferAlignment = 64;

/// One buffer's bytes and the span of top-level ops during which it is live.
struct Interval {
  memref::AllocOp alloc;
  int64_t bytes = 0;
  int64_t start = 0, end = 0;
  int64_t offset = 0;
};

/// Index, in `block`, of the op that contains `op`.
int64_t positionIn(Block &block, Operation *op,
                   const DenseMap<Operation *, int64_t> &order) {
  Operation *top = block.findAncestorOpInBlock(*op);
  return top ? order.lookup(top) : 0;
}

/// The last top-level position at which `value` or any view of it is used.
int64_t lastUse(Value value, Block &block,
                const DenseMap<Operation *, int64_t> &order) {
  int64_t last = 0;
  SmallVector<Value> worklist{value};
  while (!worklist.empty()) {
    Value v = worklist.pop_back_val();
    for (Operation *user : v.getUsers()) {
      last = std::max(last, positionIn(block, user, order));
      if (isa<ViewLikeOpInterface>(user))
        for (Value r : user->getResults())
          worklist.push_back(r);
    }
  }
  return last;
}

/// Where everything of one entry point goes.
struct FunctionPlan {
  func::FuncOp fn;
  MemRefType cacheType;
  int64_t cacheBytes = 0;
  SmallVector<Interval> intervals;
  int64_t logitsOffset = 0; // the logits' staging buffer in the arena
  int64_t bytes = 0;        // the arena this function needs
};

/// First fit, in program order, among the buffers still live at each start.
/// Returns the bytes the intervals need.
int64_t placeIntervals(MutableArrayRef<Interval> intervals) {
  int64_t total = 0;
  for (size_t i = 0; i < intervals.size(); ++i) {
    Interval &in = intervals[i];
    SmallVector<std::pair<int64_t, int64_t>> busy;
    for (size_t j = 0; j < i; ++j)
      if (intervals[j].end >= in.start)
        busy.push_back({intervals[j].offset,
                        intervals[j].offset + intervals[j].bytes});
    llvm::sort(busy);
    int64_t offset = 0;
    for (auto [lo, hi] : busy) {
      if (offset + in.bytes <= lo)
        break;
      offset = std::max(offset, hi);
    }
    in.offset = offset;
    total = std::max(total, offset + in.bytes);
  }
  return total;
}

struct TLMPlanArenaPass : tlmc::impl::TLMPlanArenaBase<TLMPlanArenaPass> {
  using Base::Base;

  FailureOr<FunctionPlan> planFunction(func::FuncOp fn) {
    // Expected signature: (weights, tokens, pos, key_cache, value_cache,
    // logits) as bufferization and out-param conversion leave it.
    FunctionType type = fn.getFunctionType();
    if (type.getNumInputs() != 6 || type.getNumResults() != 0)
      return fn.emitOpError("expected (weights, tokens, pos, key_cache, "
                            "value_cache, logits) after bufferization");
    FunctionPlan plan;
    plan.fn = fn;
    plan.cacheType = dyn_cast<MemRefType>(type.getInput(3));
    auto logitsType = dyn_cast<MemRefType>(type.getInput(5));
    if (!plan.cacheType || !plan.cacheType.hasStaticShape() ||
        type.getInput(4) != plan.cacheType || !logitsType ||
        !logitsType.hasStaticShape())
      return fn.emitOpError("expected static KV cache and logits buffers");
    Block &body = fn.getBody().front();
    DenseMap<Operation *, int64_t> order;
    int64_t index = 0;
    for (Operation &op : body)
      order[&op] = index++;
    plan.cacheBytes =
        llvm::alignTo(plan.cacheType.getNumElements() * 4, kBufferAlignment);

    WalkResult walk = fn.walk([&](memref::AllocOp alloc) {
      MemRefType t = alloc.getType();
      if (!t.hasStaticShape() || !t.getLayout().isIdentity() ||
          alloc->getBlock() != &body) {
        alloc.emitOpError("cannot be planned: expected a static, identity-"
                          "layout buffer in the function body");
        return WalkResult::interrupt();
      }
      Interval in;
      in.alloc = alloc;
      in.bytes = llvm::alignTo(
          t.getNumElements() * (t.getElementTypeBitWidth() / 8),
          kBufferAlignment);
      in.start = order.lookup(alloc);
      in.end = std::max(in.start, lastUse(alloc.getResult(), body, order));
      plan.intervals.push_back(in);
      return WalkResult::advance();
    });
    if (walk.wasInterrupted())
      return failure();
    // The logits are produced in the arena (so that generated kernels only
    // ever address weights and arena) and copied out at the end.
    int64_t scratch = placeIntervals(plan.intervals);
    plan.logitsOffset = 2 * plan.cacheBytes + scratch;
    plan.bytes = plan.logitsOffset +
                 llvm::alignTo(logitsType.getNumElements() * 4, kBufferAlignment);
    return plan;
  }

  /// Rewrites `plan.fn` to (weights, arena, tokens, pos, logits, ctx) with
  /// every buffer a view into an arena of `arenaBytes`.
  LogicalResult applyPlan(FunctionPlan &plan, int64_t arenaBytes) {
    func::FuncOp fn = plan.fn;
    MLIRContext *ctx = fn.getContext();
    Block &body = fn.getBody().front();
    auto arenaType = MemRefType::get({arenaBytes}, IntegerType::get(ctx, 8));
    if (failed(fn.insertArgument(1, arenaType, {}, fn.getLoc())) ||
        failed(fn.insertArgument(7, LLVM::LLVMPointerType::get(ctx), {},
                                 fn.getLoc())))
      return failure();
    Value arena = fn.getArgument(1);
    OpBuilder b(ctx);
    b.setInsertionPointToStart(&body);
    auto viewAt = [&](int64_t offset, MemRefType t, Location loc) -> Value {
      Value shift = arith::ConstantIndexOp::create(b, loc, offset);
      return memref::ViewOp::create(b, loc, t, arena, shift, ValueRange{});
    };
    // Arguments now: 0 weights, 1 arena, 2 tokens, 3 pos, 4 key cache,
    // 5 value cache, 6 logits, 7 ctx.
    Location loc = fn.getLoc();
    fn.getArgument(4).replaceAllUsesWith(viewAt(0, plan.cacheType, loc));
    fn.getArgument(5).replaceAllUsesWith(
        viewAt(plan.cacheBytes, plan.cacheType, loc));
    Value logits = fn.getArgument(6);
    auto logitsType = cast<MemRefType>(logits.getType());
    Value staged = viewAt(plan.logitsOffset, logitsType, loc);
    logits.replaceAllUsesWith(staged);
    b.setInsertionPoint(body.getTerminator());
    memref::CopyOp::create(b, loc, staged, logits);
    for (Interval &in : plan.intervals) {
      b.setInsertionPoint(in.alloc);
      Value view = viewAt(2 * plan.cacheBytes + in.offset, in.alloc.getType(),
                          in.alloc.getLoc());
      in.alloc.replaceAllUsesWith(view);
      in.alloc.erase();
      ++plannedBuffers;
    }
    fn.walk([&](memref::DeallocOp dealloc) { dealloc.erase(); });
    if (failed(fn.eraseArguments(llvm::BitVector(8, false).set(4).set(5))))
      return failure();
    fn->setAttr(kArenaBytesAttr,
                IntegerAttr::get(IntegerType::get(ctx, 64), arenaBytes));
    fn.setSymName((symbolPrefix + fn.getSymName()).str());
    return success();
  }

  void runOnOperation() override {
    // Every entry point gets the same arena (the largest plan), so that one
    // session buffer serves them all and their kernels share one signature.
    SmallVector<FunctionPlan> plans;
    for (auto fn : getOperation().getOps<func::FuncOp>()) {
      if (fn.isExternal() || fn.isPrivate())
        continue;
      FailureOr<FunctionPlan> plan = planFunction(fn);
      if (failed(plan))
        return signalPassFailure();
      plans.push_back(std::move(*plan));
    }
    int64_t bytes = 0;
    for (FunctionPlan &plan : plans)
      bytes = std::max(bytes, plan.bytes);
    for (FunctionPlan &plan : plans)
      if (failed(applyPlan(plan, bytes)))
        return signalPassFailure();
    arenaBytes = bytes;
  }
};

} // namespace
