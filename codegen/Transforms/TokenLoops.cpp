//===- TokenLoops.cpp - a prefill's elementwise ops as loops over tokens --===//
//
// Groups maximal runs of token-local ops (elementwise generics, norms'
// reductions, fills and copies on planned views) into one scf.for over the
// tokens, marked for tlm-parallelize-rows, so that a prefill's elementwise
// work between two products is split across threads as the products are.
// See the pass's description in Passes.td for what counts as token-local
// and where a run must end.
//
//===----------------------------------------------------------------------===//

#include "codegen/Passes.h"
#include "codegen/Transforms/PlannedViews.h"
#include "codegen/Transforms/ProductEpilogues.h"

#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Transforms/RegionUtils.h"

namespace tlmc {
#define GEN_PASS_DEF_TLMTOKENLOOPS
#include "codegen/Passes.h.inc"
} // namespace tlmc

using namespace mlir;
using namespace tlmc;

namespace {

/// A buffer a token-local op touches, where it may sit, and how: by token
/// row (only the current token's row) or whole. A buffer sits at one
/// planned view, or, a layer argument its callers pass as different arena
/// views (the layer's input), at any of those.
struct Access {
  Value buffer;
  SmallVector<PlannedView, 1> places;
  bool byRow;
  bool written;
};

/// What one transcendental function (exp, sin, cos, pow, tanh, log, erf)
/// of an element costs in the work a run is measured by, against 1 for
/// every other element an op touches: a polynomial or libm call of ~15-30
/// instructions against one load, op and store. It sets which runs are
/// worth the threads: SmolLM2's RoPE (a table of sines and cosines per
/// token) and SwiGLU (an exp per element) ran 1.4x faster on 2 threads,
/// while its norms and residual adds, as many elements but no
/// transcendentals, ran 1.2-2x slower (each thread reads rows the other
/// thread's product wrote: cache lines move between cores at ~28 GB/s
/// here against ~80 from a core's own cache).
constexpr int64_t kTranscendentalCost = 16;

/// A token-local op: its token count, its accesses and its work (elements,
/// each transcendental function of an element counting kTranscendentalCost
/// more).
struct TokenLocal {
  int64_t tokens = 0;
  SmallVector<Access> accesses;
  int64_t work = 0;
};

class TokenLocalAnalysis {
public:
  TokenLocalAnalysis(func::FuncOp fn, ModuleOp module)
      : fn(fn), module(module) {}

  /// `op` as a token-local op, if it is one.
  std::optional<TokenLocal> analyze(Operation *op) {
    if (auto generic = dyn_cast<linalg::GenericOp>(op))
      return analyzeGeneric(generic);
    if (auto fill = dyn_cast<linalg::FillOp>(op)) {
      TokenLocal local;
      if (!fill.hasPureBufferSemantics() ||
          !addRows(local, fill.getDpsInits()[0], /*written=*/true))
        return std::nullopt;
      return local;
    }
    if (auto copy = dyn_cast<memref::CopyOp>(op)) {
      TokenLocal local;
      if (copy.getSource().getType() != copy.getTarget().getType() ||
          !addRows(local, copy.getSource(), /*written=*/false) ||
          !addRows(local, copy.getTarget(), /*written=*/true))
        return std::nullopt;
      return local;
    }
    return std::nullopt;
  }

private:
  std::optional<SmallVector<PlannedView, 1>> locate(Value buffer) {
    if (std::optional<PlannedView> view = getPlannedView(buffer, fn))
      return SmallVector<PlannedView, 1>{*view};
    if (std::optional<PlannedView> view = getPassedView(buffer, fn, module))
      return SmallVector<PlannedView, 1>{*view};
    if (auto passed = getPassedArenaViews(buffer, fn, module))
      return SmallVector<PlannedView, 1>(passed->begin(), passed->end());
    return std::nullopt;
  }

  /// Adds `buffer`, accessed by token row: a planned view with an identity
  /// layout whose dimension 0 is the token count.
  bool addRows(TokenLocal &local, Value buffer, bool written) {
    auto type = dyn_cast<MemRefType>(buffer.getType());
    auto places = locate(buffer);
    if (!type || !places || type.getRank() == 0 || !type.hasStaticShape() ||
        !type.getLayout().isIdentity())
      return false;
    int64_t tokens = type.getDimSize(0);
    if (local.tokens && local.tokens != tokens)
      return false;
    local.tokens = tokens;
    local.accesses.push_back({buffer, *places, /*byRow=*/true, written});
    local.work = std::max(local.work, type.getNumElements());
    return true;
  }

  bool addWhole(TokenLocal &local, Value buffer) {
    auto places = locate(buffer);
    if (!places)
      return false;
    local.accesses.push_back({buffer, *places, /*byRow=*/false, false});
    return true;
  }

