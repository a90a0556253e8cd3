//===- TLMToLinalg.cpp - lower the tlm graph to upstream dialects ---*- C++ -*-===//
//
// Each tlm op becomes linalg.generic ops on tensors (attention: scf loops on
// buffers), computing exactly what the reference implementation computes, in
// the same order where rounding could tell (RMSNorm's 1/sqrt, softmax before
// the weighted sum, RoPE's powf/cosf/sinf in f32), so that a compiled model
// matches llama2.c's logits to ~1e-6.
//
//===----------------------------------------------------------------------===//

#include "codegen/Conversion/Patterns.h"
#include "codegen/Passes.h"
#include "dialects/compress/IR/CompressDialect.h"
#include "codegen/Target/WeightLayout.h"
#include "dialects/tlm/IR/TLMOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Utils/StructuredOpsUtils.h"
#include "mlir/IR/AffineMap.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace tlmc {
#define GEN_PASS_DEF_CONVERTTLMTOLINALG
#include "codegen/Passes.h.inc"
} // namespace tlmc

using namespace mlir;
using namespace tlmc;

namespace {

using utils::IteratorType;

/// Shorthands for building the generated arithmetic.
struct Emitter {
  OpBuilder &b;
  Location loc;

  Value f32(double v) {
    return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(v));
  }
  Value index(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value add(Value x, Value y) { return arith::AddFOp::create(b, loc, x, y); }
  Value sub(Value x, Value y) { return arith::SubFOp::create(b, loc, x, y); }
  Value mul(Value x, Value y) { return arith::MulFOp::create(b, loc, x, y); }
  Value div(Value x, Value y) { return arith::DivFOp::create(b, loc, x, y); }
  /// Extends an f16/bf16 weight element to f32.
  Value toF32(Value v) {
    if (v.getType().isF32())
      return v;
    return arith::ExtFOp::create(b, loc, b.getF32Type(), v);
  }
  Value emptyF32(ArrayRef<int64_t> shape) {
    return tensor::EmptyOp::create(b, loc, shape, b.getF32Type());
  }
  Value zeros(ArrayRef<int64_t> shape) {
    return linalg::FillOp::create(b, loc, ValueRange{f32(0.0)},
                                  ValueRange{emptyF32(shape)})
        .getResult(0);
  }
  /// An elementwise generic over a 2-D result shaped like `shape`.
  Value elementwise(ArrayRef<int64_t> shape, ValueRange inputs,
                    function_ref<Value(ValueRange)> body) {
    SmallVector<AffineMap> maps(inputs.size() + 1,
                                b.getMultiDimIdentityMap(2));
    SmallVector<IteratorType> iterators(2, IteratorType::parallel);
    return linalg::GenericOp::create(
               b, loc, TypeRange{RankedTensorType::get(shape, b.getF32Type())},
               inputs, ValueRange{emptyF32(shape)}, maps, iterators,
               [&](OpBuilder &nb, Location nl, ValueRange args) {
                 Value out = body(args.drop_back());
                 linalg::YieldOp::create(nb, nl, out);
               })
        .getResult(0);
  }
};

Value sigmoidTimes(Emitter &e, Value x) {
  // x * (1 / (1 + exp(-x))), as llama2.c computes SiLU.
  Value neg = arith::NegFOp::create(e.b, e.loc, x);
  Value exp = math::ExpOp::create(e.b, e.loc, neg);
  Value sig = e.div(e.f32(1.0), e.add(e.f32(1.0), exp));
  return e.mul(x, sig);
}

//===----------------------------------------------------------------------===//
// Patterns
//===----------------------------------------------------------------------===//

struct LowerEmbedding : OpRewritePattern<tlm::EmbeddingOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(tlm::EmbeddingOp op,
                                PatternRewriter &rewriter) const override {
    Emitter e{rewriter, op.getLoc()};
    auto shape = op.getType().getShape();
    Value table = op.getTable();
    AffineMap tokenMap =
        AffineMap::get(2, 0, {rewriter.getAffineDimExpr(0)}, op.getContext());
    Value result =
        linalg::GenericOp::create(
            rewriter, op.getLoc(), TypeRange{op.getType()},
            ValueRange{op.getTokens()}, ValueRange{e.emptyF32(shape)},
            ArrayRef<AffineMap>{tokenMap, rewriter.getMultiDimIdentityMap(2)},
            ArrayRef<IteratorType>{IteratorType::parallel,
                                   IteratorType::parallel},
            [&](OpBuilder &b, Location loc, ValueRange args) {
              Value row = arith::IndexCastOp::create(b, loc, b.getIndexType(),
                                                     args[0]);
              Value col = linalg::IndexOp::create(b, loc, 1);
              Value v =
                  tensor::ExtractOp::create(b, loc, table, ValueRange{row, col});
              Emitter inner{b, loc};
              linalg::YieldOp::create(b, loc, inner.toF32(v));
            })
            .getResult(0);
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct LowerRMSNorm : OpRewritePattern<tlm::RMSNormOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(tlm::RMSNormOp op,
                                PatternRewriter &rewriter) const override {
    Emitter e{rewriter, op.getLoc()};
    auto shape = op.getType().getShape();
    int64_t rows = shape[0], width = shape[1];
    MLIRContext *ctx = op.getContext();
    AffineMap id = rewriter.getMultiDimIdentityMap(2);
    AffineMap rowMap = AffineMap::get(2, 0, {rewriter.getAffineDimExpr(0)}, ctx);
    AffineMap colMap = AffineMap::get(2, 0, {rewriter.getAffineDimExpr(1)}, ctx);

    // ss[t] = sum_j x[t][j]^2
    Value sums =
        linalg::FillOp::create(
            rewriter, op.getLoc(), ValueRange{e.f32(0.0)},
            ValueRange{tensor::EmptyOp::create(rewriter, op.getLoc(),
                                               ArrayRef<int64_t>{rows},
                                               rewriter.getF32Type())})
            .getResult(0);
    sums = linalg::GenericOp::create(
               rewriter, op.getLoc(), TypeRange{sums.getType()},
               ValueRange{op.getInput()}, ValueRange{sums},
               ArrayRef<AffineMap>{id, rowMap},
               ArrayRef<IteratorType>{IteratorType::parallel,
                                      IteratorType::reduction},
               [&](OpBuilder &b, Location loc, ValueRange args) {
                 Emitter in{b, loc};
                 linalg::YieldOp::create(
                     b, loc, in.add(args[1], in.mul(args[0], args[0])));
               })
               .getResult(0);
    // out = w[j] * (x * (1 / sqrt(ss / n + eps)))
    float eps = op.getEps().convertToFloat();
    Value result =
        linalg::GenericOp::create(
            rewriter, op.getLoc(), TypeRange{op.getType()},
            ValueRange{op.getInput(), sums, op.getWeight()},
            ValueRange{e.emptyF32(shape)},
            ArrayRef<AffineMap>{id, rowMap, colMap, id},
            ArrayRef<IteratorType>{IteratorType::parallel,
                                   IteratorType::parallel},
            [&](OpBuilder &b, Location loc, ValueRange args) {
              Emitter in{b, loc};
              Value mean = in.div(args[1], in.f32(double(width)));
              Value root =
                  math::SqrtOp::create(b, loc, in.add(mean, in.f32(eps)));
              Value scale = in.div(in.f32(1.0), root);
              linalg::YieldOp::create(
                  b, loc, in.mul(in.toF32(args[2]), in.mul(scale, args[0])));
            })
            .getResult(0);
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct LowerLinear : OpRewritePattern<tlm::LinearOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(tlm::LinearOp op,
                                PatternRewriter &rewriter) const override {
    Emitter e{rewriter, op.getLoc()};
    MLIRContext *ctx = op.getContext();
    AffineExpr t = rewriter.getAffineDimExpr(0), n = rewriter.getAffineDimExpr(1),
               k = rewriter.getAffineDimExpr(2);
    auto map = [&](ArrayRef<AffineExpr> exprs) {
      return AffineMap::get(3, 0, exprs, ctx);
    };
    linalg::GenericOp result =
        linalg::GenericOp::create(
            rewriter, op.getLoc(), TypeRange{op.getType()},
            ValueRange{op.getInput(), op.getWeight()},
            ValueRange{e.zeros(op.getType().getShape())},
            ArrayRef<AffineMap>{map({t, k}), map({n, k}), map({t, n})},
            ArrayRef<IteratorType>{IteratorType::parallel,
                                   IteratorType::parallel,
                                   IteratorType::reduction},
            [&](OpBuilder &b, Location loc, ValueRange args) {
              Emitter in{b, loc};
              Value product = arith::MulFOp::create(
                  b, loc, args[0], in.toF32(args[1]), kProductFastMath);
              linalg::YieldOp::create(
                  b, loc,
                  arith::AddFOp::create(b, loc, args[2], product,
                                        kProductFastMath)
                      .getResult());
            });
    // Output features are independent: tlm-parallelize-rows may split them
    // across threads.
    result->setAttr(kParallelRowsAttr, rewriter.getUnitAttr());
    rewriter.replaceOp(op, result->getResult(0));
    return success();
  }
};

struct LowerRoPE : OpRewritePattern<tlm::RoPEOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(tlm::RoPEOp op,
                                PatternRewriter &rewriter) const override {
    Emitter e{rewriter, op.getLoc()};
    auto shape = op.getType().getShape();
    int64_t headDim = op.getHeadDim();
    float theta = op.getTheta().convertToFloat();
    bool adjacent = op.getStyle() == tlm::RopeStyle::Adjacent;
    Value input = op.getInput(), pos = op.getPos();
    Value result = e.elementwise(shape, ValueRange{input}, [&](ValueRange args) {
      OpBuilder &b = rewriter;
      Location loc = op.getLoc();
      Value row = linalg::IndexOp::create(b, loc, 0);
      Value col = linalg::IndexOp::create(b, loc, 1);
      Value hd = e.index(headDim);
      Value i = arith::RemUIOp::create(b, loc, col, hd);
      // The pair this element belongs to, its partner, and which half it is.
      Value pair, partner, isFirst;
      if (adjacent) {
        Value two = e.index(2);
        pair = arith::DivUIOp::create(b, loc, i, two);
        Value odd = arith::RemUIOp::create(b, loc, i, two);
        isFirst = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, odd,
                                        e.index(0));
        partner = arith::SelectOp::create(
            b, loc, isFirst, arith::AddIOp::create(b, loc, col, e.index(1)),
            arith::SubIOp::create(b, loc, col, e.index(1)));
      } else {
        Value half = e.index(headDim / 2);
        isFirst = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, i,
                                        half);
        pair = arith::SelectOp::create(b, loc, isFirst, i,
                                       arith::SubIOp::create(b, loc, i, half));
        partner = arith::SelectOp::create(
            b, loc, isFirst, arith::AddIOp::create(b, loc, col, half),
            arith::SubIOp::create(b, loc, col, half));
      }
      // freq = 1 / theta^(2*pair / head_dim); angle = (pos + row) * freq.
      auto toF32 = [&](Value index) {
        Value i64 = arith::IndexCastOp::create(b, loc, b.getI64Type(), index);
        return arith::SIToFPOp::create(b, loc, b.getF32Type(), i64);
      };
      Value twoPair = arith::MulIOp::create(b, loc, pair, e.index(2));
      Value exponent = e.div(toF32(twoPair), e.f32(double(headDim)));
      Value freq =
          e.div(e.f32(1.0), math::PowFOp::create(b, loc, e.f32(theta), exponent));
      Value angle =
          e.mul(toF32(arith::AddIOp::create(b, loc, pos, row)), freq);
      Value c = math::CosOp::create(b, loc, angle);
      Value s = math::SinOp::create(b, loc, angle);
      Value other =
          tensor::ExtractOp::create(b, loc, input, ValueRange{row, partner});
      // first:  x*c - other*s      second: other*s + x*c  (other = first)
      Value x = args[0];
      Value first = e.sub(e.mul(x, c), e.mul(other, s));
      Value second = e.add(e.mul(other, s), e.mul(x, c));
      return arith::SelectOp::create(b, loc, isFirst, first, second)
          .getResult();
    });
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct LowerSiLU : OpRewritePattern<tlm::SiLUOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(tlm::SiLUOp op,
                                PatternRewriter &rewriter) const override {
    Emitter e{rewriter, op.getLoc()};
    rewriter.replaceOp(op, e.elementwise(op.getType().getShape(),
                                         ValueRange{op.getInput()},
                                         [&](ValueRange a) {
                                           return sigmoidTimes(e, a[0]);
                                         }));
    return success();
  }
};

