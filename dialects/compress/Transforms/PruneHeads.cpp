//===- PruneHeads.cpp - structured pruning of attention heads -------*- C++
//-*-===//
//
// A query head is head_dim rows of Wq and head_dim columns of Wo; removing
// it removes exactly its contribution to the attention output. A KV head is
// head_dim rows of Wk and of Wv plus every query head that reads it, so
// removing one also narrows the KV cache. Both are removed in the same
// number from every group (query heads) and every layer (KV heads): the
// grouping stays uniform and one cache shape serves all layers.
//
//===----------------------------------------------------------------------===//

#include "dialects/compress/Transforms/LinearUses.h"
#include "dialects/compress/Transforms/Passes.h"
#include "dialects/tlm/IR/TLMOps.h"
#include "dialects/tlm/IR/WeightStore.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"

#include <cmath>
#include <numeric>

namespace mlir::compress {
#define GEN_PASS_DEF_COMPRESSPRUNEHEADS
#include "dialects/compress/Transforms/Passes.h.inc"
} // namespace mlir::compress

using namespace mlir;
using namespace mlir::compress;

namespace {

/// One attention op and the projections around it:
///   o(attention(rope(q(x)), rope(k(x)), v(x), caches)).
struct Site {
  tlm::AttentionOp attention;
  tlm::RoPEOp qRope, kRope;
  tlm::LinearOp q, k, v, o;
};

FailureOr<Site> matchSite(tlm::AttentionOp attention) {
  Site s{attention, {}, {}, {}, {}, {}, {}};
  s.qRope = attention.getQuery().getDefiningOp<tlm::RoPEOp>();
  s.kRope = attention.getKey().getDefiningOp<tlm::RoPEOp>();
  if (s.qRope)
    s.q = s.qRope.getInput().getDefiningOp<tlm::LinearOp>();
  if (s.kRope)
    s.k = s.kRope.getInput().getDefiningOp<tlm::LinearOp>();
  s.v = attention.getValue().getDefiningOp<tlm::LinearOp>();
  // Qwen2's biases and Qwen3's per-head norms sit between the projections
  // and RoPE; the pass would have to prune them with their heads.
  for (Value projected : {s.qRope ? Value(s.qRope.getInput()) : Value(),
                          s.kRope ? Value(s.kRope.getInput()) : Value(),
                          Value(attention.getValue())})
    if (projected && isa_and_nonnull<tlm::AddBiasOp, tlm::RMSNormOp>(
                         projected.getDefiningOp()))
      return attention.emitError(
          "compress-prune-heads: projections with biases or per-head q/k "
          "norms (as qwen2 and qwen3 blocks have) are not supported; prune "
          "the FFN or quantize instead");
  if (attention->hasOneUse())
    s.o = dyn_cast<tlm::LinearOp>(*attention->getUsers().begin());
  for (tlm::LinearOp linear : {s.q, s.k, s.v, s.o})
    if (!getLinearWeight(linear) || !linear->hasOneUse())
      return attention.emitError(
          "compress-prune-heads: expected float tlm.linear projections "
          "q, k (through tlm.rope), v and o around the attention, each used "
          "once (GGUF block weights cannot be pruned: compile with "
          "--dequantize)");
  return s;
}

/// The Frobenius norm of the `count` rows starting at `first`.
double rowNorm(ArrayRef<float> w, int64_t cols, int64_t first, int64_t count) {
  double sum = 0;
  for (float x : w.slice(first * cols, count * cols))
    sum += double(x) * x;
  return std::sqrt(sum);
}

/// The Frobenius norm of the `count` columns starting at `first`.
double columnNorm(ArrayRef<float> w, int64_t cols, int64_t first,
                  int64_t count) {
  double sum = 0;
  for (int64_t r = 0, rows = w.size() / cols; r < rows; ++r)
    for (float x : w.slice(r * cols + first, count))
      sum += double(x) * x;
  return std::sqrt(sum);
}

/// The row blocks `blocks` (each `blockRows` rows of `cols`), in order.
std::vector<float> takeRowBlocks(ArrayRef<float> w, int64_t cols,
                                 ArrayRef<int64_t> blocks, int64_t blockRows) {
  std::vector<float> out;
  out.reserve(blocks.size() * blockRows * cols);
  for (int64_t b : blocks)
    llvm::append_range(out, w.slice(b * blockRows * cols, blockRows * cols));
  return out;
}

/// The column blocks `blocks` (each `blockCols` wide) of every row, in order.
std::vector<float> takeColumnBlocks(ArrayRef<float> w, int64_t cols,
                                    ArrayRef<int64_t> blocks,
                                    int64_t blockCols) {
  std::vector<float> out;
  int64_t rows = w.size() / cols;
  out.reserve(rows * blocks.size() * blockCols);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t b : blocks)
      llvm::append_range(out, w.slice(r * cols + b * blockCols, blockCols));
  return out;
}

