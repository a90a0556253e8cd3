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

struct TLMPlanArenaPass : tlmc::impl::TLMPlanArenaBase<TLMPlanArenaPass> {
  using Base::Base;

  LogicalResult planFunction(func::FuncOp fn) {
    // Expected signature: (weights, tokens, pos, key_cache, value_cache,
    // logits) as bufferization and out-param conversion leave it.
    FunctionType type = fn.getFunctionType();
    if (type.getNumInputs() != 6 || type.getNumResults() != 0)
      return fn.emitOpError("expected (weights, tokens, pos, key_cache, "
                            "value_cache, logits) after bufferization");
    auto cacheType = dyn_cast<MemRefType>(type.getInput(3));
    if (!cacheType || !cacheType.hasStaticShape() ||
        type.getInput(4) != cacheType)
      return fn.emitOpError("expected two static KV cache buffers");
    Block &body = fn.getBody().front();
    DenseMap<Operation *, int64_t> order;
    int64_t index = 0;
    for (Operation &op : body)
      order[&op] = index++;

    int64_t cacheBytes =
        llvm::alignTo(cacheType.getNumElements() * 4, kBufferAlignment);
    int64_t base = 2 * cacheBytes;

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

    // First fit, in program order, among the buffers still live.
    int64_t scratchBytes = 0;
    SmallVector<Interval *> placed;
    for (Interval &in : intervals) {
      SmallVector<std::pair<int64_t, int64_t>> busy;
      for (Interval *other : placed)
        if (other->end >= in.start)
          busy.push_back({other->offset, other->offset + other->bytes});
      llvm::sort(busy);
      int64_t offset = 0;
      for (auto [lo, hi] : busy) {
        if (offset + in.bytes <= lo)
          break;
        offset = std::max(offset, hi);
      }
      in.offset = offset;
      scratchBytes = std::max(scratchBytes, offset + in.bytes);
      placed.push_back(&in);
    }
    int64_t arenaBytes = base + scratchBytes;

    // New signature: (weights, arena, tokens, pos, logits).
    MLIRContext *ctx = fn.getContext();
    auto arenaType = MemRefType::get({arenaBytes}, IntegerType::get(ctx, 8));
    if (failed(fn.insertArgument(1, arenaType, {}, fn.getLoc())))
      return failure();
    Value arena = fn.getArgument(1);
    OpBuilder b(ctx);
    b.setInsertionPointToStart(&body);
    auto viewAt = [&](int64_t offset, MemRefType t, Location loc) -> Value {
      Value shift = arith::ConstantIndexOp::create(b, loc, offset);
      return memref::ViewOp::create(b, loc, t, arena, shift, ValueRange{});
    };
    // Arguments after the insertion: 0 weights, 1 arena, 2 tokens, 3 pos,
    // 4 key cache, 5 value cache, 6 logits.
    fn.getArgument(4).replaceAllUsesWith(viewAt(0, cacheType, fn.getLoc()));
    fn.getArgument(5).replaceAllUsesWith(
        viewAt(cacheBytes, cacheType, fn.getLoc()));
    for (Interval &in : intervals) {
      b.setInsertionPoint(in.alloc);
      Value view = viewAt(base + in.offset, in.alloc.getType(),
                          in.alloc.getLoc());
      in.alloc.replaceAllUsesWith(view);
      in.alloc.erase();
      ++plannedBuffers;
    }
    fn.walk([&](memref::DeallocOp dealloc) { dealloc.erase(); });
    if (failed(fn.eraseArguments(llvm::BitVector(7, false).set(4).set(5))))
      return failure();
    fn->setAttr(kArenaBytesAttr,
                IntegerAttr::get(IntegerType::get(ctx, 64), arenaBytes));
    fn.setSymName((symbolPrefix + fn.getSymName()).str());
    arenaBytesStat = std::max<uint64_t>(arenaBytesStat, arenaBytes);
    return success();
  }

  void runOnOperation() override {
    for (auto fn : llvm::make_early_inc_range(
             getOperation().getOps<func::FuncOp>())) {
      if (fn.isExternal() || fn.isPrivate())
        continue;
      if (failed(planFunction(fn)))
        return signalPassFailure();
    }
    arenaBytes = arenaBytesStat;
  }

  uint64_t arenaBytesStat = 0;
};

} // namespace
