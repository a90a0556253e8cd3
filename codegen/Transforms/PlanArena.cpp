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
  int64_t scratchBytes = 0; // what the intervals need
};

/// Where the buffers of one layer function (tlm-share-layers) go. Layer
/// functions run one at a time and never while another is running, so they
/// all share one region after the caches; the entry points' own buffers,
/// which live across the calls, come after it.
struct LayerPlan {
  func::FuncOp fn;
  SmallVector<Interval> intervals;
  int64_t scratchBytes = 0;
};

/// The allocations of `fn`'s body as intervals, or failure (reported).
FailureOr<SmallVector<Interval>> collectIntervals(func::FuncOp fn) {
  Block &body = fn.getBody().front();
  DenseMap<Operation *, int64_t> order;
  int64_t index = 0;
  for (Operation &op : body)
    order[&op] = index++;
  SmallVector<Interval> intervals;
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
    intervals.push_back(in);
    return WalkResult::advance();
  });
  if (walk.wasInterrupted())
    return failure();
  return intervals;
}

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

  /// Bufferization leaves an entry point's logits in a buffer of their own
  /// copied into the logits argument at the end (the argument is staged in
  /// the arena below, and copied out again): when the copy is the buffer's
  /// last use and the argument's only one, the ops that computed the buffer
  /// write the argument instead. A decode step of a 49K-word vocabulary
  /// copied 196 KB once more per token.
  static void forwardLogitsCopy(func::FuncOp fn) {
    Block &body = fn.getBody().front();
    Value logits = fn.getArgument(5);
    if (!logits.hasOneUse())
      return;
    auto copy = dyn_cast<memref::CopyOp>(*logits.getUsers().begin());
    if (!copy || copy.getTarget() != logits || copy->getBlock() != &body)
      return;
    auto alloc = copy.getSource().getDefiningOp<memref::AllocOp>();
    if (!alloc || alloc.getType() != logits.getType() ||
        alloc->getBlock() != &body)
      return;
    for (Operation *user : alloc->getUsers()) {
      Operation *top = body.findAncestorOpInBlock(*user);
      if (user != copy && (!top || !top->isBeforeInBlock(copy)))
        return;
    }
    copy.erase();
    alloc.getResult().replaceAllUsesWith(logits);
    alloc.erase();
  }

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
    forwardLogitsCopy(fn);
    plan.cacheBytes =
        llvm::alignTo(plan.cacheType.getNumElements() *
                          (plan.cacheType.getElementTypeBitWidth() / 8),
                      kBufferAlignment);
    FailureOr<SmallVector<Interval>> intervals = collectIntervals(fn);
    if (failed(intervals))
      return failure();
    plan.intervals = std::move(*intervals);
    plan.scratchBytes = placeIntervals(plan.intervals);
    return plan;
  }

  /// Replaces each alloc of `intervals` by a view of `arena` at `base` plus
  /// its offset, and drops the deallocations.
  void placeBuffers(func::FuncOp fn, MutableArrayRef<Interval> intervals,
                    Value arena, int64_t base) {
    for (Interval &in : intervals) {
      OpBuilder b(in.alloc);
      Location loc = in.alloc.getLoc();
      Value shift = arith::ConstantIndexOp::create(b, loc, base + in.offset);
      Value view = memref::ViewOp::create(b, loc, in.alloc.getType(), arena,
                                          shift, ValueRange{});
      in.alloc.replaceAllUsesWith(view);
      in.alloc.erase();
      ++plannedBuffers;
    }
    fn.walk([&](memref::DeallocOp dealloc) { dealloc.erase(); });
  }

  /// Rewrites a layer function to (weights, arena, <its arguments>, ctx),
  /// its buffers at `base` in the arena, and its calls to pass both.
  LogicalResult applyLayerPlan(LayerPlan &plan, int64_t base,
                               MemRefType arenaType) {
    func::FuncOp fn = plan.fn;
    MLIRContext *ctx = fn.getContext();
    auto ptrType = LLVM::LLVMPointerType::get(ctx);
    if (failed(fn.insertArgument(1, arenaType, {}, fn.getLoc())) ||
        failed(fn.insertArgument(fn.getNumArguments(), ptrType, {},
                                 fn.getLoc())))
      return failure();
    placeBuffers(fn, plan.intervals, fn.getArgument(1), base);
    return success();
  }

  /// Rewrites `plan.fn` to (weights, arena, tokens, pos, logits, ctx) with
  /// every buffer a view into an arena of `arenaBytes`: the caches first,
  /// its own buffers at `scratchBase`, the staged logits after them.
  LogicalResult applyPlan(FunctionPlan &plan, int64_t scratchBase,
                          int64_t arenaBytes) {
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
    // The logits are produced in the arena (so that generated kernels only
    // ever address weights and arena) and copied out at the end: by the
    // ops that compute them, when forwardLogitsCopy could forward them.
    Value logits = fn.getArgument(6);
    auto logitsType = cast<MemRefType>(logits.getType());
    Value staged = viewAt(scratchBase + plan.scratchBytes, logitsType, loc);
    logits.replaceAllUsesWith(staged);
    b.setInsertionPoint(body.getTerminator());
    memref::CopyOp::create(b, loc, staged, logits);
    placeBuffers(fn, plan.intervals, arena, scratchBase);
    // Calls of layer functions pass the arena and the pool on. (Ask the
    // callee: bufferization rebuilt the calls without their attributes.)
    SymbolTable symbols(fn->getParentOfType<ModuleOp>());
    fn.walk([&](func::CallOp call) {
      auto callee = symbols.lookup<func::FuncOp>(call.getCallee());
      if (!callee || !callee->hasAttr(kLayerAttr))
        return;
      call->insertOperands(1, arena);
      call->insertOperands(call->getNumOperands(), fn.getArgument(7));
    });
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
    SmallVector<LayerPlan> layerPlans;
    for (auto fn : getOperation().getOps<func::FuncOp>()) {
      if (fn.isExternal())
        continue;
      if (fn.isPrivate()) {
        if (!fn->hasAttr(kLayerAttr))
          continue;
        FailureOr<SmallVector<Interval>> intervals = collectIntervals(fn);
        if (failed(intervals))
          return signalPassFailure();
        LayerPlan plan{fn, std::move(*intervals), 0};
        plan.scratchBytes = placeIntervals(plan.intervals);
        layerPlans.push_back(std::move(plan));
        continue;
      }
      FailureOr<FunctionPlan> plan = planFunction(fn);
      if (failed(plan))
        return signalPassFailure();
      plans.push_back(std::move(*plan));
    }
    if (plans.empty())
      return;
    int64_t cacheBytes = plans.front().cacheBytes;
    int64_t layerScratch = 0;
    for (LayerPlan &plan : layerPlans)
      layerScratch = std::max(layerScratch, plan.scratchBytes);
    int64_t scratchBase = 2 * cacheBytes + layerScratch;
    int64_t bytes = 0;
    for (FunctionPlan &plan : plans) {
      if (plan.cacheBytes != cacheBytes) {
        plan.fn.emitOpError("expected the same KV caches in every entry point");
        return signalPassFailure();
      }
      auto logits = cast<MemRefType>(plan.fn.getArgumentTypes()[5]);
      bytes = std::max(bytes, scratchBase + plan.scratchBytes +
                                  int64_t(llvm::alignTo(
                                      logits.getNumElements() * 4,
                                      kBufferAlignment)));
    }
    auto arenaType =
        MemRefType::get({bytes}, IntegerType::get(&getContext(), 8));
    for (LayerPlan &plan : layerPlans)
      if (failed(applyLayerPlan(plan, 2 * cacheBytes, arenaType)))
        return signalPassFailure();
    for (FunctionPlan &plan : plans)
      if (failed(applyPlan(plan, scratchBase, bytes)))
        return signalPassFailure();
    arenaBytes = bytes;
  }
};

} // namespace