struct LowerSwiGLU : OpRewritePattern<tlm::SwiGLUOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(tlm::SwiGLUOp op,
                                PatternRewriter &rewriter) const override {
    Emitter e{rewriter, op.getLoc()};
    rewriter.replaceOp(op, e.elementwise(
                               op.getType().getShape(),
                               ValueRange{op.getGate(), op.getUp()},
                               [&](ValueRange a) {
                                 return e.mul(sigmoidTimes(e, a[0]), a[1]);
                               }));
    return success();
  }
};

struct LowerAdd : OpRewritePattern<tlm::AddOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(tlm::AddOp op,
                                PatternRewriter &rewriter) const override {
    Emitter e{rewriter, op.getLoc()};
    rewriter.replaceOp(op, e.elementwise(op.getType().getShape(),
                                         ValueRange{op.getLhs(), op.getRhs()},
                                         [&](ValueRange a) {
                                           return e.add(a[0], a[1]);
                                         }));
    return success();
  }
};

/// Attention on buffers: append k/v to the caches, then for each new token
/// and head, softmax over the cached prefix and a weighted sum of values.
struct LowerAttention : OpRewritePattern<tlm::AttentionOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(tlm::AttentionOp op,
                                PatternRewriter &b) const override {
    Location loc = op.getLoc();
    Emitter e{b, loc};
    auto qType = op.getQuery().getType();
    int64_t rows = qType.getDimSize(0), width = qType.getDimSize(1);
    int64_t heads = op.getHeads(), headDim = op.getHeadDim();
    int64_t group = heads / op.getKvHeads();
    int64_t kvWidth = op.getKey().getType().getDimSize(1);
    auto cacheType = op.getKeyCache().getType();
    int64_t capacity = cacheType.getDimSize(1);
    auto bufferOf = [&](Value tensor) {
      auto t = cast<RankedTensorType>(tensor.getType());
      return bufferization::ToBufferOp::create(
          b, loc, MemRefType::get(t.getShape(), t.getElementType()), tensor,
          /*read_only=*/true);
    };
    Value q = bufferOf(op.getQuery()), k = bufferOf(op.getKey()),
          v = bufferOf(op.getValue());
    Value kc = op.getKeyCache(), vc = op.getValueCache();
    Value out = memref::AllocOp::create(
        b, loc, MemRefType::get({rows, width}, b.getF32Type()));
    Value scores = memref::AllocOp::create(
        b, loc, MemRefType::get({capacity}, b.getF32Type()));
    Value c0 = e.index(0), c1 = e.index(1);
    Value layer = e.index(op.getLayer());
    Value pos = op.getPos();

    // Append this call's keys and values at positions pos + t.
    scf::ForOp::create(
        b, loc, c0, e.index(rows), c1, ValueRange{},
        [&](OpBuilder &b, Location loc, Value t, ValueRange) {
          Value p = arith::AddIOp::create(b, loc, pos, t);
          scf::ForOp::create(
              b, loc, c0, e.index(kvWidth), c1, ValueRange{},
              [&](OpBuilder &b, Location loc, Value j, ValueRange) {
                Value kv = memref::LoadOp::create(b, loc, k, ValueRange{t, j});
                memref::StoreOp::create(b, loc, kv, kc,
                                        ValueRange{layer, p, j});
                Value vv = memref::LoadOp::create(b, loc, v, ValueRange{t, j});
                memref::StoreOp::create(b, loc, vv, vc,
                                        ValueRange{layer, p, j});
                scf::YieldOp::create(b, loc);
              });
          scf::YieldOp::create(b, loc);
        });

    float invSqrt = 1.0f / std::sqrt(float(headDim));
    scf::ForOp::create(
        b, loc, c0, e.index(rows), c1, ValueRange{},
        [&](OpBuilder &b, Location loc, Value t, ValueRange) {
          Emitter in{b, loc};
          Value last = arith::AddIOp::create(b, loc, pos, t);
          Value count = arith::AddIOp::create(b, loc, last, c1);
          scf::ForOp::create(
              b, loc, c0, in.index(heads), c1, ValueRange{},
              [&](OpBuilder &b, Location loc, Value h, ValueRange) {
                Emitter in{b, loc};
                Value qBase = arith::MulIOp::create(b, loc, h, in.index(headDim));
                Value kvHead =
                    arith::DivUIOp::create(b, loc, h, in.index(group));
                Value kvBase =
                    arith::MulIOp::create(b, loc, kvHead, in.index(headDim));
                // scores[s] = q . k_s / sqrt(head_dim).
                scf::ForOp::create(
                    b, loc, c0, count, c1, ValueRange{},
                    [&](OpBuilder &b, Location loc, Value s, ValueRange) {
                      Emitter in{b, loc};
                      auto dot = scf::ForOp::create(
                          b, loc, c0, in.index(headDim), c1,
                          ValueRange{in.f32(0.0)},
                          [&](OpBuilder &b, Location loc, Value i,
                              ValueRange acc) {
                            Emitter in{b, loc};
                            Value qi = memref::LoadOp::create(
                                b, loc, q,
                                ValueRange{t, arith::AddIOp::create(b, loc,
                                                                    qBase, i)});
                            Value ki = memref::LoadOp::create(
                                b, loc, kc,
                                ValueRange{layer, s,
                                           arith::AddIOp::create(b, loc, kvBase,
                                                                 i)});
                            scf::YieldOp::create(
                                b, loc, in.add(acc[0], in.mul(qi, ki)));
                          });
                      Value score = in.mul(dot.getResult(0), in.f32(invSqrt));
                      memref::StoreOp::create(b, loc, score, scores,
                                              ValueRange{s});
                      scf::YieldOp::create(b, loc);
                    });
                // Their maximum, in a loop of its own: a maximum is exact in
                // any order, so this one vectorizes (llama2.c's serial
                // `if (x > max)` chain is what the scores loop was bound by).
                auto maxLoop = scf::ForOp::create(
                    b, loc, c0, count, c1,
                    ValueRange{in.f32(-std::numeric_limits<float>::infinity())},
                    [&](OpBuilder &b, Location loc, Value s, ValueRange iter) {
                      Value x =
                          memref::LoadOp::create(b, loc, scores, ValueRange{s});
                      scf::YieldOp::create(
                          b, loc,
                          arith::MaxNumFOp::create(
                              b, loc, iter[0], x,
                              arith::FastMathFlags::nnan |
                                  arith::FastMathFlags::nsz)
                              .getResult());
                    });
                Value maxScore = maxLoop.getResult(0);
                // scores[s] = exp(scores[s] - max); sum them.
                auto sumLoop = scf::ForOp::create(
                    b, loc, c0, count, c1, ValueRange{in.f32(0.0)},
                    [&](OpBuilder &b, Location loc, Value s, ValueRange acc) {
                      Emitter in{b, loc};
                      Value x =
                          memref::LoadOp::create(b, loc, scores, ValueRange{s});
                      Value ex = math::ExpOp::create(b, loc, in.sub(x, maxScore));
                      memref::StoreOp::create(b, loc, ex, scores, ValueRange{s});
                      scf::YieldOp::create(b, loc, in.add(acc[0], ex));
                    });
                Value sum = sumLoop.getResult(0);
                // scores[s] /= sum, once per position (as llama2.c does).
                scf::ForOp::create(
                    b, loc, c0, count, c1, ValueRange{},
                    [&](OpBuilder &b, Location loc, Value s, ValueRange) {
                      Emitter in{b, loc};
                      Value x =
                          memref::LoadOp::create(b, loc, scores, ValueRange{s});
                      memref::StoreOp::create(b, loc, in.div(x, sum), scores,
                                              ValueRange{s});
                      scf::YieldOp::create(b, loc);
                    });
                // out[t][h*hd + i] = sum_s scores[s] * v_s[i], positions in
                // order (the reference's rounding) and the head's hd
                // outputs side by side, so the inner loop is contiguous.
                scf::ForOp::create(
                    b, loc, c0, in.index(headDim), c1, ValueRange{},
                    [&](OpBuilder &b, Location loc, Value i, ValueRange) {
                      memref::StoreOp::create(
                          b, loc, Emitter{b, loc}.f32(0.0), out,
                          ValueRange{t, arith::AddIOp::create(b, loc, qBase, i)});
                      scf::YieldOp::create(b, loc);
                    });
                scf::ForOp::create(
                    b, loc, c0, count, c1, ValueRange{},
                    [&](OpBuilder &b, Location loc, Value s, ValueRange) {
                      Value a =
                          memref::LoadOp::create(b, loc, scores, ValueRange{s});
                      scf::ForOp::create(
                          b, loc, c0, in.index(headDim), c1, ValueRange{},
                          [&](OpBuilder &b, Location loc, Value i, ValueRange) {
                            Emitter in{b, loc};
                            Value col = arith::AddIOp::create(b, loc, qBase, i);
                            Value vs = memref::LoadOp::create(
                                b, loc, vc,
                                ValueRange{layer, s,
                                           arith::AddIOp::create(b, loc, kvBase,
                                                                 i)});
                            Value o = memref::LoadOp::create(
                                b, loc, out, ValueRange{t, col});
                            memref::StoreOp::create(b, loc,
                                                    in.add(o, in.mul(a, vs)),
                                                    out, ValueRange{t, col});
                            scf::YieldOp::create(b, loc);
                          });
                      scf::YieldOp::create(b, loc);
                    });
                scf::YieldOp::create(b, loc);
              });
          scf::YieldOp::create(b, loc);
        });
    Value result = bufferization::ToTensorOp::create(
        b, loc, op.getType(), out, /*restrict=*/true, /*writable=*/true);
    b.replaceOp(op, result);
    return success();
  }
};

} // namespace