/// Indices [0, n) without the `drop` with the lowest score (ties drop the
/// later index), in ascending order.
SmallVector<int64_t> keepHighest(ArrayRef<double> score, int64_t drop) {
  SmallVector<int64_t> order(score.size());
  std::iota(order.begin(), order.end(), 0);
  llvm::sort(order, [&](int64_t a, int64_t b) {
    return score[a] != score[b] ? score[a] > score[b] : a < b;
  });
  order.resize(score.size() - drop);
  llvm::sort(order);
  return order;
}

RankedTensorType withWidth(Value v, int64_t width) {
  auto type = cast<RankedTensorType>(v.getType());
  return RankedTensorType::get({type.getDimSize(0), width},
                               type.getElementType());
}

struct CompressPruneHeadsPass
    : mlir::compress::impl::CompressPruneHeadsBase<CompressPruneHeadsPass> {
  using Base::Base;

  void runOnOperation() override {
    if (perGroup < 0 || kvHeads < 0) {
      getOperation().emitError("compress-prune-heads: per-group and kv-heads "
                               "must not be negative");
      return signalPassFailure();
    }
    if (perGroup == 0 && kvHeads == 0)
      return;
    ModuleOp module = getOperation();
    // Each layer's attention sites (one per entry point), by Wq.
    llvm::MapVector<Operation *, SmallVector<Site>> layers;
    WalkResult walk = module.walk([&](tlm::AttentionOp attention) {
      FailureOr<Site> site = matchSite(attention);
      if (failed(site))
        return WalkResult::interrupt();
      layers[getLinearWeight(site->q)].push_back(*site);
      return WalkResult::advance();
    });
    if (walk.wasInterrupted())
      return signalPassFailure();
    for (auto &[key, sites] : layers)
      if (failed(prune(module, sites)))
        return signalPassFailure();
    if (kvHeads > 0 && failed(narrowCaches(module)))
      return signalPassFailure();
  }

  LogicalResult prune(ModuleOp module, MutableArrayRef<Site> sites) {
    Site &s = sites.front();
    int64_t heads = s.attention.getHeads(), kv = s.attention.getKvHeads();
    int64_t hd = s.attention.getHeadDim(), group = heads / kv;
    if (perGroup >= group)
      return s.attention.emitError("compress-prune-heads: per-group must be "
                                   "in [0, ")
             << group - 1 << "] for groups of " << group << " heads";
    if (kvHeads >= kv)
      return s.attention.emitError("compress-prune-heads: kv-heads must be "
                                   "in [0, ")
             << kv - 1 << "] for " << kv << " KV heads";
    tlm::WeightOp wq = getLinearWeight(s.q), wk = getLinearWeight(s.k),
                  wv = getLinearWeight(s.v), wo = getLinearWeight(s.o);
    auto q = tlm::decodeWeightToF32(wq), k = tlm::decodeWeightToF32(wk),
         v = tlm::decodeWeightToF32(wv), o = tlm::decodeWeightToF32(wo);
    if (failed(q) || failed(k) || failed(v) || failed(o))
      return s.attention.emitError("compress-prune-heads: cannot decode the "
                                   "attention weights");
    int64_t in = wq.getTensorType().getDimSize(1);
    int64_t width = heads * hd, kvWidth = kv * hd;
    if (wq.getTensorType().getDimSize(0) != width ||
        wo.getTensorType().getDimSize(1) != width ||
        wk.getTensorType().getDimSize(0) != kvWidth ||
        wv.getTensorType().getDimSize(0) != kvWidth)
      return s.attention.emitError("compress-prune-heads: projection shapes "
                                   "do not match the attention's heads");

    // A query head's importance is ||its Wq rows|| * ||its Wo columns||; a
    // KV head's is the sum over the query heads reading it. (On stories260K
    // that sum beats scoring KV heads by ||Wv rows|| * ||Wo columns||:
    // perplexity +25% vs +46% with one of four KV heads gone.)
    SmallVector<double> headScore(heads), kvScore(kv, 0.0);
    for (int64_t h = 0; h < heads; ++h) {
      headScore[h] =
          rowNorm(*q, in, h * hd, hd) * columnNorm(*o, width, h * hd, hd);
      kvScore[h / group] += headScore[h];
    }
    SmallVector<int64_t> keptKV = keepHighest(kvScore, kvHeads);
    SmallVector<int64_t> keptHeads;
    for (int64_t g : keptKV) {
      ArrayRef<double> members(headScore.data() + g * group, group);
      for (int64_t h : keepHighest(members, perGroup))
        keptHeads.push_back(g * group + h);
    }

    int64_t newHeads = keptHeads.size(), newKV = keptKV.size();
    setPrunedWeight(module, wq, {newHeads * hd, in},
                    takeRowBlocks(*q, in, keptHeads, hd));
    setPrunedWeight(module, wo,
                    {wo.getTensorType().getDimSize(0), newHeads * hd},
                    takeColumnBlocks(*o, width, keptHeads, hd));
    if (newKV != kv) {
      setPrunedWeight(module, wk, {newKV * hd, in},
                      takeRowBlocks(*k, in, keptKV, hd));
      setPrunedWeight(module, wv, {newKV * hd, in},
                      takeRowBlocks(*v, in, keptKV, hd));
    }
    for (Site &site : sites) {
      site.q.getResult().setType(withWidth(site.q, newHeads * hd));
      site.qRope.getResult().setType(withWidth(site.q, newHeads * hd));
      site.k.getResult().setType(withWidth(site.k, newKV * hd));
      site.kRope.getResult().setType(withWidth(site.k, newKV * hd));
      site.v.getResult().setType(withWidth(site.v, newKV * hd));
      site.attention.getResult().setType(withWidth(site.q, newHeads * hd));
      site.attention.setHeads(newHeads);
      site.attention.setKvHeads(newKV);
    }
    numHeads += heads - newHeads;
    numKVHeads += kv - newKV;
    return success();
  }

  /// Gives every KV cache the width its attention ops now read. The caches
  /// are entry-point arguments, so the function types change with them.
  LogicalResult narrowCaches(ModuleOp module) {
    WalkResult walk = module.walk([&](tlm::AttentionOp attention) {
      for (Value cache : {attention.getKeyCache(), attention.getValueCache()}) {
        auto type = cast<MemRefType>(cache.getType());
        int64_t width = attention.getKvHeads() * attention.getHeadDim();
        if (type.getDimSize(2) == width)
          continue;
        auto arg = dyn_cast<BlockArgument>(cache);
        auto fn = arg ? dyn_cast<func::FuncOp>(arg.getOwner()->getParentOp())
                      : func::FuncOp();
        if (!fn || arg.getOwner() != &fn.getBody().front()) {
          attention.emitError("compress-prune-heads: removing KV heads needs "
                              "the KV caches to be entry-point arguments");
          return WalkResult::interrupt();
        }
        auto shape = llvm::to_vector(type.getShape());
        shape[2] = width;
        arg.setType(MemRefType::get(shape, type.getElementType()));
        fn.setType(FunctionType::get(fn.getContext(),
                                     fn.getBody().front().getArgumentTypes(),
                                     fn.getResultTypes()));
      }
      return WalkResult::advance();
    });
    return failure(walk.wasInterrupted());
  }
};

} // namespace
