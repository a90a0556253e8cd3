//===- QuantizedProduct.cpp - quantized products, one scale per group -*- C++ -*-===//
//
// x times the transpose of a quantized weight, as a linalg.generic over
// (token, output feature) whose body sums each group's integers times the
// inputs in one loop, then applies the group's scale once:
//   y[t][n] = sum_g scale[n][g] * sum_{k in g} x[t][k] * q[n][k]
// rather than scaling every weight. The inner loop reads contiguous bytes
// and inputs and carries its sum in a register, so LLVM vectorizes it
// (sign-extend, convert, FMA). For int8 weights (always symmetric);
// packed int4 keeps the dequantize-in-the-reduction lowering
// (CompressToLinalg.cpp).
//
//===----------------------------------------------------------------------===//

#include "codegen/Conversion/Patterns.h"
#include "codegen/Passes.h"

#include "mlir/Dialect/Utils/StructuredOpsUtils.h"

using namespace mlir;
using namespace tlmc;

namespace {

/// The body's arithmetic for one output (t, n).
struct GroupEmitter {
  OpBuilder &b;
  Location loc;
  Value x, values, scales, t, n;
  int64_t group, columns;

  Value index(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value f32(Value i32) {
    return arith::SIToFPOp::create(b, loc, b.getF32Type(), i32);
  }
  /// acc + x[t][k] * w, as a product's reduction (reassociable).
  Value accumulate(Value acc, Value k, Value w) {
    Value xk = memref::LoadOp::create(b, loc, x, ValueRange{t, k});
    return arith::AddFOp::create(
        b, loc, acc, arith::MulFOp::create(b, loc, xk, w, kProductFastMath),
        kProductFastMath);
  }

  /// sum over features [first, last) of x times q.
  Value groupSum(Value first, Value last) {
    Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0));
    auto loop = scf::ForOp::create(
        b, loc, first, last, index(1), ValueRange{zero},
        [&](OpBuilder &lb, Location ll, Value k, ValueRange acc) {
          GroupEmitter in{lb, ll, x, values, scales, t, n, group, columns};
          Value q = arith::ExtSIOp::create(
              lb, ll, lb.getI32Type(),
              memref::LoadOp::create(lb, ll, values, ValueRange{n, k}));
          scf::YieldOp::create(lb, ll, in.accumulate(acc[0], k, in.f32(q)));
        });
    return loop.getResult(0);
  }

  /// y[t][n]: every group's sum, scaled once.
  Value emit() {
    int64_t groups = (columns + group - 1) / group;
    Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0));
    auto loop = scf::ForOp::create(
        b, loc, index(0), index(groups), index(1), ValueRange{zero},
        [&](OpBuilder &lb, Location ll, Value g, ValueRange acc) {
          GroupEmitter in{lb, ll, x, values, scales, t, n, group, columns};
          Value first = arith::MulIOp::create(lb, ll, g, in.index(group));
          Value last = arith::MinUIOp::create(
              lb, ll, arith::AddIOp::create(lb, ll, first, in.index(group)),
              in.index(columns));
          Value sum = in.groupSum(first, last);
          Value scale = memref::LoadOp::create(lb, ll, scales, ValueRange{n, g});
          Value scaled = arith::MulFOp::create(lb, ll, sum, scale,
                                               kProductFastMath);
          scf::YieldOp::create(lb, ll,
                               arith::AddFOp::create(lb, ll, acc[0], scaled,
                                                     kProductFastMath)
                                   .getResult());
        });
    return loop.getResult(0);
  }
};

} // namespace

Value tlmc::buildGroupedQuantizedProduct(OpBuilder &b, Location loc,
                                         Value input, Value weights,
                                         compress::QuantizedWeightOp weight,
                                         const WeightSlot &values,
                                         const WeightSlot &scales,
                                         RankedTensorType resultType) {
  auto inputType = cast<RankedTensorType>(input.getType());
  Value valuesView = viewWeightSlot(b, loc, weights, values);
  Value scalesView = viewWeightSlot(b, loc, weights, scales);
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{resultType}, ValueRange{},
      ValueRange{tensor::EmptyOp::create(b, loc, resultType.getShape(),
                                         b.getF32Type())},
      ArrayRef<AffineMap>{b.getMultiDimIdentityMap(2)},
      ArrayRef<utils::IteratorType>{utils::IteratorType::parallel,
                                    utils::IteratorType::parallel},
      [&](OpBuilder &nb, Location nl, ValueRange) {
        // The input as a buffer, taken inside the body so bufferization
        // sees the tensor read here (see SparseBlockProduct.cpp).
        Value x = bufferization::ToBufferOp::create(
            nb, nl,
            MemRefType::get(inputType.getShape(), inputType.getElementType()),
            input, /*read_only=*/true);
        GroupEmitter emitter{nb,
                             nl,
                             x,
                             valuesView,
                             scalesView,
                             linalg::IndexOp::create(nb, nl, 0),
                             linalg::IndexOp::create(nb, nl, 1),
                             int64_t(weight.getGroupSize()),
                             weight.getColumns()};
        linalg::YieldOp::create(nb, nl, emitter.emit());
      });
  generic->setAttr(kParallelRowsAttr, b.getUnitAttr());
  generic->setAttr(kParallelWorkAttr,
                   b.getI64IntegerAttr(weight.getTensorType().getNumElements()));
  return generic.getResult(0);
}