Value tlmc::viewWeightSlot(OpBuilder &b, Location loc, Value weights,
                           const WeightSlot &slot) {
  Value offset = arith::ConstantIndexOp::create(b, loc, slot.offset);
  auto viewType = MemRefType::get(slot.storedType.getShape(),
                                  slot.storedType.getElementType());
  return memref::ViewOp::create(b, loc, viewType, weights, offset,
                                ValueRange{});
}

Value tlmc::loadWeightSlot(OpBuilder &b, Location loc, Value weights,
                           const WeightSlot &slot) {
  Value view = viewWeightSlot(b, loc, weights, slot);
  return bufferization::ToTensorOp::create(b, loc, slot.storedType, view,
                                           /*restrict=*/true,
                                           /*writable=*/false);
}

namespace {

//===----------------------------------------------------------------------===//
// The pass
//===----------------------------------------------------------------------===//

struct ConvertTLMToLinalgPass
    : tlmc::impl::ConvertTLMToLinalgBase<ConvertTLMToLinalgPass> {
  using Base::Base;
  void runOnOperation() override {
    ModuleOp module = getOperation();
    WeightLayoutOptions layoutOptions;
    layoutOptions.sparseBlocks = sparseBlocks;
    WeightLayout layout = computeWeightLayout(module, layoutOptions);
    weightBytes = layout.totalBytes;
    auto weightsType = MemRefType::get(
        {std::max<int64_t>(layout.totalBytes, 1)}, IntegerType::get(&getContext(), 8));

    // weight_ref -> a view of the new leading %weights argument.
    for (auto fn : module.getOps<func::FuncOp>()) {
      if (fn.isExternal())
        continue;
      bool usesWeights = false;
      fn.walk([&](Operation *op) {
        usesWeights |= isa<tlm::WeightRefOp, compress::QuantizedLinearOp,
                           compress::SparseLinearOp>(op);
      });
      if (!usesWeights)
        continue;
      if (failed(fn.insertArgument(0, weightsType, {}, fn.getLoc())))
        return signalPassFailure();
      Value weights = fn.getArgument(0);
      WalkResult walk = fn.walk([&](tlm::WeightRefOp ref) {
        const WeightSlot *slot = layout.lookup(ref.getName());
        if (!slot) {
          ref.emitOpError("refers to a weight the layout does not hold");
          return WalkResult::interrupt();
        }
        OpBuilder b(ref);
        ref.replaceAllUsesWith(loadWeightSlot(b, ref.getLoc(), weights, *slot));
        ref.erase();
        ++numLoweredOps;
        return WalkResult::advance();
      });
      if (walk.wasInterrupted())
        return signalPassFailure();
    }

    RewritePatternSet patterns(&getContext());
    patterns.add<LowerEmbedding, LowerRMSNorm, LowerLinear, LowerRoPE,
                 LowerSiLU, LowerSwiGLU, LowerAdd, LowerAttention>(
        &getContext());
    populateCompressToLinalgPatterns(patterns, layout);
    int64_t before = 0;
    auto isLowered = [](Operation *op) {
      return isa<tlm::TLMDialect, compress::CompressDialect>(op->getDialect()) &&
             !isa<tlm::WeightOp, compress::QuantizedWeightOp,
                  compress::SparseWeightOp>(op);
    };
    module.walk([&](Operation *op) { before += isLowered(op); });
    GreedyRewriteConfig config;
    config.setRegionSimplificationLevel(GreedySimplifyRegionLevel::Disabled);
    if (failed(applyPatternsGreedily(module, std::move(patterns), config)))
      return signalPassFailure();
    bool leftOver = false;
    module.walk([&](Operation *op) {
      if (isLowered(op)) {
        op->emitOpError("could not be lowered");
        leftOver = true;
      }
    });
    if (leftOver)
      return signalPassFailure();
    numLoweredOps += before;
    for (Operation &op :
         llvm::make_early_inc_range(module.getBody()->getOperations()))
      if (isa<tlm::WeightOp, compress::QuantizedWeightOp,
              compress::SparseWeightOp>(op))
        op.erase();
    module->removeAttr(tlm::TLMDialect::getConfigAttrName());
  }
};

} // namespace
