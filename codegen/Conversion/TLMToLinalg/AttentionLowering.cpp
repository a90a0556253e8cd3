//===- AttentionLowering.cpp - tlm.attention as loops on its caches ------===//
//
// Causal grouped-query attention as scf loops on buffers: the new keys and
// values are appended to the caches, then each new token's heads take a
// softmax over the cached prefix and a weighted sum of values, in
// llama2.c's steps (scores, maximum, exp and sum, normalize, sum of values).
//
// The caches are laid out for these reads, not as their memref type reads
// (KVCacheLayout.h): keys in blocks of positions, so that a query's scores
// for a block are head_dim FMAs of a broadcast query element into one
// vector, no reduction across lanes (a score per key as a product and a
// 16-lane reduction cost ~13 instructions per key; it was ~half of a
// SmolLM2 prefill's attention time); values in rows per KV head, so that
// the weighted sum reads v_s whole, carried in registers across positions
// in the reference's order, and a KV group's values are one stream.
//
// A unit takes all the query heads of a KV group (a prefill chunk's and,
// from 2 KV groups, a decode step's), and one pass over a block of keys
// computes the scores of up to headsPerPass of them: each key vector is
// loaded once for them all, where one head per pass needed a key load and
// a query broadcast per FMA (SmolLM2's 3 heads per group: a 128-token
// layer's attention on Zen 5 went from ~290-380 to ~216-222 us on 1
// thread). Each head keeps its own partial sums in the same order, so its
// scores are bitwise the same either way. The weighted sums of values
// share v_s loads across the unit's heads the same way (SmolLM2 Q8_0 128
// tokens after 1536 of context: 490 -> 725 tok/s).
//
// A token that sees more than a row of scores (kSoftmaxTile positions)
// takes them a tile at a time with a running maximum and sum per head
// (online softmax); the arena holds a tile of scores per unit and head.
//
//===----------------------------------------------------------------------===//

#include "codegen/Conversion/Patterns.h"
#include "codegen/Conversion/TLMToLinalg/Emitter.h"
#include "codegen/Conversion/TLMToLinalg/KVCacheLayout.h"
#include "codegen/Passes.h"
#include "dialects/tlm/IR/TLMOps.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
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

/// The same for a model whose products already run on threads (a q
/// projection of at least kThreadedProductWork multiply-adds, taking the
/// width as the model's dimension): its q, k and v come from both cores
/// anyway, so splitting attention adds a handoff but no data crossing
/// between them. SmolLM2-135M Q4_0, 2 threads, tg128 after 4 tokens,
/// alternated 12 times: 16384 (from 14 positions) +5% over 65536 (faster
/// in 10 of 12), 8192 level with 16384, 4096 +2%; 1 thread level.
/// stories260K, whose decode products stay on one thread, lost 4-7% with
/// 16384 (slower in 7-8 of 8), hence the two.
constexpr int64_t kParallelAttentionWorkThreaded = 16384;
constexpr int64_t kThreadedProductWork = 65536;

/// Tokens per unit of a prefill's attention: the heads loop runs over
/// (head, block of this many new tokens) so that a chunk's work splits
/// into more units than heads (SmolLM2's 9 heads on 2 threads left one
/// thread 5 heads and the other 4: 211 us per 128-token layer where 300 on
/// one thread would ideally halve to 150; 195 with units), each of which
/// the pool's guided blocks balance. The cost is a row of scores per unit
/// in the arena: for a 128-token chunk 8 rows per head instead of one
/// (SmolLM2 at a context of 8192: 2.3 MB instead of 0.3).
constexpr int64_t kTokensPerUnit = 16;

/// Independent partial sums of a block's scores over the head's elements:
/// enough FMA chains to cover an FMA's latency at two per cycle.
constexpr int64_t kChains = 4;

/// Positions of a row of scores. A token that sees at most this many
/// keeps llama2.c's steps over one row (scores, maximum, exp and sum,
/// normalize, sum of values); one that sees more takes them a tile at a
/// time with a running maximum and sum (online softmax), so the scores in
/// the arena are a tile per unit and head whatever the context: SmolLM2's
/// 128-token chunk at a context of 8192 keeps 288 KB of scores, not 2.3 MB
/// (and a 32k-context Qwen2.5-0.5B 460 KB, not 14.7 MB). It is a multiple
/// of kKeyBlock.
constexpr int64_t kSoftmaxTile = 1024;

/// Vector registers the weighted sums of one pass may take for their
/// partial sums (of AVX-512's 32; the rest hold v_s and the scores).
constexpr int64_t kValueRegisters = 24;

