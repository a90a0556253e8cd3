//===- RoPELowering.cpp - tlm.rope as rotations of whole vectors ---*- C++ -*-===//
//
// RoPE rotates each pair of a head's elements by an angle of the token's
// position and the pair: the first of a pair becomes x*c - partner*s, the
// second partner*s + x*c. The cosines and sines of every (token, pair) are
// computed once, into two tables that every head reads (powf, cosf and
// sinf in f32, as the reference computes them).
//
// Where a head's elements come in whole vectors of kLanes (head_dim a
// multiple of 16 for adjacent pairs, of 32 for rotate_half's halves), the
// rotation is loops over tokens and heads of vector ops: a pair's partner
// is a shuffle within the vector (adjacent pairs) or the vector at the
// other half of the head (rotate_half), and the angles' lanes a shuffle of
// the tables' row (adjacent) or a load of it. As a generic, each element
// read its partner and angles with loads at computed indices, which stayed
// scalar: ~1.4 cycles per element, ~67 us of a 128-token SmolLM2 layer on
// Zen 5 and ~0.5 us of every decode step's layer between its products.
// The vector form computes x*c + partner*(-s or s): negating is exact and
// a sum of two terms commutes, so every element is bitwise what the
// generic computes, which heads of other sizes still take.
//
//===----------------------------------------------------------------------===//

#include "codegen/Conversion/Patterns.h"
#include "codegen/Conversion/TLMToLinalg/Emitter.h"
#include "codegen/Passes.h"
#include "dialects/tlm/IR/TLMOps.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace tlmc;

namespace {

/// Elements per vector of the rotation: 16 f32, one AVX-512 register (two
/// AVX2 or four NEON ones).
constexpr int64_t kLanes = 16;

struct LowerRoPE : OpRewritePattern<tlm::RoPEOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(tlm::RoPEOp op,
                                PatternRewriter &rewriter) const override {
    Emitter e{rewriter, op.getLoc()};
    auto type = op.getType();
    ArrayRef<int64_t> shape = type.getShape();
    int64_t headDim = op.getHeadDim();
    bool adjacent = op.getStyle() == tlm::RopeStyle::Adjacent;
    auto [cosines, sines] = emitAngleTables(e, op);
    bool wholeVectors = type.getElementType().isF32() && shape.size() == 2 &&
                        !ShapedType::isDynamicShape(shape) &&
                        shape[1] % headDim == 0 &&
                        headDim % (adjacent ? kLanes : 2 * kLanes) == 0;
    Value result = wholeVectors
                       ? rotateVectors(e, op, cosines, sines, adjacent)
                       : rotateElements(e, op, cosines, sines, adjacent);
    rewriter.replaceOp(op, result);
    return success();
  }

  /// cos and sin of each (token, pair) angle, [tokens, head_dim / 2] each:
  /// every head (and both elements of a pair) reads the same ones, where
  /// computing them per element cost a powf and a sincosf each (~7% of a
  /// prefill). freq = 1 / theta^(2*pair / head_dim), divided by the pair's
  /// factor when the op has them; angle = (pos + row) * freq.
  static std::pair<Value, Value> emitAngleTables(Emitter &e, tlm::RoPEOp op) {
    OpBuilder &b = e.b;
    Location loc = e.loc;
    int64_t headDim = op.getHeadDim();
    float theta = op.getTheta().convertToFloat();
    Value pos = op.getPos();
    auto toF32 = [&](Value index) {
      Value i64 = arith::IndexCastOp::create(b, loc, b.getI64Type(), index);
      return arith::SIToFPOp::create(b, loc, b.getF32Type(), i64);
    };
    std::optional<ArrayRef<float>> factors = op.getFreqFactors();
    Value factorTable;
    if (factors)
      factorTable = arith::ConstantOp::create(
          b, loc,
          DenseElementsAttr::get(
              RankedTensorType::get({headDim / 2}, b.getF32Type()), *factors));
    SmallVector<int64_t> tableShape{op.getType().getDimSize(0), headDim / 2};
    auto angleTable = [&](bool sine) {
      return e.elementwise(tableShape, ValueRange{}, [&](ValueRange) {
        Value row = linalg::IndexOp::create(b, loc, 0);
        Value pair = linalg::IndexOp::create(b, loc, 1);
        Value twoPair = arith::MulIOp::create(b, loc, pair, e.index(2));
        Value exponent = e.div(toF32(twoPair), e.f32(double(headDim)));
        Value freq = e.div(
            e.f32(1.0), math::PowFOp::create(b, loc, e.f32(theta), exponent));
        if (factorTable)
          freq = e.div(freq, tensor::ExtractOp::create(b, loc, factorTable,
                                                       ValueRange{pair}));
        Value angle =
            e.mul(toF32(arith::AddIOp::create(b, loc, pos, row)), freq);
        return sine ? math::SinOp::create(b, loc, angle).getResult()
                    : math::CosOp::create(b, loc, angle).getResult();
      });
    };
    return {angleTable(/*sine=*/false), angleTable(/*sine=*/true)};
  }