  std::optional<TokenLocal> analyzeGeneric(linalg::GenericOp op) {
    if (!op.hasPureBufferSemantics() || op->hasAttr(kParallelRowsAttr) ||
        op->hasAttr(kUKernelAttr) || op.getNumLoops() == 0 ||
        op.getIteratorTypesArray()[0] != utils::IteratorType::parallel ||
        !op.getRegion().hasOneBlock())
      return std::nullopt;
    MLIRContext *ctx = op.getContext();
    AffineExpr token = getAffineDimExpr(0, ctx);
    TokenLocal local;
    for (OpOperand &operand : op->getOpOperands()) {
      AffineMap map = op.getMatchingIndexingMap(&operand);
      bool written = op.isDpsInit(&operand);
      bool usesToken = map.isFunctionOfDim(0);
      if (!usesToken) {
        // Read whole (a norm's weights); an output must be per token.
        if (written || !addWhole(local, operand.get()))
          return std::nullopt;
        continue;
      }
      if (map.getResult(0) != token)
        return std::nullopt;
      for (unsigned r = 1; r < map.getNumResults(); ++r)
        if (map.getResult(r).isFunctionOfDim(0))
          return std::nullopt;
      if (!addRows(local, operand.get(), written))
        return std::nullopt;
    }
    if (!local.tokens)
      return std::nullopt;
    int64_t elements = 1;
    for (int64_t bound : op.getStaticLoopRanges())
      elements *= ShapedType::isDynamic(bound) ? 1 : bound;
    int64_t transcendentals = 0;
    op.getRegion().walk([&](Operation *inner) {
      transcendentals +=
          isa<math::ExpOp, math::SinOp, math::CosOp, math::PowFOp,
              math::TanhOp, math::LogOp, math::ErfOp>(inner);
    });
    local.work = elements * (1 + kTranscendentalCost * transcendentals);
    // The body: no writes, and loads only of the current token's row.
    Block &body = op.getRegion().front();
    for (Operation &inner : body.without_terminator()) {
      if (auto load = dyn_cast<memref::LoadOp>(inner)) {
        auto index = load.getIndices().empty()
                         ? linalg::IndexOp()
                         : load.getIndices()[0].getDefiningOp<linalg::IndexOp>();
        auto type = cast<MemRefType>(load.getMemRef().getType());
        if (!index || index.getDim() != 0 || type.getDimSize(0) != local.tokens)
          return std::nullopt;
        if (!addRows(local, load.getMemRef(), /*written=*/false))
          return std::nullopt;
        continue;
      }
      if (!isMemoryEffectFree(&inner))
        return std::nullopt;
    }
    return local;
  }

