//===- ExpandF16Conversions.cpp - f16 <-> f32 without f16 hardware ---------===//
//
// Both directions work on the bit patterns, for scalars and vectors alike
// (every constant is splat to the operand's shape):
//
//  f16 -> f32: move exponent and mantissa to f32's place (bits << 13) and
//  multiply by 2^112, which rebiases the exponent (15 -> 127) for normals
//  and turns a subnormal's bits, read as an f32 subnormal, into its value;
//  infinities and NaNs (exponent 31) get f32's all-ones exponent instead.
//  Exact: the product is exactly representable.
//
//  f32 -> f16, rounding to nearest even: below f16's smallest normal, add
//  0.5f in f32 arithmetic, which aligns the value's bits to f16's subnormal
//  unit and rounds them with the FPU's own nearest-even; otherwise rebias
//  the exponent and round the 13 dropped mantissa bits by adding 0xfff plus
//  the kept mantissa's lowest bit; too large for f16 gives infinity, NaNs
//  stay NaNs.
//
//===----------------------------------------------------------------------===//

#include "codegen/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace tlmc {
#define GEN_PASS_DEF_TLMEXPANDF16CONVERSIONS
#include "codegen/Passes.h.inc"
} // namespace tlmc

using namespace mlir;

namespace {

/// `type` with element type `element` (a vector keeps its shape).
Type withElement(Type type, Type element) {
  if (auto vector = dyn_cast<VectorType>(type))
    return vector.clone(element);
  return element;
}

/// Builds integer and float constants of the operand's shape.
struct Builder {
  OpBuilder &b;
  Location loc;
  Type shape; // any type of the operand's shape

  Value i32(int64_t value) {
    Type type = withElement(shape, b.getI32Type());
    TypedAttr attr = b.getI32IntegerAttr(int32_t(value));
    if (auto vector = dyn_cast<VectorType>(type))
      attr = DenseElementsAttr::get(vector, attr);
    return arith::ConstantOp::create(b, loc, type, attr);
  }
  Value f32(float value) {
    Type type = withElement(shape, b.getF32Type());
    TypedAttr attr = b.getF32FloatAttr(value);
    if (auto vector = dyn_cast<VectorType>(type))
      attr = DenseElementsAttr::get(vector, attr);
    return arith::ConstantOp::create(b, loc, type, attr);
  }
  Value bitcast(Value v, Type element) {
    return arith::BitcastOp::create(b, loc, withElement(shape, element), v);
  }
  Value cmp(arith::CmpIPredicate p, Value x, Value y) {
    return arith::CmpIOp::create(b, loc, p, x, y);
  }
  Value select(Value c, Value x, Value y) {
    return arith::SelectOp::create(b, loc, c, x, y);
  }
  Value band(Value x, int64_t m) { return arith::AndIOp::create(b, loc, x, i32(m)); }
  Value bor(Value x, Value y) { return arith::OrIOp::create(b, loc, x, y); }
  Value shl(Value x, int64_t n) { return arith::ShLIOp::create(b, loc, x, i32(n)); }
  Value shr(Value x, int64_t n) { return arith::ShRUIOp::create(b, loc, x, i32(n)); }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  Value sub(Value x, Value y) { return arith::SubIOp::create(b, loc, x, y); }
};

bool isF16ToF32(Type from, Type to) {
  return getElementTypeOrSelf(from).isF16() && getElementTypeOrSelf(to).isF32();
}

struct ExpandExtF : OpRewritePattern<arith::ExtFOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(arith::ExtFOp op,
                                PatternRewriter &rewriter) const override {
    if (!isF16ToF32(op.getIn().getType(), op.getType()))
      return rewriter.notifyMatchFailure(op, "not f16 to f32");
    Builder c{rewriter, op.getLoc(), op.getType()};
    Value h = arith::ExtUIOp::create(
        rewriter, op.getLoc(), withElement(op.getType(), rewriter.getI32Type()),
        c.bitcast(op.getIn(), rewriter.getI16Type()));
    Value sign = c.shl(c.band(h, 0x8000), 16);
    Value bits = c.shl(c.band(h, 0x7fff), 13);
    Value scaled = arith::MulFOp::create(
        rewriter, op.getLoc(), c.bitcast(bits, rewriter.getF32Type()),
        c.f32(0x1p112f));
    Value special = c.bor(bits, c.i32(0x7f800000)); // inf / NaN payload
    Value isSpecial = c.cmp(arith::CmpIPredicate::uge, bits, c.i32(0x0f800000));
    Value magnitude = c.select(isSpecial, special,
                               c.bitcast(scaled, rewriter.getI32Type()));
    rewriter.replaceOp(op, c.bitcast(c.bor(magnitude, sign),
                                     rewriter.getF32Type()));
    return success();
  }
};

struct ExpandTruncF : OpRewritePattern<arith::TruncFOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(arith::TruncFOp op,
                                PatternRewriter &rewriter) const override {
    if (!isF16ToF32(op.getType(), op.getIn().getType()))
      return rewriter.notifyMatchFailure(op, "not f32 to f16");
    if (op.getRoundingmodeAttr())
      return rewriter.notifyMatchFailure(op, "not the default rounding");
    Location loc = op.getLoc();
    Builder c{rewriter, loc, op.getType()};
    Type i32 = rewriter.getI32Type(), f32 = rewriter.getF32Type();
    Value x = c.bitcast(op.getIn(), i32);
    Value sign = c.shr(c.band(x, 0x80000000), 16);
    Value a = c.band(x, 0x7fffffff);
    // Subnormal or zero in f16 (below 2^-14): the FPU rounds a + 0.5f.
    Value half = c.i32(126 << 23); // 0.5f
    Value sum = arith::AddFOp::create(rewriter, loc, c.bitcast(a, f32),
                                      c.bitcast(half, f32));
    Value small = c.sub(c.bitcast(sum, i32), half);
    // Normal: rebias 127 -> 15, round the 13 dropped bits to nearest even.
    Value odd = c.band(c.shr(a, 13), 1);
    Value normal = c.shr(c.add(c.add(a, c.i32(int32_t(0xc8000fff))), odd), 13);
    Value isSmall = c.cmp(arith::CmpIPredicate::ult, a, c.i32(113 << 23));
    Value finite = c.select(isSmall, small, normal);
    // 65520 and up round to infinity; NaNs stay quiet NaNs.
    Value isNaN = c.cmp(arith::CmpIPredicate::ugt, a, c.i32(0x7f800000));
    Value tooLarge = c.cmp(arith::CmpIPredicate::uge, a, c.i32(0x477ff000));
    Value big = c.select(isNaN, c.i32(0x7e00), c.i32(0x7c00));
    Value bits = c.bor(c.select(tooLarge, big, finite), sign);
    Value narrow = arith::TruncIOp::create(
        rewriter, loc, withElement(op.getType(), rewriter.getI16Type()), bits);
    rewriter.replaceOp(op, c.bitcast(narrow, rewriter.getF16Type()));
    return success();
  }
};

struct TLMExpandF16ConversionsPass
    : tlmc::impl::TLMExpandF16ConversionsBase<TLMExpandF16ConversionsPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<ExpandExtF, ExpandTruncF>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
