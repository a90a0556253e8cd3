//===- VectorizeElementwise.cpp - elementwise generics as vector loops ----===//
//
// convert-linalg-to-loops turns an elementwise generic into scalar loads, the
// body and a store per element; LLVM does not vectorize those loops, because
// every buffer is a view of the one arena and it cannot prove the output
// does not alias the inputs. Here each such generic on 2-D buffers becomes a
// loop over rows around a loop over columns in steps of 16, whose body is
// the generic's on vectors (vector.load, the same ops, vector.store): the
// same operations on the same elements, so results are bitwise unchanged.
//
//===----------------------------------------------------------------------===//

#include "codegen/Passes.h"
#include "codegen/Transforms/ElementwiseAccess.h"

#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/IRMapping.h"

namespace tlmc {
#define GEN_PASS_DEF_TLMVECTORIZEELEMENTWISE
#include "codegen/Passes.h.inc"
} // namespace tlmc

using namespace mlir;
using namespace tlmc;

namespace {

constexpr int64_t kLanes = 16;

using Access = ElementwiseAccess;

/// Whether `op` is an elementwise generic this pass vectorizes: static
/// buffers read by element, by column or by row, an output written by
/// element whose rows are contiguous and a multiple of 16 wide, and a body
/// of elementwise scalar ops only.
bool isVectorizable(linalg::GenericOp op) {
  if (!op.hasPureBufferSemantics() || op.getNumLoops() != 2 ||
      op.getNumParallelLoops() != 2 || op.getNumDpsInits() != 1 ||
      !op.getRegion().hasOneBlock())
    return false;
  auto outType = dyn_cast<MemRefType>(op.getDpsInits()[0].getType());
  if (!outType || outType.getRank() != 2 || !outType.hasStaticShape() ||
      outType.getDimSize(1) % kLanes)
    return false;
  ArrayRef<int64_t> shape = outType.getShape();
  for (OpOperand &operand : op->getOpOperands()) {
    auto type = dyn_cast<MemRefType>(operand.get().getType());
    std::optional<Access> access =
        getElementwiseAccess(op.getMatchingIndexingMap(&operand));
    if (!type || !access || !type.hasStaticShape() ||
        !type.getElementType().isIntOrFloat())
      return false;
    if (op.isDpsInit(&operand) && *access != Access::Element)
      return false;
    SmallVector<int64_t> expected =
        *access == Access::Element  ? SmallVector<int64_t>{shape[0], shape[1]}
        : *access == Access::Column ? SmallVector<int64_t>{shape[1]}
                                    : SmallVector<int64_t>{shape[0]};
    if (type.getShape() != ArrayRef<int64_t>(expected))
      return false;
    SmallVector<int64_t> strides;
    int64_t offset;
    if (failed(type.getStridesAndOffset(strides, offset)) ||
        strides.back() != 1)
      return false;
  }
  for (Operation &inner : op.getRegion().front().without_terminator()) {
    if (!inner.hasTrait<OpTrait::Elementwise>() ||
        !inner.hasTrait<OpTrait::Vectorizable>() || inner.getNumRegions() ||
        inner.getNumResults() != 1)
      return false;
    for (Value operand : inner.getOperands())
      if (!operand.getType().isIntOrIndexOrFloat())
        return false;
  }
  return true;
}

struct TLMVectorizeElementwisePass
    : tlmc::impl::TLMVectorizeElementwiseBase<TLMVectorizeElementwisePass> {
  void vectorize(linalg::GenericOp op) {
    OpBuilder b(op);
    Location loc = op.getLoc();
    auto outType = cast<MemRefType>(op.getDpsInits()[0].getType());
    auto index = [&](int64_t v) -> Value {
      return arith::ConstantIndexOp::create(b, loc, v);
    };
    Block &body = op.getRegion().front();
    auto rows = scf::ForOp::create(b, loc, index(0),
                                   index(outType.getDimSize(0)), index(1));
    b.setInsertionPointToStart(rows.getBody());
    auto vectorOf = [](Type scalar) { return VectorType::get({kLanes}, scalar); };
    // What depends only on the row (operands read by row, values from
    // outside the body, and arith ops or square roots of those: a norm's
    // 1 / sqrt(sum / n + eps)) is computed once per row as scalars before
    // the columns loop. LLVM cannot hoist it itself: the row's operand is
    // reloaded from the arena, which the loop stores to. The same IEEE
    // operations on the same values, so results are bitwise unchanged.
    IRMapping rowScalars;
    for (OpOperand &operand : op->getOpOperands()) {
      BlockArgument arg = body.getArgument(operand.getOperandNumber());
      if (!arg.use_empty() &&
          *getElementwiseAccess(op.getMatchingIndexingMap(&operand)) == Access::Row)
        rowScalars.map(arg, memref::LoadOp::create(b, loc, operand.get(),
                                                   ValueRange{rows.getInductionVar()}));
    }
    auto isRowScalar = [&](Value v) {
      return rowScalars.contains(v) || v.getParentBlock() != &body;
    };
    for (Operation &inner : body.without_terminator()) {
      bool exact = isa<arith::ArithDialect>(inner.getDialect()) ||
                   isa<math::SqrtOp>(inner);
      if (exact && llvm::all_of(inner.getOperands(), isRowScalar)) {
        Operation *scalar = b.clone(inner, rowScalars);
        rowScalars.map(inner.getResult(0), scalar->getResult(0));
      }
    }
    auto columns = scf::ForOp::create(
        b, loc, index(0), index(outType.getDimSize(1)), index(kLanes));
    b.setInsertionPointToStart(columns.getBody());
    SmallVector<Value, 2> at{rows.getInductionVar(), columns.getInductionVar()};
    IRMapping mapping;
    // Row scalars and values from outside the body (hoisted constants)
    // are broadcast, once per row, before the columns loop.
    auto lookup = [&](Value v) -> Value {
      if (Value mapped = mapping.lookupOrNull(v))
        return mapped;
      Value scalar = rowScalars.lookupOrDefault(v);
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPoint(columns);
      Value splat =
          vector::BroadcastOp::create(b, loc, vectorOf(v.getType()), scalar);
      mapping.map(v, splat);
      return splat;
    };
    for (OpOperand &operand : op->getOpOperands()) {
      BlockArgument arg = body.getArgument(operand.getOperandNumber());
      if (arg.use_empty() || rowScalars.contains(arg))
        continue;
      Value loaded;
      switch (*getElementwiseAccess(op.getMatchingIndexingMap(&operand))) {
      case Access::Element:
        loaded = vector::LoadOp::create(b, loc, vectorOf(arg.getType()),
                                        operand.get(), at);
        break;
      case Access::Column:
        loaded = vector::LoadOp::create(b, loc, vectorOf(arg.getType()),
                                        operand.get(), ValueRange{at[1]});
        break;
      case Access::Row:
        llvm_unreachable("row operands are row scalars");
      }
      mapping.map(arg, loaded);
    }
    for (Operation &inner : body.without_terminator()) {
      if (rowScalars.contains(inner.getResult(0)))
        continue;
      OperationState state(inner.getLoc(), inner.getName());
      for (Value operand : inner.getOperands())
        state.addOperands(lookup(operand));
      state.addTypes(vectorOf(inner.getResult(0).getType()));
      state.addAttributes(inner.getAttrs());
      mapping.map(inner.getResult(0), b.create(state)->getResult(0));
    }
    Value result = lookup(body.getTerminator()->getOperand(0));
    vector::StoreOp::create(b, loc, result, op.getDpsInits()[0], at);
    op.erase();
    ++numVectorized;
  }

  void runOnOperation() override {
    SmallVector<linalg::GenericOp> ops;
    getOperation().walk([&](linalg::GenericOp op) {
      if (isVectorizable(op))
        ops.push_back(op);
    });
    for (linalg::GenericOp op : ops)
      vectorize(op);
  }
};

} // namespace