/// Units from which a unit takes all the heads of a KV group rather than
/// one: enough for a few threads' guided blocks to balance (a 128-token
/// chunk of SmolLM2 has 3 KV groups x 8 blocks of tokens = 24).
constexpr int64_t kMinGroupedUnits = 16;

/// Attention on buffers: append k/v to the caches, then for each new token
/// and head, softmax over the cached prefix and a weighted sum of values.
struct LowerAttention : OpRewritePattern<tlm::AttentionOp> {
  LowerAttention(MLIRContext *ctx, int64_t headsPerPass)
      : OpRewritePattern(ctx),
        headsPerPass(std::max<int64_t>(headsPerPass, 1)) {}

  /// Query heads whose scores one pass over a block of keys computes: each
  /// key vector is loaded once for all of them (ConvertTLMToLinalg's
  /// attention-heads-per-pass).
  int64_t headsPerPass;

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
    Value q = e.readOnlyBuffer(op.getQuery());
    Value k = e.readOnlyBuffer(op.getKey());
    Value v = e.readOnlyBuffer(op.getValue());
    Value kc = op.getKeyCache(), vc = op.getValueCache();
    Value layer =
        op.getLayerIndex() ? op.getLayerIndex() : e.index(op.getLayer());
    int64_t kvHeads = op.getKvHeads();
    KVCacheLayout cache(op);
    int64_t block = cache.block;
    // Where (layer, position, kvh * hd + d) of this layer's key cache is.
    auto keyAt = [&](OpBuilder &b, Location loc, Value position, Value kvh,
                     Value d) -> Value {
      return cache.keyAt(b, loc, layer, position, kvh, d);
    };
    // Where this layer's value row (position, kvBase .. kvBase + hd) starts.
    auto valueRowAt = [&](OpBuilder &b, Location loc, Value position,
                          Value kvBase) -> Value {
      return cache.valueRowAt(b, loc, layer, position, kvBase);
    };
    // A decode step stores its new key as one element in each of head_dim
    // x kv_heads cache lines (the blocked layout) and its new value as a
    // row per KV head, lines that the weights streamed since the last step
    // have evicted: it asks for them, for writing, at its function's
    // start, so that they arrive while the layer's first products run
    // instead of stalling the append after them (with the values' 12 lines
    // of a SmolLM2 layer left out, the append's stores waited on them: the
    // layer's serial steps were 2.4% of a 1-thread decode step's samples,
    // 2.05% with them).
    auto func = op->getParentOfType<func::FuncOp>();
    auto isEntryArgument = [&](Value v) {
      auto argument = dyn_cast<BlockArgument>(v);
      return func && argument && argument.getOwner() == &func.front();
    };
    if (rows == 1 && isEntryArgument(op.getPos()) && isEntryArgument(kc) &&
        isEntryArgument(vc) &&
        (!op.getLayerIndex() || isEntryArgument(op.getLayerIndex()))) {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(&func.front());
      Emitter at{b, loc};
      Value entryLayer =
          op.getLayerIndex() ? op.getLayerIndex() : at.index(op.getLayer());
      cache.prefetchStepForWriting(b, loc, entryLayer, op.getPos());
    }
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
    // The loop below runs over units of (head, block of new tokens), each
    // computed whole by one thread; a chunk of more than kTokensPerUnit
    // tokens (a multiple of it) has several blocks per head.
    int64_t tokensPerUnit = rows > kTokensPerUnit && rows % kTokensPerUnit == 0
                                ? kTokensPerUnit
                                : rows;
    int64_t blocksPerHead = rows / tokensPerUnit;
    // A unit takes all the heads of a KV group when the keys are read a
    // pass for several heads (headsPerPass) and the units are still enough
    // for the threads to balance. A decode step's do from 2 KV groups:
    // reading its keys and values once for the group's heads outweighs
    // the imbalance of so few units (SmolLM2 Q8_0, 3 units on 2 threads,
    // against 9 heads, alternated: decode after 0-128 positions +0-10% in
    // 9 of 10 pairs, after 1536 +12% on 1 thread and +30% on 2). Past
    // that many threads per KV group some would wait: splitting a decode
    // step's positions across threads is what would serve them.
    bool groupedUnits =
        rows == 1 ? kvHeads >= 2 : kvHeads * blocksPerHead >= kMinGroupedUnits;
    int64_t headsPerUnit = headsPerPass > 1 && groupedUnits ? group : 1;
    int64_t units = heads / headsPerUnit * blocksPerHead;
    // Heads whose weighted sums share each v_s load: as many as keep their
    // even and odd sums (2 x head_dim / 16 registers each) within 24 of
    // the 32 vector registers that heads per pass > 1 means (AVX-512),
    // the rest for v_s and the broadcast scores. SmolLM2's head_dim 64:
    // 3 heads (its whole KV group); 128: 1.
    int64_t valueHeadsPerPass = 1;
    if (headsPerPass > 1)
      valueHeadsPerPass = std::clamp<int64_t>(
          kValueRegisters / (2 * llvm::divideCeil(headDim, kKeyBlock)), 1,
          headsPerPass);
    // One row of scores per head of a unit: units run on different threads
    // (tlm-parallelize-rows outlines the units loop). A row holds a tile
    // of positions: a token that sees more takes them a tile at a time
    // (online softmax), with its running maximum, sum and the tile's
    // rescaling of them in runningState.
    int64_t tile = std::min(capacity, kSoftmaxTile);
    Value scores = memref::AllocOp::create(
        b, loc, MemRefType::get({units * headsPerUnit, tile}, b.getF32Type()));
    Value runningState;
    if (capacity > tile)
      runningState = memref::AllocOp::create(
          b, loc, MemRefType::get({units * headsPerUnit, 3}, b.getF32Type()));
    Value c0 = e.index(0), c1 = e.index(1);
    Value pos = op.getPos();

