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
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/StructuredOpsUtils.h"

using namespace mlir;
using namespace tlmc;

namespace {

/// A compressed linear's lowering: it needs the weight it names and the
/// weights buffer of its entry point, which the pass made argument 0.
template <typename LinearOpT, typename WeightOpT>
struct LowerCompressedLinear : OpRewritePattern<LinearOpT> {
  LowerCompressedLinear(MLIRContext *ctx, const WeightLayout &layout)
      : OpRewritePattern<LinearOpT>(ctx), layout(layout) {}

  LogicalResult matchAndRewrite(LinearOpT op,
                                PatternRewriter &b) const override {
    auto weight = SymbolTable::lookupNearestSymbolFrom<WeightOpT>(
        op, op.getWeightAttr());
    auto fn = op->template getParentOfType<func::FuncOp>();
    if (!weight || !fn)
      return failure();
    return lower(op, weight, fn.getArgument(0), b);
  }

  virtual LogicalResult lower(LinearOpT op, WeightOpT weight, Value weights,
                              PatternRewriter &b) const = 0;

  const WeightLayout &layout;
};

struct LowerQuantizedLinear
    : LowerCompressedLinear<compress::QuantizedLinearOp,
                            compress::QuantizedWeightOp> {
  using LowerCompressedLinear::LowerCompressedLinear;

  LogicalResult lower(compress::QuantizedLinearOp op,
                      compress::QuantizedWeightOp weight, Value weights,
                      PatternRewriter &b) const override {
    StringRef name = weight.getSymName();
    const WeightSlot *scales = layout.lookup(getScalesSlot(name));
    const WeightSlot *zeros = layout.lookup(getZeroPointsSlot(name));
    Location loc = op.getLoc();
    if (weight.getGgmlBlocks()) {
      bool panels;
      const WeightSlot *blocks = layout.lookupGGMLBlocks(name, panels);
      if (!blocks)
        return b.notifyMatchFailure(op, "the layout lacks the weight's blocks");
      b.replaceOp(op, buildGGMLBlockProduct(b, loc, op.getInput(), weights,
                                            weight, *blocks, op.getType(),
                                            panels));
      return success();
    }
    bool int4 = weight.getBits() == 4;
    bool asymmetric = !weight.getSymmetric();
    int64_t group = weight.getGroupSize();
    // int8, and int4 the layout split (SplitNibbles.h): each group summed
    // in integers times inputs, then scaled once.
    const WeightSlot *split = layout.lookup(getSplitValuesSlot(name));
    if (scales && (split || !int4)) {
      const WeightSlot *values =
          split ? split : layout.lookup(getValuesSlot(name));
      if (!values)
        return failure();
      b.replaceOp(op, buildGroupedQuantizedProduct(
                          b, loc, op.getInput(), weights, weight, *values,
                          *scales, asymmetric ? zeros : nullptr, op.getType()));
      return success();
    }
    // Packed int4 of an odd width, in feature order: dequantize each value
    // in the reduction.
    const WeightSlot *values = layout.lookup(getValuesSlot(name));
    if (!values || !scales)
      return failure();
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
          Value scale = args[2];
          if (scale.getType().isF16())
            scale = arith::ExtFOp::create(nb, nl, f32, scale);
          Value w =
              arith::MulFOp::create(nb, nl, arith::SIToFPOp::create(nb, nl, f32, q),
                                    scale, kProductFastMath);
          Value product =
              arith::MulFOp::create(nb, nl, args[0], w, kProductFastMath);
          Value acc = args.back();
          linalg::YieldOp::create(
              nb, nl,
              arith::AddFOp::create(nb, nl, acc, product, kProductFastMath)
                  .getResult());
        });
    generic->setAttr(kParallelRowsAttr, b.getUnitAttr());
    b.replaceOp(op, generic.getResult(0));
    return success();
  }
};

