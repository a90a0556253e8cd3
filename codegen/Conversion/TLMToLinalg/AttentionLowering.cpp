//===- AttentionLowering.cpp - tlm.attention as loops on its caches -*- C++ -*-===//
//
// Causal grouped-query attention as scf loops on buffers: the new keys and
// values are appended to the caches, then each new token's heads take a
// softmax over the cached prefix and a weighted sum of values, in
// llama2.c's steps (scores, maximum, exp and sum, normalize, sum of values).
// A head's query, keys and values are vectors of head_dim: each score one
// vector product and reduction, the weighted sum carried in registers
// across positions in the reference's order.
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
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace tlmc;

namespace {

/// Multiply-adds from which attention's heads are split across threads:
/// below it the work (~10 us at most) is within a few times the cost of a
/// handoff to the pool and back. stories260K's decode (8 heads of 8, ~10K
/// over 128 positions) stays inline, SmolLM2's (9 heads of 64, ~150K) and
/// every prefill chunk split. Measured on stories260K, 2 threads, median
/// of 7: decode 32.2K tok/s with this guard, 31.4K splitting every call.
constexpr int64_t kParallelAttentionWork = 65536;

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
    Value layer = op.getLayerIndex() ? op.getLayerIndex()
                                     : e.index(op.getLayer());
    // An f16 cache (--kv-cache=f16) stores rounded keys and values and
    // widens them as attention reads them; the arithmetic stays f32.
    Type cacheElement = cacheType.getElementType();
    auto toCache = [&](OpBuilder &b, Location loc, Value x) -> Value {
      return cacheElement.isF32()
                 ? x
                 : arith::TruncFOp::create(b, loc, cacheElement, x).getResult();
    };
    Value out = memref::AllocOp::create(
        b, loc, MemRefType::get({rows, width}, b.getF32Type()));
    // One row of scores per head: heads run on different threads
    // (tlm-parallelize-rows outlines the heads loop).
    Value scores = memref::AllocOp::create(
        b, loc, MemRefType::get({heads, capacity}, b.getF32Type()));
    Value c0 = e.index(0), c1 = e.index(1);
    Value pos = op.getPos();

    // Append this call's keys and values at positions pos + t.
    scf::ForOp::create(
        b, loc, c0, e.index(rows), c1, ValueRange{},
        [&](OpBuilder &b, Location loc, Value t, ValueRange) {
          Value p = arith::AddIOp::create(b, loc, pos, t);
          scf::ForOp::create(
              b, loc, c0, e.index(kvWidth), c1, ValueRange{},
              [&](OpBuilder &b, Location loc, Value j, ValueRange) {
                Value kv = toCache(
                    b, loc, memref::LoadOp::create(b, loc, k, ValueRange{t, j}));
                memref::StoreOp::create(b, loc, kv, kc,
                                        ValueRange{layer, p, j});
                Value vv = toCache(
                    b, loc, memref::LoadOp::create(b, loc, v, ValueRange{t, j}));
                memref::StoreOp::create(b, loc, vv, vc,
                                        ValueRange{layer, p, j});
                scf::YieldOp::create(b, loc);
              });
          scf::YieldOp::create(b, loc);
        });