    // Append this call's keys and values at positions pos + t.
    auto appendLoop = scf::ForOp::create(
        b, loc, c0, e.index(rows), c1, ValueRange{},
        [&](OpBuilder &b, Location loc, Value t, ValueRange) {
          Value p = arith::AddIOp::create(b, loc, pos, t);
          Value keys = cache.flatKeys(b, loc);
          scf::ForOp::create(
              b, loc, c0, e.index(kvWidth), c1, ValueRange{},
              [&](OpBuilder &b, Location loc, Value j, ValueRange) {
                Emitter in{b, loc};
                Value kv = toCache(
                    b, loc,
                    memref::LoadOp::create(b, loc, k, ValueRange{t, j}));
                Value kvh =
                    arith::DivUIOp::create(b, loc, j, in.index(headDim));
                Value d = arith::RemUIOp::create(b, loc, j, in.index(headDim));
                memref::StoreOp::create(b, loc, kv, keys,
                                        ValueRange{keyAt(b, loc, p, kvh, d)});
                Value vv = toCache(
                    b, loc,
                    memref::LoadOp::create(b, loc, v, ValueRange{t, j}));
                Value row = valueRowAt(b, loc, p, in.subIndex(j, d));
                memref::StoreOp::create(b, loc, vv, cache.flatValues(b, loc),
                                        ValueRange{in.addIndex(row, d)});
                scf::YieldOp::create(b, loc);
              });
          scf::YieldOp::create(b, loc);
        });

