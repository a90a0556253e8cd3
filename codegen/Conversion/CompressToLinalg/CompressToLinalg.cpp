//===- CompressToLinalg.cpp - quantized linears as linalg.generic ---*- C++ -*-===//
//
// A quantized linear reads the stored integers and dequantizes each one in
// the reduction's body: the float matrix never exists, and the loop streams
// 1 (int8) or 0.5 (int4) bytes per weight instead of 4. Scales (and zero
// points) are indexed by (row, k floordiv group_size), which covers a
// shorter last group for free.
//
//===----------------------------------------------------------------------===//

#include "codegen/Conversion/Patterns.h"
#include "codegen/Passes.h"
#include "dialects/compress/IR/CompressDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Utils/StructuredOpsUtils.h"

using namespace mlir;
using namespace tlmc;

namespace {

struct LowerQuantizedLinear : OpRewritePattern<compress::QuantizedLinearOp> {
  LowerQuantizedLinear(MLIRContext *ctx, const WeightLayout &layout)
      : OpRewritePattern(ctx), layout(layout) {}

  LogicalResult matchAndRewrite(compress::QuantizedLinearOp op,
                                PatternRewriter &b) const override {
    auto weight =
        SymbolTable::lookupNearestSymbolFrom<compress::QuantizedWeightOp>(
            op, op.getWeightAttr());
    auto fn = op->getParentOfType<func::FuncOp>();
    if (!weight || !fn)
      return failure();
    StringRef name = weight.getSymName();
    const WeightSlot *values = layout.lookup(getValuesSlot(name));
    const WeightSlot *scales = layout.lookup(getScalesSlot(name));
    const WeightSlot *zeros = layout.lookup(getZeroPointsSlot(name));
    if (!values || !scales)
      return failure();
    Location loc = op.getLoc();
    Value weights = fn.getArgument(0);
    bool int4 = weight.getBits() == 4;
    bool asymmetric = !weight.getSymmetric();
    int64_t group = weight.getGroupSize();

    MLIRContext *ctx = op.getContext();
    AffineExpr t = b.getAffineDimExpr(0), n = b.getAffineDimExpr(1),
               k = b.getAffineDimExpr(2);
    auto map = [&](ArrayRef<AffineExpr> e) { return AffineMap::get(3, 0, e, ctx); };
    SmallVector<Value> inputs{op.getInput(),
                              loadWeightSlot(b, loc, weights, *values),
                              loadWeightSlot(b, loc, weights, *scales)};
    SmallVector<AffineMap> maps{map({t, k}),
                                map({n, int4 ? k.floorDiv(2) : k}),
                                map({n, k.floorDiv(group)})};
    if (asymmetric) {
      inputs.push_back(loadWeightSlot(b, loc, weights, *zeros));
      maps.push_back(map({n, k.floorDiv(group)}));
    }
    maps.push_back(map({t, n}));

    auto resultType = op.getType();
    Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0));
    Value init = linalg::FillOp::create(
                     b, loc, ValueRange{zero},
                     ValueRange{tensor::EmptyOp::create(
                         b, loc, resultType.getShape(), b.getF32Type())})
                     .getResult(0);
    auto generic = linalg::GenericOp::create(
        b, loc, TypeRange{resultType}, inputs, ValueRange{init}, maps,
        ArrayRef<utils::IteratorType>{utils::IteratorType::parallel,
                                      utils::IteratorType::parallel,
                                      utils::IteratorType::reduction},
        [&](OpBuilder &nb, Location nl, ValueRange args) {
          Type i32 = nb.getI32Type(), f32 = nb.getF32Type();
          Value q;
          if (!int4) {
            q = arith::ExtSIOp::create(nb, nl, i32, args[1]);
          } else {
            // Element 2j is the low nibble of byte j, 2j+1 the high one.
            Value byte = arith::ExtUIOp::create(nb, nl, i32, args[1]);
            Value kk = linalg::IndexOp::create(nb, nl, 2);
            Value odd = arith::RemUIOp::create(
                nb, nl, kk, arith::ConstantIndexOp::create(nb, nl, 2));
            Value shift = arith::MulIOp::create(
                nb, nl, arith::IndexCastOp::create(nb, nl, i32, odd),
                arith::ConstantIntOp::create(nb, nl, i32, 4));
            Value nibble = arith::AndIOp::create(
                nb, nl, arith::ShRUIOp::create(nb, nl, byte, shift),
                arith::ConstantIntOp::create(nb, nl, i32, 15));
            Value bias = asymmetric
                             ? arith::ExtUIOp::create(nb, nl, i32, args[3])
                                   .getResult()
                             : arith::ConstantIntOp::create(nb, nl, i32, 8)
                                   .getResult();
            q = arith::SubIOp::create(nb, nl, nibble, bias);
          }
          Value w = arith::MulFOp::create(
              nb, nl, arith::SIToFPOp::create(nb, nl, f32, q), args[2]);
          Value product = arith::MulFOp::create(nb, nl, args[0], w);
          Value acc = args.back();
          linalg::YieldOp::create(nb, nl,
                                  arith::AddFOp::create(nb, nl, acc, product)
                                      .getResult());
        });
    generic->setAttr(kParallelRowsAttr, b.getUnitAttr());
    b.replaceOp(op, generic.getResult(0));
    return success();
  }

  const WeightLayout &layout;
};

} // namespace

void tlmc::populateCompressToLinalgPatterns(RewritePatternSet &patterns,
                                            const WeightLayout &layout) {
  patterns.add<LowerQuantizedLinear>(patterns.getContext(), layout);
}
