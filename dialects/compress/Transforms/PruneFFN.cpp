//===- PruneFFN.cpp - structured pruning of FFN channels -------------*- C++
//-*-===//
//
// A gated block's (SwiGLU's, GeGLU's) channel c is row c of gate and up and
// column c of down, since the activation is elementwise;
// removing it removes exactly its contribution, so the block stays a dense
// block, only narrower. The three weights are rewritten in place (same
// names), and every op that carries the channel count in its type follows.
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
#define GEN_PASS_DEF_COMPRESSPRUNEFFN
#include "dialects/compress/Transforms/Passes.h.inc"
} // namespace mlir::compress

using namespace mlir;
using namespace mlir::compress;

namespace {

struct Block {
  tlm::WeightOp gate, up, down;
};

struct CompressPruneFFNPass
    : mlir::compress::impl::CompressPruneFFNBase<CompressPruneFFNPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (!(ratio >= 0.0 && ratio < 1.0)) {
      module.emitError("compress-prune-ffn: ratio must be in [0, 1)");
      return signalPassFailure();
    }
    // An ungated block (GPT-2's up -> gelu -> down, with biases) would need
    // its biases pruned too: refused rather than skipped.
    WalkResult ungated = module.walk([&](tlm::GELUOp gelu) {
      gelu.emitError("compress-prune-ffn: ungated feed-forward blocks (GPT-2's "
                     "gelu between biased projections) are not supported");
      return WalkResult::interrupt();
    });
    if (ungated.wasInterrupted())
      return signalPassFailure();
    // The blocks, by their weights (each function has its own ops).
    llvm::MapVector<Operation *, Block> blocks;
    module.walk([&](Operation *act) {
      if (!isa<tlm::SwiGLUOp, tlm::GeGLUOp>(act))
        return;
      // (gate, up) -> activation -> down
      auto gate = act->getOperand(0).getDefiningOp<tlm::LinearOp>();
      auto up = act->getOperand(1).getDefiningOp<tlm::LinearOp>();
      if (!gate || !up || !act->hasOneUse())
        return;
      auto down = dyn_cast<tlm::LinearOp>(*act->getUsers().begin());
      if (!down || down.getInput() != act->getResult(0))
        return;
      Block b{getLinearWeight(gate), getLinearWeight(up),
              getLinearWeight(down)};
      if (b.gate && b.up && b.down)
        blocks[b.gate] = b;
    });
    for (auto &[key, block] : blocks)
      if (failed(prune(module, block)))
        return signalPassFailure();
  }

  LogicalResult prune(ModuleOp module, Block block) {
    auto g = tlm::decodeWeightToF32(block.gate);
    auto u = tlm::decodeWeightToF32(block.up);
    auto d = tlm::decodeWeightToF32(block.down);
    if (failed(g) || failed(u) || failed(d))
      return failure();
    int64_t channels = block.gate.getTensorType().getDimSize(0);
    int64_t in = block.gate.getTensorType().getDimSize(1);
    int64_t out = block.down.getTensorType().getDimSize(0);
    if (block.up.getTensorType().getDimSize(0) != channels ||
        block.down.getTensorType().getDimSize(1) != channels)
      return success(); // not a shape this pass understands
    int64_t keep = channels - int64_t(std::floor(ratio * channels));
    if (keep == channels || keep < 1)
      return success();

    std::vector<double> importance(channels);
    for (int64_t c = 0; c < channels; ++c) {
      double ng = 0, nu = 0, nd = 0;
      for (int64_t k = 0; k < in; ++k) {
        ng += double((*g)[c * in + k]) * (*g)[c * in + k];
        nu += double((*u)[c * in + k]) * (*u)[c * in + k];
      }
      for (int64_t r = 0; r < out; ++r)
        nd += double((*d)[r * channels + c]) * (*d)[r * channels + c];
      importance[c] = std::sqrt(ng) * std::sqrt(nu) * std::sqrt(nd);
    }
    std::vector<int64_t> order(channels);
    std::iota(order.begin(), order.end(), 0);
    llvm::sort(order, [&](int64_t a, int64_t b) {
      return importance[a] != importance[b] ? importance[a] > importance[b]
                                            : a < b;
    });
    order.resize(keep);
    llvm::sort(order); // keep the survivors in their original order

    std::vector<float> ng(keep * in), nu(keep * in), nd(out * keep);
    for (int64_t i = 0; i < keep; ++i)
      for (int64_t k = 0; k < in; ++k) {
        ng[i * in + k] = (*g)[order[i] * in + k];
        nu[i * in + k] = (*u)[order[i] * in + k];
      }
    for (int64_t r = 0; r < out; ++r)
      for (int64_t i = 0; i < keep; ++i)
        nd[r * keep + i] = (*d)[r * channels + order[i]];

    replaceWeight(module, block.gate, {keep, in}, ng);
    replaceWeight(module, block.up, {keep, in}, nu);
    replaceWeight(module, block.down, {out, keep}, nd);
    numChannels += channels - keep;
    ++numBlocks;
    return success();
  }

  /// Rewrites `weight` as a weight of `shape` holding `values`, and
  /// retypes every linear and gated activation that carries its shape.
  void replaceWeight(ModuleOp module, tlm::WeightOp weight,
                     ArrayRef<int64_t> shape,
                     const std::vector<float> &values) {
    setPrunedWeight(module, weight, shape, values);
    auto uses = SymbolTable::getSymbolUses(weight, module);
    for (const SymbolTable::SymbolUse &use : *uses) {
      for (Operation *user : use.getUser()->getUsers()) {
        auto linear = cast<tlm::LinearOp>(user);
        auto result = linear.getType();
        auto retyped = RankedTensorType::get({result.getDimSize(0), shape[0]},
                                             result.getElementType());
        linear.getResult().setType(retyped);
        for (Operation *next : linear->getUsers())
          if (isa<tlm::SwiGLUOp, tlm::GeGLUOp>(next))
            next->getResult(0).setType(retyped);
      }
    }
  }
};

} // namespace