    // A prefill chunk's tokens are appended by the threads (see
    // kParallelTokenLoopRows): each token's key and value by one thread,
    // before any unit below reads them.
    if (rows >= kParallelTokenLoopRows)
      appendLoop->setAttr(kParallelLoopAttr, b.getUnitAttr());
    // Units outside, tokens inside: each (head, token) output is computed
    // by one thread, with the same code for any thread count and any
    // grouping of tokens into units.
    float scale = op.getScale() ? op.getScale()->convertToFloat()
                                : 1.0f / std::sqrt(float(headDim));
    std::optional<int64_t> window = op.getWindow();
    std::optional<float> softcap;
    if (op.getSoftcap())
      softcap = op.getSoftcap()->convertToFloat();
    // A row of scores holds the positions [base, base + tile) of one head
    // and token: every loop below takes the row's base and reads position s
    // at s - base.
    auto scoreAt = [&](OpBuilder &b, Location loc, Value base, Value s) {
      return Emitter{b, loc}.subIndex(s, base);
    };
    // scores[u][s] = f(scores[u][s]) for s in [first, count), in place.
    auto updateScores = [&](OpBuilder &b, Location loc, Value u, Value base,
                            Value first, Value count, auto f) {
      scf::ForOp::create(
          b, loc, first, count, c1, ValueRange{},
          [&](OpBuilder &b, Location loc, Value s, ValueRange) {
            Emitter in{b, loc};
            Value at = scoreAt(b, loc, base, s);
            Value x = memref::LoadOp::create(b, loc, scores, ValueRange{u, at});
            memref::StoreOp::create(b, loc, f(in, x), scores,
                                    ValueRange{u, at});
            scf::YieldOp::create(b, loc);
          });
    };
    // init folded with scores[u][s] for s in [first, count) by `combine`.
    auto foldScores = [&](OpBuilder &b, Location loc, Value u, Value base,
                          Value first, Value count, Value init, auto combine) {
      return scf::ForOp::create(
                 b, loc, first, count, c1, ValueRange{init},
                 [&](OpBuilder &b, Location loc, Value s, ValueRange acc) {
                   Value x = memref::LoadOp::create(
                       b, loc, scores, ValueRange{u, scoreAt(b, loc, base, s)});
                   scf::YieldOp::create(b, loc, combine(b, loc, acc[0], x));
                 })
          .getResult(0);
    };
    // scores[row][s - base] = q_head . k_s * scale for s in [firstBlock,
    // count), for `heads.size()` heads of one KV group (row and head given
    // per head) in one pass over the keys: per element d, one load of
    // `block` keys from the blocked key cache and, per head, one FMA of
    // q[d] broadcast into the block's scores. A head's elements are summed
    // in kChains interleaved partial sums (d mod kChains), added at the
    // end: independent FMA chains rather than one of head_dim, in the same
    // order for every token, thread count, entry point and heads per pass,
    // so a head's scores are bitwise the same computed alone or with
    // others. A block may start before `first` or end past `count`; those
    // scores are never read.
    int64_t chains = headDim % kChains == 0 ? kChains : 1;
    VectorType blockVector = VectorType::get({block}, b.getF32Type());
    VectorType cacheVector = VectorType::get({block}, cacheElement);
    auto emitScores = [&](OpBuilder &b, Location loc, Value t,
                          ArrayRef<std::pair<Value, Value>> heads, Value kvHead,
                          Value base, Value count) {
      Emitter in{b, loc};
      Value keys = cache.flatKeys(b, loc);
      // Where each head's query starts in the token's row.
      SmallVector<Value> qBases;
      for (const auto &head : heads)
        qBases.push_back(in.mulIndex(head.second, in.index(headDim)));
      Value blockZeros = arith::ConstantOp::create(
          b, loc, DenseElementsAttr::get(blockVector, b.getF32FloatAttr(0.0)));
      scf::ForOp::create(
          b, loc, base, count, in.index(block), ValueRange{},
          [&](OpBuilder &b, Location loc, Value s, ValueRange) {
            Emitter in{b, loc};
            SmallVector<Value> init(heads.size() * chains, blockZeros);
            auto dots = scf::ForOp::create(
                b, loc, c0, in.index(headDim), in.index(chains), init,
                [&](OpBuilder &b, Location loc, Value d0, ValueRange acc) {
                  Emitter in{b, loc};
                  SmallVector<Value> next(acc.begin(), acc.end());
                  for (int64_t c = 0; c < chains; ++c) {
                    Value d = in.addIndex(d0, in.index(c));
                    Value key = vector::LoadOp::create(
                        b, loc, cacheVector, keys,
                        ValueRange{keyAt(b, loc, s, kvHead, d)});
                    if (!cacheElement.isF32())
                      key = arith::ExtFOp::create(b, loc, blockVector, key);
                    for (auto [j, qBase] : llvm::enumerate(qBases)) {
                      Value qd = memref::LoadOp::create(
                          b, loc, q, ValueRange{t, in.addIndex(qBase, d)});
                      Value &sum = next[j * chains + c];
                      sum = vector::FMAOp::create(
                          b, loc,
                          vector::BroadcastOp::create(b, loc, blockVector, qd),
                          key, sum);
                    }
                  }
                  scf::YieldOp::create(b, loc, next);
                });
            auto splat = [&](float v) -> Value {
              return vector::BroadcastOp::create(b, loc, blockVector,
                                                 in.f32(v));
            };
            Value at = scoreAt(b, loc, base, s);
            for (auto [j, head] : llvm::enumerate(heads)) {
              SmallVector<Value> partial(
                  dots.getResults().slice(j * chains, chains));
              while (partial.size() > 1) {
                SmallVector<Value> halves;
                for (size_t i = 0; i < partial.size(); i += 2)
                  halves.push_back(arith::AddFOp::create(b, loc, partial[i],
                                                         partial[i + 1]));
                partial = halves;
              }
              Value score =
                  arith::MulFOp::create(b, loc, partial[0], splat(scale));
              if (softcap)
                score = arith::MulFOp::create(
                    b, loc, splat(*softcap),
                    math::TanhOp::create(
                        b, loc,
                        arith::MulFOp::create(b, loc, score,
                                              splat(1.0f / *softcap))));
              vector::StoreOp::create(b, loc, score, scores,
                                      ValueRange{head.first, at});
            }
            scf::YieldOp::create(b, loc);
          });
    };
    // The maximum of a row's scores over [first, count), in a loop of its
    // own: a maximum is exact in any order, so this one vectorizes
    // (llama2.c's serial `if (x > max)` chain is what the scores loop was
    // bound by).
    auto emitMax = [&](OpBuilder &b, Location loc, Value row, Value base,
                       Value first, Value count) {
      return foldScores(
          b, loc, row, base, first, count,
          Emitter{b, loc}.f32(-std::numeric_limits<float>::infinity()),
          [](OpBuilder &b, Location loc, Value x, Value y) -> Value {
            return arith::MaxNumFOp::create(b, loc, x, y,
                                            arith::FastMathFlags::nnan |
                                                arith::FastMathFlags::nsz);
          });
    };
    // scores[s] = exp(scores[s] - max) over [first, count), in a loop of
    // its own (independent per position: it vectorizes once exp is a
    // polynomial, tlm-approximate-exp); returns their sum, reassociable so
    // that it vectorizes (in order it was a chain of `count` dependent adds
    // per head and token).
    auto emitExpAndSum = [&](OpBuilder &b, Location loc, Value row, Value base,
                             Value first, Value count, Value maxScore) {
      updateScores(b, loc, row, base, first, count, [&](Emitter &in, Value x) {
        return math::ExpOp::create(in.b, in.loc, in.sub(x, maxScore))
            .getResult();
      });
      return foldScores(
          b, loc, row, base, first, count, Emitter{b, loc}.f32(0.0),
          [](OpBuilder &b, Location loc, Value acc, Value x) -> Value {
            return arith::AddFOp::create(b, loc, acc, x,
                                         arith::FastMathFlags::reassoc);
          });
    };
    // sum_s scores[row][s] * v_s[i] for s in [first, count), for each of
    // `rows` (heads of one KV group): per head a vector of its hd outputs,
    // a multiply and an add per position (the reference's rounding), the
    // sums carried in registers, one contiguous load of v_s per position
    // for all the heads. Even and odd positions go to two sums per head
    // added at the end: with one, every position waited for the last one's
    // add (a chain of `count` adds per output vector). A head's sums are in
    // the same order however many heads share the loads, so its result is
    // bitwise the same alone or with others.
    VectorType headVector = VectorType::get({headDim}, b.getF32Type());
    auto emitWeightedSums =
        [&](OpBuilder &b, Location loc, ArrayRef<Value> rows, Value kvBase,
            Value base, Value first, Value count) -> SmallVector<Value> {
      Emitter in{b, loc};
      size_t n = rows.size();
      Value zeros = arith::ConstantOp::create(
          b, loc, DenseElementsAttr::get(headVector, b.getF32FloatAttr(0.0)));
      Value values = cache.flatValues(b, loc);
      // Each head's score at s times v_s.
      auto weightedValues = [&](OpBuilder &b, Location loc, Value s) {
        Value vs = vector::LoadOp::create(
            b, loc, VectorType::get({headDim}, cacheElement), values,
            ValueRange{valueRowAt(b, loc, s, kvBase)});
        if (!cacheElement.isF32())
          vs = arith::ExtFOp::create(b, loc, headVector, vs);
        Value at = scoreAt(b, loc, base, s);
        SmallVector<Value> products;
        for (Value row : rows) {
          Value a = memref::LoadOp::create(b, loc, scores, ValueRange{row, at});
          products.push_back(arith::MulFOp::create(
              b, loc, vector::BroadcastOp::create(b, loc, headVector, a), vs));
        }
        return products;
      };
      Value pairs = in.subIndex(count, first);
      Value pairsEnd = in.addIndex(
          first, in.subIndex(pairs, arith::RemUIOp::create(b, loc, pairs,
                                                           in.index(2))));
      // Head j's even sum is iter_arg 2j, its odd one 2j + 1.
      auto paired = scf::ForOp::create(
          b, loc, first, pairsEnd, in.index(2),
          SmallVector<Value>(2 * n, zeros),
          [&](OpBuilder &b, Location loc, Value s, ValueRange acc) {
            Emitter in{b, loc};
            SmallVector<Value> even = weightedValues(b, loc, s);
            SmallVector<Value> odd = weightedValues(b, loc, in.addIndex(s, c1));
            SmallVector<Value> next;
            for (size_t j = 0; j < n; ++j) {
              next.push_back(
                  arith::AddFOp::create(b, loc, acc[2 * j], even[j]));
              next.push_back(
                  arith::AddFOp::create(b, loc, acc[2 * j + 1], odd[j]));
            }
            scf::YieldOp::create(b, loc, next);
          });
      // The odd position out, if any, into the even sums.
      SmallVector<Value> evens;
      for (size_t j = 0; j < n; ++j)
        evens.push_back(paired.getResult(2 * j));
      auto weighted = scf::ForOp::create(
          b, loc, pairsEnd, count, c1, evens,
          [&](OpBuilder &b, Location loc, Value s, ValueRange acc) {
            SmallVector<Value> last = weightedValues(b, loc, s);
            SmallVector<Value> next;
            for (size_t j = 0; j < n; ++j)
              next.push_back(arith::AddFOp::create(b, loc, acc[j], last[j]));
            scf::YieldOp::create(b, loc, next);
          });
      SmallVector<Value> sums;
      for (size_t j = 0; j < n; ++j)
        sums.push_back(arith::AddFOp::create(b, loc, weighted.getResult(j),
                                             paired.getResult(2 * j + 1)));
      return sums;
    };
    // A unit: `headsPerUnit` heads (of one KV group) for `tokensPerUnit`
    // tokens; its head j's scores are row u * headsPerUnit + j.
    auto unitBody = [&](OpBuilder &b, Location loc, Value u, ValueRange) {
      Emitter in{b, loc};
      Value headUnit = u, firstToken = c0;
      if (blocksPerHead > 1) {
        headUnit = arith::DivUIOp::create(b, loc, u, in.index(blocksPerHead));
        firstToken = in.mulIndex(
            arith::RemUIOp::create(b, loc, u, in.index(blocksPerHead)),
            in.index(tokensPerUnit));
      }
      // A unit's first head and first row of scores; head j of the unit
      // is j after them (no ops for a unit of one head).
      Value firstHead = headUnit, firstRow = u;
      if (headsPerUnit > 1) {
        firstHead = in.mulIndex(headUnit, in.index(headsPerUnit));
        firstRow = in.mulIndex(u, in.index(headsPerUnit));
      }
      auto plus = [&](OpBuilder &b, Value x, Value j) {
        return j ? Emitter{b, loc}.addIndex(x, j) : x;
      };
      Value kvHead = arith::DivUIOp::create(b, loc, firstHead, in.index(group));
      Value kvBase = in.mulIndex(kvHead, in.index(headDim));
      // f(j) for each head j of the unit (j null for a unit of one head).
      auto forEachHead = [&](OpBuilder &b, Location loc, auto f) {
        if (headsPerUnit == 1)
          return f(b, loc, Value());
        scf::ForOp::create(
            b, loc, c0, Emitter{b, loc}.index(headsPerUnit), c1, ValueRange{},
            [&](OpBuilder &b, Location loc, Value j, ValueRange) {
              f(b, loc, j);
              scf::YieldOp::create(b, loc);
            });
      };
      // f(js, rows) for the unit's heads in passes of `perPass` (their
      // offsets j, null for the first, and their rows of scores).
      auto forEachPass = [&](OpBuilder &b, Location loc, int64_t perPass,
                             auto f) {
        Emitter in{b, loc};
        for (int64_t j0 = 0; j0 < headsPerUnit; j0 += perPass) {
          SmallVector<Value> js, rows;
          for (int64_t j = j0; j < std::min(headsPerUnit, j0 + perPass); ++j) {
            js.push_back(j ? in.index(j) : nullptr);
            rows.push_back(plus(b, firstRow, js.back()));
          }
          f(b, loc, js, rows);
        }
      };
      // Every head's scores for the positions [base, count) of token t,
      // `headsPerPass` heads per pass over the keys.
      auto scoreHeads = [&](OpBuilder &b, Location loc, Value t, Value base,
                            Value count) {
        forEachPass(b, loc, headsPerPass,
                    [&](OpBuilder &b, Location loc, ArrayRef<Value> js,
                        ArrayRef<Value> rows) {
                      SmallVector<std::pair<Value, Value>> heads;
                      for (auto [j, row] : llvm::zip(js, rows))
                        heads.push_back({row, plus(b, firstHead, j)});
                      emitScores(b, loc, t, heads, kvHead, base, count);
                    });
      };
      // The weighted sums of a pass share each v_s load.
      auto forEachValuePass = [&](OpBuilder &b, Location loc, auto f) {
        forEachPass(b, loc, valueHeadsPerPass, f);
      };
      auto outputAt = [&](OpBuilder &b, Location loc, Value t, Value j) {
        Emitter in{b, loc};
        return SmallVector<Value>{
            t, in.mulIndex(plus(b, firstHead, j), in.index(headDim))};
      };
      // Positions [first, count) in one row of scores from firstBlock:
      // llama2.c's steps (scores, maximum, exp and sum, normalize, sum of
      // values), in its order of rounding.
      auto wholeRow = [&](OpBuilder &b, Location loc, Value t, Value first,
                          Value firstBlock, Value count) {
        scoreHeads(b, loc, t, firstBlock, count);
        forEachHead(b, loc, [&](OpBuilder &b, Location loc, Value j) {
          Value row = plus(b, firstRow, j);
          Value maxScore = emitMax(b, loc, row, firstBlock, first, count);
          Value sum =
              emitExpAndSum(b, loc, row, firstBlock, first, count, maxScore);
          // scores[s] /= sum, once per position (as llama2.c does).
          updateScores(b, loc, row, firstBlock, first, count,
                       [&](Emitter &in, Value x) { return in.div(x, sum); });
        });
        forEachValuePass(b, loc,
                         [&](OpBuilder &b, Location loc, ArrayRef<Value> js,
                             ArrayRef<Value> rows) {
                           SmallVector<Value> sums = emitWeightedSums(
                               b, loc, rows, kvBase, firstBlock, first, count);
                           for (auto [j, sum] : llvm::zip(js, sums))
                             vector::StoreOp::create(b, loc, sum, out,
                                                     outputAt(b, loc, t, j));
                         });
      };
      // Positions [first, count) a tile of scores at a time (online
      // softmax): per head, the running maximum m and sum l of exp(score -
      // m) in runningState[row] and the running weighted sum in the
      // output; a tile with a larger maximum rescales both by exp(m_old -
      // m_new), and the output is divided by l at the end. Tiles start at
      // firstBlock + i * tile, absolute positions, so a token's result is
      // the same for any chunking and thread count.
      auto tiledRows = [&](OpBuilder &b, Location loc, Value t, Value first,
                           Value firstBlock, Value count) {
        Emitter in{b, loc};
        scf::ForOp::create(
            b, loc, firstBlock, count, in.index(tile), ValueRange{},
            [&](OpBuilder &b, Location loc, Value base, ValueRange) {
              Emitter in{b, loc};
              Value end = arith::MinUIOp::create(
                  b, loc, in.addIndex(base, in.index(tile)), count);
              Value from = arith::MaxUIOp::create(b, loc, first, base);
              Value isFirst = arith::CmpIOp::create(
                  b, loc, arith::CmpIPredicate::eq, base, firstBlock);
              scoreHeads(b, loc, t, base, end);
              forEachHead(b, loc, [&](OpBuilder &b, Location loc, Value j) {
                Emitter in{b, loc};
                Value row = plus(b, firstRow, j);
                // The first tile starts the state; the values the selects
                // leave out are not yet written, and never used.
                Value oldMax = memref::LoadOp::create(b, loc, runningState,
                                                      ValueRange{row, c0});
                Value oldSum = memref::LoadOp::create(b, loc, runningState,
                                                      ValueRange{row, c1});
                Value tileMax = emitMax(b, loc, row, base, from, end);
                Value newMax = arith::SelectOp::create(
                    b, loc, isFirst, tileMax,
                    arith::MaxNumFOp::create(b, loc, oldMax, tileMax,
                                             arith::FastMathFlags::nnan |
                                                 arith::FastMathFlags::nsz));
                Value tileSum =
                    emitExpAndSum(b, loc, row, base, from, end, newMax);
                Value rescale =
                    math::ExpOp::create(b, loc, in.sub(oldMax, newMax));
                Value newSum = arith::SelectOp::create(
                    b, loc, isFirst, tileSum,
                    in.add(in.mul(oldSum, rescale), tileSum));
                memref::StoreOp::create(b, loc, newMax, runningState,
                                        ValueRange{row, c0});
                memref::StoreOp::create(b, loc, newSum, runningState,
                                        ValueRange{row, c1});
                memref::StoreOp::create(b, loc, rescale, runningState,
                                        ValueRange{row, in.index(2)});
              });
              forEachValuePass(
                  b, loc,
                  [&](OpBuilder &b, Location loc, ArrayRef<Value> js,
                      ArrayRef<Value> rows) {
                    Emitter in{b, loc};
                    SmallVector<Value> tileValues =
                        emitWeightedSums(b, loc, rows, kvBase, base, from, end);
                    for (auto [j, row, values] :
                         llvm::zip(js, rows, tileValues)) {
                      Value rescale = memref::LoadOp::create(
                          b, loc, runningState, ValueRange{row, in.index(2)});
                      SmallVector<Value> at = outputAt(b, loc, t, j);
                      Value old =
                          vector::LoadOp::create(b, loc, headVector, out, at);
                      Value rescaled = arith::MulFOp::create(
                          b, loc, old,
                          vector::BroadcastOp::create(b, loc, headVector,
                                                      rescale));
                      vector::StoreOp::create(
                          b, loc,
                          arith::SelectOp::create(b, loc, isFirst, values,
                                                  in.add(rescaled, values)),
                          out, at);
                    }
                  });
              scf::YieldOp::create(b, loc);
            });
        forEachHead(b, loc, [&](OpBuilder &b, Location loc, Value j) {
          Value sum = memref::LoadOp::create(
              b, loc, runningState, ValueRange{plus(b, firstRow, j), c1});
          SmallVector<Value> at = outputAt(b, loc, t, j);
          Value values = vector::LoadOp::create(b, loc, headVector, out, at);
          vector::StoreOp::create(
              b, loc,
              arith::DivFOp::create(
                  b, loc, values,
                  vector::BroadcastOp::create(b, loc, headVector, sum)),
              out, at);
        });
      };
      scf::ForOp::create(
          b, loc, firstToken, in.addIndex(firstToken, in.index(tokensPerUnit)),
          c1, ValueRange{},
          [&](OpBuilder &b, Location loc, Value t, ValueRange) {
            Emitter in{b, loc};
            Value last = arith::AddIOp::create(b, loc, pos, t);
            Value count = arith::AddIOp::create(b, loc, last, c1);
            // The positions the token sees: all before it, or the window's
            // most recent ones (count - window when positive).
            Value first = c0;
            if (window) {
              Value w = in.index(*window);
              Value beyond = arith::CmpIOp::create(
                  b, loc, arith::CmpIPredicate::ugt, count, w);
              first = arith::SelectOp::create(
                  b, loc, beyond, arith::SubIOp::create(b, loc, count, w), c0);
            }
            Value firstBlock = in.subIndex(
                first, arith::RemUIOp::create(b, loc, first, in.index(block)));
            if (!runningState) {
              wholeRow(b, loc, t, first, firstBlock, count);
              scf::YieldOp::create(b, loc);
              return;
            }
            // A token that sees more than a tile of positions takes them a
            // tile at a time; the rest keep the reference's steps.
            Value fits = arith::CmpIOp::create(
                b, loc, arith::CmpIPredicate::ule,
                in.subIndex(count, firstBlock), in.index(tile));
            scf::IfOp::create(
                b, loc, fits,
                [&](OpBuilder &b, Location loc) {
                  wholeRow(b, loc, t, first, firstBlock, count);
                  scf::YieldOp::create(b, loc);
                },
                [&](OpBuilder &b, Location loc) {
                  tiledRows(b, loc, t, first, firstBlock, count);
                  scf::YieldOp::create(b, loc);
                });
            scf::YieldOp::create(b, loc);
          });
      scf::YieldOp::create(b, loc);
    };
    // Across threads only when there is enough work to pay for the handoff
    // (a few microseconds): the multiply-adds of scores and weighted sums,
    // ~2 x heads x tokens x head_dim x positions, known only at run time.
    // Otherwise the same loop runs inline, giving the same results.
    Value positions = arith::AddIOp::create(b, loc, pos, e.index(rows));
    Value work = arith::MulIOp::create(b, loc, positions,
                                       e.index(2 * heads * rows * headDim));
    const int64_t threshold = width * width >= kThreadedProductWork
                                  ? kParallelAttentionWorkThreaded
                                  : kParallelAttentionWork;
    Value enough = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::uge,
                                         work, e.index(threshold));
    auto unitsLoop = [&](OpBuilder &b, Location loc, bool parallel) {
      auto loop = scf::ForOp::create(b, loc, c0, Emitter{b, loc}.index(units),
                                     c1, ValueRange{}, unitBody);
      if (parallel)
        loop->setAttr(kParallelLoopAttr, b.getUnitAttr());
      scf::YieldOp::create(b, loc);
    };
    scf::IfOp::create(
        b, loc, enough,
        [&](OpBuilder &b, Location loc) { unitsLoop(b, loc, true); },
        [&](OpBuilder &b, Location loc) { unitsLoop(b, loc, false); });
    Value result = bufferization::ToTensorOp::create(
        b, loc, op.getType(), out, /*restrict=*/true, /*writable=*/true);
    b.replaceOp(op, result);
    return success();
  }
};

} // namespace

void tlmc::populateAttentionLoweringPatterns(RewritePatternSet &patterns,
                                             int64_t headsPerPass) {
  patterns.add<LowerAttention>(patterns.getContext(), headsPerPass);
}
