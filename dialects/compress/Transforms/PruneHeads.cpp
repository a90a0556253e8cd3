//===- PruneHeads.cpp - structured pruning of attention heads -------*- C++ -*-===//
//
// A query head is head_dim rows of Wq and head_dim columns of Wo; removing
// it removes exactly its contribution to the attention output. The same
// number goes from every KV group, so each remaining query head still reads
// KV head h / (heads / kv_heads) and the cache keeps its shape.
//
//===----------------------------------------------------------------------===//

#include "dialects/compress/Transforms/LinearUses.h"
#include "dialects/compress/Transforms/Passes.h"
#include "dialects/tlm/IR/TLMOps.h"
#include "dialects/tlm/IR/WeightStore.h"

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

tlm::WeightOp weightOf(Value linearResult) {
  auto linear = linearResult.getDefiningOp<tlm::LinearOp>();
  if (!linear)
    return {};
  auto ref = linear.getWeight().getDefiningOp<tlm::WeightRefOp>();
  if (!ref)
    return {};
  return SymbolTable::lookupNearestSymbolFrom<tlm::WeightOp>(ref,
                                                             ref.getNameAttr());
}

struct Site {
  tlm::AttentionOp attention;
  tlm::RoPEOp rope;
  tlm::LinearOp q, o;
};

struct CompressPruneHeadsPass
    : mlir::compress::impl::CompressPruneHeadsBase<CompressPruneHeadsPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    // Each layer's attention sites (one per entry point), by Wq.
    llvm::MapVector<Operation *, SmallVector<Site>> layers;
    module.walk([&](tlm::AttentionOp attention) {
      auto rope = attention.getQuery().getDefiningOp<tlm::RoPEOp>();
      auto q = rope ? rope.getInput().getDefiningOp<tlm::LinearOp>()
                    : tlm::LinearOp();
      if (!q || !attention->hasOneUse())
        return;
      auto o = dyn_cast<tlm::LinearOp>(*attention->getUsers().begin());
      tlm::WeightOp wq = weightOf(q.getResult());
      if (!o || !wq || !weightOf(o.getResult()))
        return;
      layers[wq].push_back({attention, rope, q, o});
    });
    for (auto &[key, sites] : layers)
      if (failed(prune(module, sites)))
        return signalPassFailure();
  }

  LogicalResult prune(ModuleOp module, MutableArrayRef<Site> sites) {
    Site &s = sites.front();
    int64_t heads = s.attention.getHeads(), kvHeads = s.attention.getKvHeads();
    int64_t hd = s.attention.getHeadDim(), group = heads / kvHeads;
    if (perGroup <= 0 || perGroup >= group)
      return module.emitError("compress-prune-heads: per-group must be in "
                              "[1, ")
             << group - 1 << "] for groups of " << group << " heads";
    tlm::WeightOp wq = weightOf(s.q.getResult()), wo = weightOf(s.o.getResult());
    auto q = tlm::decodeWeightToF32(wq), o = tlm::decodeWeightToF32(wo);
    if (failed(q) || failed(o))
      return failure();
    int64_t in = wq.getTensorType().getDimSize(1);
    int64_t out = wo.getTensorType().getDimSize(0);
    int64_t width = heads * hd;
    if (wq.getTensorType().getDimSize(0) != width ||
        wo.getTensorType().getDimSize(1) != width)
      return success();
    std::vector<double> importance(heads, 0.0);
    for (int64_t h = 0; h < heads; ++h) {
      double nq = 0, no = 0;
      for (int64_t r = h * hd; r < (h + 1) * hd; ++r)
        for (int64_t k = 0; k < in; ++k)
          nq += double((*q)[r * in + k]) * (*q)[r * in + k];
      for (int64_t r = 0; r < out; ++r)
        for (int64_t c = h * hd; c < (h + 1) * hd; ++c)
          no += double((*o)[r * width + c]) * (*o)[r * width + c];
      importance[h] = std::sqrt(nq) * std::sqrt(no);
    }
    std::vector<int64_t> kept;
    for (int64_t g = 0; g < kvHeads; ++g) {
      std::vector<int64_t> members(group);
      std::iota(members.begin(), members.end(), g * group);
      llvm::sort(members, [&](int64_t a, int64_t b) {
        return importance[a] != importance[b] ? importance[a] > importance[b]
                                              : a < b;
      });
      members.resize(group - perGroup);
      llvm::sort(members);
      kept.insert(kept.end(), members.begin(), members.end());
    }
    int64_t newHeads = kept.size(), newWidth = newHeads * hd;
    std::vector<float> nq(newWidth * in), no(out * newWidth);
    for (int64_t i = 0; i < newHeads; ++i)
      for (int64_t d = 0; d < hd; ++d) {
        int64_t from = kept[i] * hd + d, to = i * hd + d;
        std::copy_n(q->begin() + from * in, in, nq.begin() + to * in);
        for (int64_t r = 0; r < out; ++r)
          no[r * newWidth + to] = (*o)[r * width + from];
      }
    setWeight(wq, {newWidth, in}, nq);
    setWeight(wo, {out, newWidth}, no);
    for (Site &site : sites) {
      int64_t rows = site.q.getType().getDimSize(0);
      auto narrowed = RankedTensorType::get({rows, newWidth},
                                            site.q.getType().getElementType());
      site.q.getResult().setType(narrowed);
      site.rope.getResult().setType(narrowed);
      site.attention.getResult().setType(narrowed);
      site.attention.setHeads(newHeads);
      site.q.getWeight().setType(wq.getTensorType());
      site.o.getWeight().setType(wo.getTensorType());
    }
    numHeads += heads - newHeads;
    return success();
  }

  void setWeight(tlm::WeightOp weight, ArrayRef<int64_t> shape,
                 const std::vector<float> &values) {
    OpBuilder b(weight);
    auto type = RankedTensorType::get(shape, b.getF32Type());
    int64_t before = weight.getStorageBytes();
    if (auto earlier = weight->getAttrOfType<IntegerAttr>(kFloatBytesAttr))
      before = earlier.getInt();
    weight.setType(type);
    weight.removeEncodingAttr();
    weight.setValueAttr(makeBlob(
        type, (weight.getSymName() + ".pruned").str(),
        ArrayRef<char>(reinterpret_cast<const char *>(values.data()),
                       values.size() * sizeof(float))));
    weight->setAttr(kFloatBytesAttr, b.getI64IntegerAttr(before));
  }
};

} // namespace