    // Heads outside, tokens inside: each head's outputs for every new token
    // are computed by one thread, in the same order for any thread count.
    float scale = op.getScale() ? op.getScale()->convertToFloat()
                                : 1.0f / std::sqrt(float(headDim));
    std::optional<int64_t> window = op.getWindow();
    std::optional<float> softcap;
    if (op.getSoftcap())
      softcap = op.getSoftcap()->convertToFloat();
    // scores[h][s] = f(scores[h][s]) for s in [first, count), in place.
    auto updateScores = [&](OpBuilder &b, Location loc, Value h, Value first,
                            Value count, auto f) {
      scf::ForOp::create(
          b, loc, first, count, c1, ValueRange{},
          [&](OpBuilder &b, Location loc, Value s, ValueRange) {
            Emitter in{b, loc};
            Value x = memref::LoadOp::create(b, loc, scores, ValueRange{h, s});
            memref::StoreOp::create(b, loc, f(in, x), scores,
                                    ValueRange{h, s});
            scf::YieldOp::create(b, loc);
          });
    };
    auto headBody = [&](OpBuilder &b, Location loc, Value h, ValueRange) {
          Emitter in{b, loc};
          scf::ForOp::create(
              b, loc, c0, in.index(rows), c1, ValueRange{},
              [&](OpBuilder &b, Location loc, Value t, ValueRange) {
                Emitter in{b, loc};
                Value last = arith::AddIOp::create(b, loc, pos, t);
                Value count = arith::AddIOp::create(b, loc, last, c1);
                // The positions the token sees: all before it, or the
                // window's most recent ones (count - window when positive).
                Value first = c0;
                if (window) {
                  Value w = in.index(*window);
                  Value beyond = arith::CmpIOp::create(
                      b, loc, arith::CmpIPredicate::ugt, count, w);
                  first = arith::SelectOp::create(
                      b, loc, beyond, arith::SubIOp::create(b, loc, count, w),
                      c0);
                }
                Value qBase = arith::MulIOp::create(b, loc, h, in.index(headDim));
                Value kvHead =
                    arith::DivUIOp::create(b, loc, h, in.index(group));
                Value kvBase =
                    arith::MulIOp::create(b, loc, kvHead, in.index(headDim));
                // scores[s] = q . k_s * scale: the head's query a
                // vector loaded once, each key one contiguous load, the
                // products summed as a vector reduction (reassociated: a
                // few ulp from the reference's serial order, where the
                // serial chain cost 4 cycles per element).
                VectorType headVector =
                    VectorType::get({headDim}, b.getF32Type());
                Value query = vector::LoadOp::create(b, loc, headVector, q,
                                                     ValueRange{t, qBase});
                scf::ForOp::create(
                    b, loc, first, count, c1, ValueRange{},
                    [&](OpBuilder &b, Location loc, Value s, ValueRange) {
                      Emitter in{b, loc};
                      Value key = vector::LoadOp::create(
                          b, loc, VectorType::get({headDim}, cacheElement), kc,
                          ValueRange{layer, s, kvBase});
                      if (!cacheElement.isF32())
                        key = arith::ExtFOp::create(b, loc, headVector, key);
                      Value products =
                          arith::MulFOp::create(b, loc, query, key);
                      Value dot = vector::ReductionOp::create(
                          b, loc, vector::CombiningKind::ADD, products, Value(),
                          arith::FastMathFlags::reassoc);
                      Value score = in.mul(dot, in.f32(scale));
                      if (softcap)
                        score = in.mul(
                            in.f32(*softcap),
                            math::TanhOp::create(
                                b, loc, in.mul(score, in.f32(1.0f / *softcap))));
                      memref::StoreOp::create(b, loc, score, scores,
                                              ValueRange{h, s});
                      scf::YieldOp::create(b, loc);
                    });
                // Their maximum, in a loop of its own: a maximum is exact in
                // any order, so this one vectorizes (llama2.c's serial
                // `if (x > max)` chain is what the scores loop was bound by).
                auto maxLoop = scf::ForOp::create(
                    b, loc, first, count, c1,
                    ValueRange{in.f32(-std::numeric_limits<float>::infinity())},
                    [&](OpBuilder &b, Location loc, Value s, ValueRange iter) {
                      Value x =
                          memref::LoadOp::create(b, loc, scores, ValueRange{h, s});
                      scf::YieldOp::create(
                          b, loc,
                          arith::MaxNumFOp::create(
                              b, loc, iter[0], x,
                              arith::FastMathFlags::nnan |
                                  arith::FastMathFlags::nsz)
                              .getResult());
                    });
                Value maxScore = maxLoop.getResult(0);
                // scores[s] = exp(scores[s] - max), in a loop of its own
                // (independent per position: it vectorizes once exp is a
                // polynomial, tlm-approximate-exp); then their sum, in
                // order.
                updateScores(b, loc, h, first, count, [&](Emitter &in, Value x) {
                  return math::ExpOp::create(in.b, in.loc,
                                             in.sub(x, maxScore))
                      .getResult();
                });
                auto sumLoop = scf::ForOp::create(
                    b, loc, first, count, c1, ValueRange{in.f32(0.0)},
                    [&](OpBuilder &b, Location loc, Value s, ValueRange acc) {
                      Emitter in{b, loc};
                      Value ex =
                          memref::LoadOp::create(b, loc, scores, ValueRange{h, s});
                      scf::YieldOp::create(b, loc, in.add(acc[0], ex));
                    });
                Value sum = sumLoop.getResult(0);
                // scores[s] /= sum, once per position (as llama2.c does).
                updateScores(b, loc, h, first, count, [&](Emitter &in, Value x) {
                  return in.div(x, sum);
                });
                // out[t][h*hd + i] = sum_s scores[s] * v_s[i], positions in
                // order (the reference's rounding: a multiply, then an add,
                // per position), the head's hd outputs a vector carried in
                // registers across positions: one contiguous load of v_s
                // per position, no store until the end.
                Value zeros = arith::ConstantOp::create(
                    b, loc,
                    DenseElementsAttr::get(headVector, b.getF32FloatAttr(0.0)));
                auto weighted = scf::ForOp::create(
                    b, loc, first, count, c1, ValueRange{zeros},
                    [&](OpBuilder &b, Location loc, Value s, ValueRange acc) {
                      Value a =
                          memref::LoadOp::create(b, loc, scores, ValueRange{h, s});
                      Value vs = vector::LoadOp::create(
                          b, loc,
                          VectorType::get({headDim}, cacheElement), vc,
                          ValueRange{layer, s, kvBase});
                      if (!cacheElement.isF32())
                        vs = arith::ExtFOp::create(b, loc, headVector, vs);
                      Value scaled = arith::MulFOp::create(
                          b, loc,
                          vector::BroadcastOp::create(b, loc, headVector, a),
                          vs);
                      scf::YieldOp::create(
                          b, loc,
                          arith::AddFOp::create(b, loc, acc[0], scaled)
                              .getResult());
                    });
                vector::StoreOp::create(b, loc, weighted.getResult(0), out,
                                        ValueRange{t, qBase});
                scf::YieldOp::create(b, loc);
              });
          scf::YieldOp::create(b, loc);
        };
    // Across threads only when there is enough work to pay for the handoff
    // (a few microseconds): the multiply-adds of scores and weighted sums,
    // ~2 x heads x tokens x head_dim x positions, known only at run time.
    // Otherwise the same loop runs inline, giving the same results.
    Value positions = arith::AddIOp::create(b, loc, pos, e.index(rows));
    Value work = arith::MulIOp::create(
        b, loc, positions, e.index(2 * heads * rows * headDim));
    Value enough = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::uge,
                                         work, e.index(kParallelAttentionWork));
    scf::IfOp::create(
        b, loc, enough,
        [&](OpBuilder &b, Location loc) {
          auto parallel = scf::ForOp::create(b, loc, c0, Emitter{b, loc}.index(heads),
                                             c1, ValueRange{}, headBody);
          parallel->setAttr(kParallelLoopAttr, b.getUnitAttr());
          scf::YieldOp::create(b, loc);
        },
        [&](OpBuilder &b, Location loc) {
          scf::ForOp::create(b, loc, c0, Emitter{b, loc}.index(heads), c1,
                             ValueRange{}, headBody);
          scf::YieldOp::create(b, loc);
        });
    Value result = bufferization::ToTensorOp::create(
        b, loc, op.getType(), out, /*restrict=*/true, /*writable=*/true);
    b.replaceOp(op, result);
    return success();
  }
};

} // namespace

void tlmc::populateAttentionLoweringPatterns(RewritePatternSet &patterns) {
  patterns.add<LowerAttention>(patterns.getContext());
}