  /// The rotation as loops over tokens and heads of kLanes-wide vector ops
  /// on buffers (head_dim a multiple of kLanes, of 2 * kLanes for
  /// rotate_half).
  static Value rotateVectors(Emitter &e, tlm::RoPEOp op, Value cosines,
                             Value sines, bool adjacent) {
    OpBuilder &b = e.b;
    Location loc = e.loc;
    auto type = op.getType();
    int64_t rows = type.getDimSize(0), width = type.getDimSize(1);
    int64_t headDim = op.getHeadDim();
    Value x = e.readOnlyBuffer(op.getInput());
    Value cosTable = e.readOnlyBuffer(cosines);
    Value sinTable = e.readOnlyBuffer(sines);
    Value out = memref::AllocOp::create(
        b, loc, MemRefType::get({rows, width}, b.getF32Type()));
    VectorType lanes = VectorType::get({kLanes}, b.getF32Type());
    VectorType pairs = VectorType::get({kLanes / 2}, b.getF32Type());
    // Adjacent pairs: each element's partner is its neighbour in the pair,
    // each pair's angle in both of its lanes, and the first of a pair
    // subtracts.
    SmallVector<int64_t> swapped, doubled;
    SmallVector<float> signs;
    for (int64_t i = 0; i < kLanes; ++i) {
      swapped.push_back(i ^ 1);
      doubled.push_back(i / 2);
      signs.push_back(i % 2 ? 1.0f : -1.0f);
    }
    Value signVector = arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(lanes, ArrayRef<float>(signs)));
    auto rowsLoop = scf::ForOp::create(
        b, loc, e.index(0), e.index(rows), e.index(1), ValueRange{},
        [&](OpBuilder &b, Location loc, Value row, ValueRange) {
          Emitter re{b, loc};
          scf::ForOp::create(
              b, loc, re.index(0), re.index(width / headDim), re.index(1),
              ValueRange{},
              [&](OpBuilder &b, Location loc, Value head, ValueRange) {
                Emitter in{b, loc};
                Value base = in.mulIndex(head, in.index(headDim));
                auto load = [&](VectorType vector, Value buffer, Value col) {
                  return vector::LoadOp::create(b, loc, vector, buffer,
                                                ValueRange{row, col})
                      .getResult();
                };
                for (int64_t i = 0; i < headDim; i += kLanes) {
                  Value col = in.addIndex(base, in.index(i));
                  Value xs = load(lanes, x, col);
                  Value partners, c, s;
                  if (adjacent) {
                    partners =
                        vector::ShuffleOp::create(b, loc, xs, xs, swapped);
                    Value pair = in.index(i / 2);
                    Value c8 = load(pairs, cosTable, pair);
                    Value s8 = load(pairs, sinTable, pair);
                    c = vector::ShuffleOp::create(b, loc, c8, c8, doubled);
                    s = arith::MulFOp::create(
                        b, loc,
                        vector::ShuffleOp::create(b, loc, s8, s8, doubled),
                        signVector);
                  } else {
                    // rotate_half: the first half's partners are the
                    // second half's elements, and subtract.
                    int64_t half = headDim / 2;
                    bool first = i < half;
                    partners =
                        load(lanes, x,
                             in.addIndex(
                                 base, in.index(first ? i + half : i - half)));
                    Value pair = in.index(first ? i : i - half);
                    c = load(lanes, cosTable, pair);
                    s = load(lanes, sinTable, pair);
                    if (first)
                      s = arith::NegFOp::create(b, loc, s);
                  }
                  Value rotated = arith::AddFOp::create(
                      b, loc, arith::MulFOp::create(b, loc, xs, c),
                      arith::MulFOp::create(b, loc, partners, s));
                  vector::StoreOp::create(b, loc, rotated, out,
                                          ValueRange{row, col});
                }
                scf::YieldOp::create(b, loc);
              });
          scf::YieldOp::create(b, loc);
        });
    // A prefill chunk's rows are split across the threads (see
    // kParallelTokenLoopRows); each row is rotated whole by one thread.
    if (rows >= kParallelTokenLoopRows)
      rowsLoop->setAttr(kParallelLoopAttr, b.getUnitAttr());
    return bufferization::ToTensorOp::create(b, loc, type, out,
                                             /*restrict=*/true,
                                             /*writable=*/true);
  }

  /// The rotation as one generic whose elements read their partner and
  /// angles at computed indices (any head_dim).
  static Value rotateElements(Emitter &e, tlm::RoPEOp op, Value cosines,
                              Value sines, bool adjacent) {
    OpBuilder &b = e.b;
    Location loc = e.loc;
    int64_t headDim = op.getHeadDim();
    Value input = op.getInput();
    return e.elementwise(
        op.getType().getShape(), ValueRange{input}, [&](ValueRange args) {
          Value row = linalg::IndexOp::create(b, loc, 0);
          Value col = linalg::IndexOp::create(b, loc, 1);
          Value hd = e.index(headDim);
          Value i = arith::RemUIOp::create(b, loc, col, hd);
          // The pair this element belongs to, its partner, and which half
          // it is.
          Value pair, partner, isFirst;
          if (adjacent) {
            Value two = e.index(2);
            pair = arith::DivUIOp::create(b, loc, i, two);
            Value odd = arith::RemUIOp::create(b, loc, i, two);
            isFirst = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                            odd, e.index(0));
            partner = arith::SelectOp::create(
                b, loc, isFirst, arith::AddIOp::create(b, loc, col, e.index(1)),
                arith::SubIOp::create(b, loc, col, e.index(1)));
          } else {
            Value half = e.index(headDim / 2);
            isFirst = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult,
                                            i, half);
            pair = arith::SelectOp::create(
                b, loc, isFirst, i, arith::SubIOp::create(b, loc, i, half));
            partner = arith::SelectOp::create(
                b, loc, isFirst, arith::AddIOp::create(b, loc, col, half),
                arith::SubIOp::create(b, loc, col, half));
          }
          Value c =
              tensor::ExtractOp::create(b, loc, cosines, ValueRange{row, pair});
          Value s =
              tensor::ExtractOp::create(b, loc, sines, ValueRange{row, pair});
          Value other = tensor::ExtractOp::create(b, loc, input,
                                                  ValueRange{row, partner});
          // first:  x*c - other*s      second: other*s + x*c  (other = first)
          Value x = args[0];
          Value first = e.sub(e.mul(x, c), e.mul(other, s));
          Value second = e.add(e.mul(other, s), e.mul(x, c));
          return arith::SelectOp::create(b, loc, isFirst, first, second)
              .getResult();
        });
  }
};

} // namespace

void tlmc::populateRoPELoweringPatterns(RewritePatternSet &patterns) {
  patterns.add<LowerRoPE>(patterns.getContext());
}