/// A quantized table's rows, looked up by token: a linalg.generic over
/// (token, feature) that reads the row's integer (int8; int4 in split
/// nibbles or packed in feature order) and its group's scale.
struct LowerQuantizedEmbedding
    : OpRewritePattern<compress::QuantizedEmbeddingOp> {
  LowerQuantizedEmbedding(MLIRContext *ctx, const WeightLayout &layout)
      : OpRewritePattern(ctx), layout(layout) {}

  LogicalResult matchAndRewrite(compress::QuantizedEmbeddingOp op,
                                PatternRewriter &b) const override {
    auto weight = SymbolTable::lookupNearestSymbolFrom<
        compress::QuantizedWeightOp>(op, op.getWeightAttr());
    auto fn = op->getParentOfType<func::FuncOp>();
    if (!weight || !fn)
      return b.notifyMatchFailure(op, "no quantized weight or function");
    StringRef name = weight.getSymName();
    if (weight.getGgmlBlocks()) {
      bool panels;
      const WeightSlot *blocks = layout.lookupGGMLBlocks(name, panels);
      if (!blocks)
        return b.notifyMatchFailure(op, "the layout lacks the weight's blocks");
      b.replaceOp(op, buildGGMLBlockLookup(b, op.getLoc(), op.getTokens(),
                                           fn.getArgument(0), weight, *blocks,
                                           op.getType(), panels));
      return success();
    }
    const WeightSlot *split = layout.lookup(getSplitValuesSlot(name));
    const WeightSlot *values =
        split ? split : layout.lookup(getValuesSlot(name));
    const WeightSlot *scales = layout.lookup(getScalesSlot(name));
    const WeightSlot *zeros = layout.lookup(getZeroPointsSlot(name));
    if (!values || !scales || (!weight.getSymmetric() && !zeros))
      return b.notifyMatchFailure(op, "the layout lacks the weight's slots");
    Location loc = op.getLoc();
    Value weightsBuffer = fn.getArgument(0);
    Value valuesT = loadWeightSlot(b, loc, weightsBuffer, *values);
    Value scalesT = loadWeightSlot(b, loc, weightsBuffer, *scales);
    Value zerosT = zeros && !weight.getSymmetric()
                       ? loadWeightSlot(b, loc, weightsBuffer, *zeros)
                       : Value();
    bool int4 = weight.getBits() == 4;
    int64_t group = weight.getGroupSize();
    Value lookup = buildRowLookup(
        b, loc, op.getTokens(), op.getType(),
        [&](OpBuilder &nb, Location nl, Value row, Value col) -> Value {
          Type i32 = nb.getI32Type(), f32 = nb.getF32Type();
          auto index = [&](int64_t v) {
            return arith::ConstantIndexOp::create(nb, nl, v).getResult();
          };
          auto i32c = [&](int64_t v) {
            return arith::ConstantIntOp::create(nb, nl, i32, v).getResult();
          };
          Value g = arith::DivUIOp::create(nb, nl, col, index(group));
          Value q;
          if (!int4) {
            q = arith::ExtSIOp::create(
                nb, nl, i32,
                tensor::ExtractOp::create(nb, nl, valuesT, ValueRange{row, col}));
          } else {
            // Split nibbles (SplitNibbles.h): feature 32c + j is in byte
            // 16c + j % 16, the low nibble for j < 16. Packed in feature
            // order: feature k is in byte k / 2, low nibble for even k.
            Value byteAt, high;
            if (split) {
              Value chunk = arith::DivUIOp::create(nb, nl, col, index(32));
              Value j = arith::RemUIOp::create(nb, nl, col, index(32));
              byteAt = arith::AddIOp::create(
                  nb, nl, arith::MulIOp::create(nb, nl, chunk, index(16)),
                  arith::RemUIOp::create(nb, nl, j, index(16)));
              high = arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::uge,
                                           j, index(16));
            } else {
              byteAt = arith::DivUIOp::create(nb, nl, col, index(2));
              high = arith::CmpIOp::create(
                  nb, nl, arith::CmpIPredicate::eq,
                  arith::RemUIOp::create(nb, nl, col, index(2)), index(1));
            }
            Value byte = arith::ExtUIOp::create(
                nb, nl, i32,
                tensor::ExtractOp::create(nb, nl, valuesT,
                                          ValueRange{row, byteAt}));
            Value nibble = arith::SelectOp::create(
                nb, nl, high, arith::ShRUIOp::create(nb, nl, byte, i32c(4)),
                arith::AndIOp::create(nb, nl, byte, i32c(15)));
            Value bias =
                zerosT ? arith::ExtUIOp::create(
                             nb, nl, i32,
                             tensor::ExtractOp::create(nb, nl, zerosT,
                                                       ValueRange{row, g}))
                             .getResult()
                       : i32c(8);
            q = arith::SubIOp::create(nb, nl, nibble, bias);
          }
          Value scale =
              tensor::ExtractOp::create(nb, nl, scalesT, ValueRange{row, g});
          if (scale.getType().isF16())
            scale = arith::ExtFOp::create(nb, nl, f32, scale);
          return arith::MulFOp::create(
                     nb, nl, arith::SIToFPOp::create(nb, nl, f32, q), scale)
              .getResult();
        });
    b.replaceOp(op, lookup);
    return success();
  }

  const WeightLayout &layout;
};