  func::FuncOp fn;
  ModuleOp module;
};

/// Whether adding `next`'s accesses to a run's keeps every token's rows
/// independent of the others'.
bool compatible(ArrayRef<Access> run, ArrayRef<Access> next) {
  auto conflict = [](const Access &a, const Access &b) {
    // The same buffer: one value, or one planned view. Two others that may
    // share a byte cannot be told apart by rows.
    bool same = a.buffer == b.buffer ||
                (a.places.size() == 1 && b.places.size() == 1 &&
                 a.places[0].isSame(b.places[0]));
    if (!same)
      for (const PlannedView &x : a.places)
        for (const PlannedView &y : b.places)
          if (x.overlaps(y))
            return true;
    // One token's row written, the whole buffer read elsewhere.
    return same && (a.written || b.written) && (!a.byRow || !b.byRow);
  };
  for (const Access &a : run)
    for (const Access &b : next)
      if (conflict(a, b))
        return false;
  for (const Access &a : next)
    for (const Access &b : next)
      if (&a != &b && conflict(a, b))
        return false;
  return true;
}

struct TLMTokenLoopsPass
    : tlmc::impl::TLMTokenLoopsBase<TLMTokenLoopsPass> {
  using Base::Base;

  /// Token t's rows of `buffer`: dimension 0 narrowed to [t, t + 1).
  static Value rowOf(OpBuilder &b, Location loc, Value buffer, Value t) {
    auto type = cast<MemRefType>(buffer.getType());
    OpFoldResult zero = b.getIndexAttr(0), one = b.getIndexAttr(1);
    SmallVector<OpFoldResult> offsets(type.getRank(), zero), sizes,
        strides(type.getRank(), one);
    for (int64_t d : type.getShape())
      sizes.push_back(b.getIndexAttr(d));
    offsets[0] = t;
    sizes[0] = one;
    return memref::SubViewOp::create(b, loc, buffer, offsets, sizes, strides);
  }

  /// Moves `run` (ops over `tokens` tokens) into one loop over them, before
  /// its last op.
  void group(ArrayRef<Operation *> run, int64_t tokens) {
    Operation *last = run.back();
    OpBuilder b(last);
    Location loc = run.front()->getLoc();
    auto index = [&](int64_t v) -> Value {
      return arith::ConstantIndexOp::create(b, loc, v);
    };
    auto loop = scf::ForOp::create(b, loc, index(0), index(tokens), index(1));
    loop->setAttr(kParallelLoopAttr, b.getUnitAttr());
    b.setInsertionPointToStart(loop.getBody());
    Value t = loop.getInductionVar();
    for (Operation *op : run) {
      if (auto fill = dyn_cast<linalg::FillOp>(op)) {
        linalg::FillOp::create(b, op->getLoc(), fill.getInputs(),
                               ValueRange{rowOf(b, op->getLoc(),
                                                fill.getDpsInits()[0], t)});
      } else if (auto copy = dyn_cast<memref::CopyOp>(op)) {
        memref::CopyOp::create(b, op->getLoc(),
                               rowOf(b, op->getLoc(), copy.getSource(), t),
                               rowOf(b, op->getLoc(), copy.getTarget(), t));
      } else {
        auto generic = cast<linalg::GenericOp>(op);
        SmallVector<AffineMap> maps = generic.getIndexingMapsArray();
        auto narrow = [&](OpOperand &operand) -> Value {
          AffineMap map = maps[operand.getOperandNumber()];
          return map.isFunctionOfDim(0) ? rowOf(b, op->getLoc(), operand.get(), t)
                                        : operand.get();
        };
        SmallVector<Value> ins, outs;
        for (OpOperand *operand : generic.getDpsInputOperands())
          ins.push_back(narrow(*operand));
        for (OpOperand &operand : generic.getDpsInitsMutable())
          outs.push_back(narrow(operand));
        auto rowGeneric = linalg::GenericOp::create(
            b, op->getLoc(), TypeRange{}, ins, outs, maps,
            generic.getIteratorTypesArray());
        IRMapping mapping;
        generic.getRegion().cloneInto(&rowGeneric.getRegion(), mapping);
        // Dimension 0 now runs over one token: its index is t.
        SmallVector<linalg::IndexOp> tokenIndices;
        rowGeneric.walk([&](linalg::IndexOp index) {
          if (index.getDim() == 0)
            tokenIndices.push_back(index);
        });
        for (linalg::IndexOp index : tokenIndices) {
          index.getResult().replaceAllUsesWith(t);
          index.erase();
        }
      }
      ++numOps;
    }
    for (Operation *op : run)
      op->erase();
    ++numLoops;
  }

  void runOnFunction(func::FuncOp fn, ModuleOp module) {
    TokenLocalAnalysis analysis(fn, module);
    SmallVector<Operation *> run;
    SmallVector<Access> accesses;
    int64_t tokens = 0, work = 0;
    SmallVector<std::pair<SmallVector<Operation *>, int64_t>> runs;
    auto flush = [&] {
      if (!run.empty() && tokens >= 2 && work >= minWork)
        runs.emplace_back(run, tokens);
      run.clear();
      accesses.clear();
      tokens = work = 0;
    };
    // A product's epilogue runs in the product's job, on the features each
    // thread computed (tlm-parallelize-rows), rather than split by tokens.
    llvm::SmallPtrSet<Operation *, 8> epilogues;
    fn.walk([&](linalg::GenericOp product) {
      if (linalg::GenericOp epilogue = findProductEpilogue(product))
        epilogues.insert(epilogue);
    });
    for (Operation &op : fn.getBody().front()) {
      if (epilogues.contains(&op)) {
        flush();
        continue;
      }
      std::optional<TokenLocal> local = analysis.analyze(&op);
      if (!local) {
        // Side-effect-free ops (views, constants) stay where they are;
        // anything else (a product, a call, attention's loops) ends a run.
        if (!isMemoryEffectFree(&op) || op.getNumRegions())
          flush();
        continue;
      }
      // An op whose own buffers may share rows (a layer argument that may
      // sit where it writes) stays out of every run.
      if (!compatible({}, local->accesses)) {
        flush();
        continue;
      }
      if (!run.empty() &&
          (local->tokens != tokens || !compatible(accesses, local->accesses)))
        flush();
      run.push_back(&op);
      accesses.append(local->accesses);
      tokens = local->tokens;
      work += local->work;
    }
    flush();
    for (auto &[ops, count] : runs)
      group(ops, count);
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    for (auto fn : module.getOps<func::FuncOp>())
      if (!fn.isExternal() && (!fn.isPrivate() || fn->hasAttr(kLayerAttr)))
        runOnFunction(fn, module);
  }
};

} // namespace
