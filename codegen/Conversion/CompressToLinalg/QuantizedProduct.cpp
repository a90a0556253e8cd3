//===- QuantizedProduct.cpp - quantized products, one scale per group -*- C++ -*-===//
//
// x times the transpose of a quantized weight, as a linalg.generic over
// (token, output feature) whose body sums each group's integers times the
// inputs in one loop, then applies the group's scale once:
//   y[t][n] = sum_g scale[n][g] * sum_{k in g} x[t][k] * (q[n][k] - zero)
// rather than scaling every weight. The inner loops read contiguous bytes
// and inputs and carry their sums in registers, so LLVM vectorizes them
// (extend, convert, FMA). int4 reads the split-nibble layout
// (codegen/Target/SplitNibbles.h): 16 bytes per 32 features, low nibbles
// for the first 16, high ones for the next; its integers sit above a zero
// point (8 when symmetric).
//
//===----------------------------------------------------------------------===//

#include "codegen/Conversion/Patterns.h"
#include "codegen/Passes.h"
#include "codegen/Target/SplitNibbles.h"

#include "mlir/Dialect/Utils/StructuredOpsUtils.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace tlmc;

namespace {

/// The body's arithmetic for one output (t, n).
struct GroupEmitter {
  OpBuilder &b;
  Location loc;
  Value x, values, scales, zeros, t, n;
  int64_t group, columns;
  bool int4;

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
          GroupEmitter in{lb, ll, x, values, scales, zeros, t, n, group, columns, int4};
          Value q = arith::ExtSIOp::create(
              lb, ll, lb.getI32Type(),
              memref::LoadOp::create(lb, ll, values, ValueRange{n, k}));
          scf::YieldOp::create(lb, ll, in.accumulate(acc[0], k, in.f32(q)));
        });
    return loop.getResult(0);
  }

  Value i32(int64_t v) {
    return arith::ConstantIntOp::create(b, loc, b.getI32Type(), v);
  }

  /// The value int4 integers are stored above: group g's zero point, or 8.
  Value bias(Value g) {
    if (!zeros)
      return i32(8);
    return arith::ExtUIOp::create(
        b, loc, b.getI32Type(),
        memref::LoadOp::create(b, loc, zeros, ValueRange{n, g}));
  }

  /// int4 in split nibbles (SplitNibbles.h): acc + the chunk at feature
  /// 32 * chunk whose `half` bytes hold features j and j + half.
  Value chunkSum(Value acc, Value chunk, int64_t half, Value zero) {
    Value first = arith::MulIOp::create(b, loc, chunk, index(kNibbleChunk));
    Value bytes = arith::MulIOp::create(b, loc, chunk, index(kNibbleChunk / 2));
    auto loop = scf::ForOp::create(
        b, loc, index(0), index(half), index(1), ValueRange{acc},
        [&](OpBuilder &lb, Location ll, Value j, ValueRange sum) {
          GroupEmitter in{lb, ll, x, values, scales, zeros, t, n, group, columns, int4};
          Value byte = arith::ExtUIOp::create(
              lb, ll, lb.getI32Type(),
              memref::LoadOp::create(
                  lb, ll, values,
                  ValueRange{n, arith::AddIOp::create(lb, ll, bytes, j)}));
          Value low = arith::SubIOp::create(
              lb, ll, arith::AndIOp::create(lb, ll, byte, in.i32(15)), zero);
          Value high = arith::SubIOp::create(
              lb, ll, arith::ShRUIOp::create(lb, ll, byte, in.i32(4)), zero);
          Value k = arith::AddIOp::create(lb, ll, first, j);
          Value next = in.accumulate(sum[0], k, in.f32(low));
          next = in.accumulate(
              next, arith::AddIOp::create(lb, ll, k, in.index(half)),
              in.f32(high));
          scf::YieldOp::create(lb, ll, next);
        });
    return loop.getResult(0);
  }

  /// int4: the whole chunks of features [first, last), 16 bytes (32
  /// features) per step as vectors: the low nibbles meet inputs
  /// [32c, 32c + 16), the high ones [32c + 16, 32c + 32).
  Value int4GroupSum(Value g, Value first, Value last) {
    auto lanes = [&](Type element) {
      return VectorType::get({kNibbleChunk / 2}, element);
    };
    VectorType floats = lanes(b.getF32Type()), words = lanes(b.getI32Type());
    auto splat = [&](int64_t v) -> Value {
      return arith::ConstantOp::create(
          b, loc, DenseElementsAttr::get(words, b.getI32IntegerAttr(v)));
    };
    Value zeroVector = arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(floats, b.getF32FloatAttr(0.0)));
    Value offset = vector::BroadcastOp::create(b, loc, words, bias(g));
    Value low15 = splat(15), shift = splat(4);
    Value chunk = index(kNibbleChunk);
    auto loop = scf::ForOp::create(
        b, loc, arith::DivUIOp::create(b, loc, first, chunk),
        arith::DivUIOp::create(b, loc, last, chunk), index(1),
        ValueRange{zeroVector},
        [&](OpBuilder &lb, Location ll, Value c, ValueRange acc) {
          GroupEmitter in{lb, ll, x, values, scales, zeros, t, n, group, columns, int4};
          Value byteAt =
              arith::MulIOp::create(lb, ll, c, in.index(kNibbleChunk / 2));
          Value featureAt =
              arith::MulIOp::create(lb, ll, c, in.index(kNibbleChunk));
          Value bytes = vector::LoadOp::create(
              lb, ll, lanes(lb.getI8Type()), values, ValueRange{n, byteAt});
          Value wide = arith::ExtUIOp::create(lb, ll, words, bytes);
          auto weightsOf = [&](Value nibbles) -> Value {
            return arith::SIToFPOp::create(
                lb, ll, floats, arith::SubIOp::create(lb, ll, nibbles, offset));
          };
          Value low = weightsOf(arith::AndIOp::create(lb, ll, wide, low15));
          Value high = weightsOf(arith::ShRUIOp::create(lb, ll, wide, shift));
          Value xLow = vector::LoadOp::create(lb, ll, floats, x,
                                              ValueRange{t, featureAt});
          Value xHigh = vector::LoadOp::create(
              lb, ll, floats, x,
              ValueRange{t, arith::AddIOp::create(
                                lb, ll, featureAt,
                                in.index(kNibbleChunk / 2))});
          Value sum = vector::FMAOp::create(lb, ll, low, xLow, acc[0]);
          scf::YieldOp::create(lb, ll,
                               vector::FMAOp::create(lb, ll, high, xHigh, sum)
                                   .getResult());
        });
    return vector::ReductionOp::create(b, loc, vector::CombiningKind::ADD,
                                       loop.getResult(0), Value(),
                                       arith::FastMathFlags::reassoc);
  }

  /// total + scale[n][g] * sum.
  Value addScaled(Value total, Value g, Value sum) {
    Value scale = memref::LoadOp::create(b, loc, scales, ValueRange{n, g});
    if (scale.getType().isF16()) // GGUF blocks' scales, widened on load
      scale = arith::ExtFOp::create(b, loc, b.getF32Type(), scale);
    Value scaled = arith::MulFOp::create(b, loc, sum, scale, kProductFastMath);
    return arith::AddFOp::create(b, loc, total, scaled, kProductFastMath);
  }

  /// y[t][n]: every group's sum, scaled once.
  Value emit() {
    int64_t groups = (columns + group - 1) / group;
    Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0));
    auto loop = scf::ForOp::create(
        b, loc, index(0), index(groups), index(1), ValueRange{zero},
        [&](OpBuilder &lb, Location ll, Value g, ValueRange acc) {
          GroupEmitter in{lb, ll, x, values, scales, zeros, t, n, group, columns, int4};
          Value first = arith::MulIOp::create(lb, ll, g, in.index(group));
          Value last = arith::MinUIOp::create(
              lb, ll, arith::AddIOp::create(lb, ll, first, in.index(group)),
              in.index(columns));
          Value sum = int4 ? in.int4GroupSum(g, first, last)
                           : in.groupSum(first, last);
          scf::YieldOp::create(lb, ll, in.addScaled(acc[0], g, sum));
        });
    Value total = loop.getResult(0);
    // int4: a last chunk shorter than 32 features, in the last group.
    int64_t tail = columns % kNibbleChunk;
    if (int4 && tail) {
      int64_t chunk = columns / kNibbleChunk;
      Value g = index(chunk * kNibbleChunk / group);
      Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0));
      total = addScaled(total, g,
                        chunkSum(zero, index(chunk), tail / 2, bias(g)));
    }
    return total;
  }
};

} // namespace

Value tlmc::buildGroupedQuantizedProduct(OpBuilder &b, Location loc,
                                         Value input, Value weights,
                                         compress::QuantizedWeightOp weight,
                                         const WeightSlot &values,
                                         const WeightSlot &scales,
                                         const WeightSlot *zeros,
                                         RankedTensorType resultType) {
  Value valuesView = viewWeightSlot(b, loc, weights, values);
  Value scalesView = viewWeightSlot(b, loc, weights, scales);
  Value zerosView = zeros ? viewWeightSlot(b, loc, weights, *zeros) : Value();
  return buildRowProduct(
      b, loc, input, resultType, weight.getTensorType().getNumElements(),
      [&](OpBuilder &nb, Location nl, Value x, Value token, Value row) {
        GroupEmitter emitter{nb,
                             nl,
                             x,
                             valuesView,
                             scalesView,
                             zerosView,
                             token,
                             row,
                             int64_t(weight.getGroupSize()),
                             weight.getColumns(),
                             weight.getBits() == 4};
        return emitter.emit();
      });
}