/// A sparse linear visits each row's stored values: a linalg.generic over
/// (token, output feature) whose body loops over [row_offsets[n],
/// row_offsets[n + 1]), reading values, columns and the input in place.
struct LowerSparseLinear
    : LowerCompressedLinear<compress::SparseLinearOp,
                            compress::SparseWeightOp> {
  using LowerCompressedLinear::LowerCompressedLinear;

  LogicalResult lower(compress::SparseLinearOp op,
                      compress::SparseWeightOp weight, Value weights,
                      PatternRewriter &b) const override {
    StringRef name = weight.getSymName();
    if (const WeightSlot *blockValues = layout.lookup(getBlockValuesSlot(name))) {
      const WeightSlot *blockIndices = layout.lookup(getBlockIndicesSlot(name));
      if (!blockIndices)
        return failure();
      b.replaceOp(op, buildSparseBlockProduct(
                          b, op.getLoc(), op.getInput(), weights, *blockValues,
                          *blockIndices, op.getType(),
                          weight.getTensorType().getDimSize(1),
                          weight.getNonZeros()));
      return success();
    }
    const WeightSlot *values = layout.lookup(getValuesSlot(name));
    const WeightSlot *columns = layout.lookup(getColumnsSlot(name));
    const WeightSlot *offsets = layout.lookup(getRowOffsetsSlot(name));
    if (!values || !columns || !offsets)
      return failure();
    Location loc = op.getLoc();
    int64_t rows = weight.getTensorType().getDimSize(0);
    // Row starts and ends: the offsets array seen from entry 0 and entry 1.
    auto rowsView = [&](int64_t shift) -> Value {
      auto type = RankedTensorType::get({rows}, b.getI32Type());
      Value at = arith::ConstantIndexOp::create(b, loc, offsets->offset + shift);
      Value view = memref::ViewOp::create(
          b, loc, MemRefType::get({rows}, b.getI32Type()), weights, at,
          ValueRange{});
      return bufferization::ToTensorOp::create(b, loc, type, view, true, false);
    };
    Value starts = rowsView(0), ends = rowsView(4);
    Value vals = loadWeightSlot(b, loc, weights, *values);
    Value cols = loadWeightSlot(b, loc, weights, *columns);
    Value input = op.getInput();
    auto resultType = op.getType();
    MLIRContext *ctx = op.getContext();
    AffineMap rowMap = AffineMap::get(2, 0, {b.getAffineDimExpr(1)}, ctx);
    auto generic = linalg::GenericOp::create(
        b, loc, TypeRange{resultType}, ValueRange{starts, ends},
        ValueRange{tensor::EmptyOp::create(b, loc, resultType.getShape(),
                                           b.getF32Type())},
        ArrayRef<AffineMap>{rowMap, rowMap, b.getMultiDimIdentityMap(2)},
        ArrayRef<utils::IteratorType>{utils::IteratorType::parallel,
                                      utils::IteratorType::parallel},
        [&](OpBuilder &nb, Location nl, ValueRange args) {
          Value t = linalg::IndexOp::create(nb, nl, 0);
          auto toIndex = [&](Value v) {
            return arith::IndexCastOp::create(nb, nl, nb.getIndexType(), v)
                .getResult();
          };
          Value zero =
              arith::ConstantOp::create(nb, nl, nb.getF32FloatAttr(0.0));
          Value one = arith::ConstantIndexOp::create(nb, nl, 1);
          auto loop = scf::ForOp::create(
              nb, nl, toIndex(args[0]), toIndex(args[1]), one,
              ValueRange{zero},
              [&](OpBuilder &lb, Location ll, Value p, ValueRange acc) {
                Value col = tensor::ExtractOp::create(lb, ll, cols, p);
                Value k = arith::IndexCastOp::create(
                    lb, ll, lb.getIndexType(),
                    arith::ExtSIOp::create(lb, ll, lb.getI32Type(), col));
                Value x = tensor::ExtractOp::create(lb, ll, input,
                                                    ValueRange{t, k});
                Value w = tensor::ExtractOp::create(lb, ll, vals, p);
                Value sum = arith::AddFOp::create(
                    lb, ll, acc[0],
                    arith::MulFOp::create(lb, ll, x, w, kProductFastMath),
                    kProductFastMath);
                scf::YieldOp::create(lb, ll, sum);
              });
          linalg::YieldOp::create(nb, nl, loop.getResult(0));
        });
    generic->setAttr(kParallelRowsAttr, b.getUnitAttr());
    generic->setAttr(kParallelWorkAttr,
                     b.getI64IntegerAttr(weight.getNonZeros()));
    b.replaceOp(op, generic.getResult(0));
    return success();
  }
};

} // namespace

void tlmc::populateCompressToLinalgPatterns(RewritePatternSet &patterns,
                                            const WeightLayout &layout) {
  patterns.add<LowerQuantizedLinear, LowerQuantizedEmbedding,
               LowerSparseLinear>(patterns.getContext(), layout);
}
