//===- ReductionLoops.cpp - reductions as loops with a register sum -*- C++ -*-===//
//
// Lowers a reducing linalg.generic on buffers to scf.for loops whose
// innermost loops carry the partial result as an iter_arg, so the output
// element is loaded once and stored once instead of on every iteration.
//
//===----------------------------------------------------------------------===//

#include "codegen/Passes.h"

#include "mlir/IR/IRMapping.h"

namespace tlmc {
#define GEN_PASS_DEF_TLMREDUCTIONLOOPS
#include "codegen/Passes.h.inc"
} // namespace tlmc

using namespace mlir;
using namespace tlmc;

namespace {

/// Whether `op` has the shape this pass lowers: buffers, one output, all
/// parallel iterators before at least one reduction, an output that does
/// not depend on the reduction dimensions, and a one-block body.
bool isRegisterReduction(linalg::GenericOp op) {
  if (!op.hasPureBufferSemantics() || op.getNumDpsInits() != 1 ||
      op.getNumReductionLoops() == 0)
    return false;
  auto iterators = op.getIteratorTypesArray();
  unsigned parallel = op.getNumParallelLoops();
  for (auto [i, it] : llvm::enumerate(iterators))
    if ((i < parallel) != (it == utils::IteratorType::parallel))
      return false;
  AffineMap outMap = op.getMatchingIndexingMap(op.getDpsInitOperand(0));
  for (unsigned d = parallel; d < iterators.size(); ++d)
    if (outMap.isFunctionOfDim(d))
      return false;
  return op.getRegion().hasOneBlock();
}

/// The values of `map`'s results at `ivs`.
SmallVector<Value> applyMap(OpBuilder &b, Location loc, AffineMap map,
                            ValueRange ivs) {
  SmallVector<Value> indices;
  for (unsigned i = 0; i < map.getNumResults(); ++i)
    indices.push_back(
        affine::AffineApplyOp::create(b, loc, map.getSubMap({i}), ivs));
  return indices;
}

/// Emits the loops for iteration dimensions [dim, end) of `op` inside the
/// current insertion point; `ivs` holds the induction variables so far.
class ReductionEmitter {
public:
  ReductionEmitter(linalg::GenericOp op, ArrayRef<Range> ranges)
      : op(op), ranges(ranges), parallel(op.getNumParallelLoops()) {}

  void emitParallel(OpBuilder &b, Location loc, SmallVector<Value> &ivs) {
    unsigned dim = ivs.size();
    if (dim == parallel) {
      // The output's map names every dimension but reads none of the
      // reduction ones: bind those to 0.
      Value out = op.getDpsInitOperand(0)->get();
      SmallVector<Value> dims(ivs);
      dims.resize(ranges.size(), arith::ConstantIndexOp::create(b, loc, 0));
      SmallVector<Value> at = applyMap(
          b, loc, op.getMatchingIndexingMap(op.getDpsInitOperand(0)), dims);
      Value init = memref::LoadOp::create(b, loc, out, at);
      Value sum = emitReduction(b, loc, ivs, init);
      memref::StoreOp::create(b, loc, sum, out, at);
      return;
    }
    scf::ForOp::create(
        b, loc, value(b, loc, ranges[dim].offset),
        value(b, loc, ranges[dim].size), value(b, loc, ranges[dim].stride),
        ValueRange{}, [&](OpBuilder &lb, Location ll, Value iv, ValueRange) {
          ivs.push_back(iv);
          emitParallel(lb, ll, ivs);
          ivs.pop_back();
          scf::YieldOp::create(lb, ll);
        });
  }

private:
  Value emitReduction(OpBuilder &b, Location loc, SmallVector<Value> &ivs,
                      Value acc) {
    unsigned dim = ivs.size();
    if (dim == ranges.size())
      return emitBody(b, loc, ivs, acc);
    auto loop = scf::ForOp::create(
        b, loc, value(b, loc, ranges[dim].offset),
        value(b, loc, ranges[dim].size), value(b, loc, ranges[dim].stride),
        ValueRange{acc},
        [&](OpBuilder &lb, Location ll, Value iv, ValueRange args) {
          ivs.push_back(iv);
          Value next = emitReduction(lb, ll, ivs, args[0]);
          ivs.pop_back();
          scf::YieldOp::create(lb, ll, next);
        });
    return loop.getResult(0);
  }

  /// The generic's body at `ivs`, with the output block argument bound to
  /// the running sum; returns the yielded value.
  Value emitBody(OpBuilder &b, Location loc, ValueRange ivs, Value acc) {
    Block &body = op.getRegion().front();
    IRMapping mapping;
    for (OpOperand *input : op.getDpsInputOperands()) {
      Value arg = body.getArgument(input->getOperandNumber());
      if (!isa<MemRefType>(input->get().getType())) {
        mapping.map(arg, input->get());
        continue;
      }
      SmallVector<Value> at =
          applyMap(b, loc, op.getMatchingIndexingMap(input), ivs);
      mapping.map(arg, memref::LoadOp::create(b, loc, input->get(), at));
    }
    mapping.map(body.getArgument(op.getNumDpsInputs()), acc);
    for (Operation &nested : body.without_terminator()) {
      if (auto index = dyn_cast<linalg::IndexOp>(nested)) {
        mapping.map(index.getResult(), ivs[index.getDim()]);
        continue;
      }
      b.clone(nested, mapping);
    }
    return mapping.lookup(body.getTerminator()->getOperand(0));
  }

  static Value value(OpBuilder &b, Location loc, OpFoldResult v) {
    return getValueOrCreateConstantIndexOp(b, loc, v);
  }

  linalg::GenericOp op;
  ArrayRef<Range> ranges;
  unsigned parallel;
};

struct TLMReductionLoopsPass
    : tlmc::impl::TLMReductionLoopsBase<TLMReductionLoopsPass> {
  void runOnOperation() override {
    SmallVector<linalg::GenericOp> reductions;
    getOperation().walk([&](linalg::GenericOp op) {
      if (isRegisterReduction(op))
        reductions.push_back(op);
    });
    for (linalg::GenericOp op : reductions) {
      OpBuilder b(op);
      SmallVector<Range> ranges =
          cast<linalg::LinalgOp>(op.getOperation()).createLoopRanges(b, op.getLoc());
      SmallVector<Value> ivs;
      ReductionEmitter(op, ranges).emitParallel(b, op.getLoc(), ivs);
      op.erase();
      ++numLowered;
    }
  }
};

} // namespace
