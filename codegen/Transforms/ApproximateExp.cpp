//===- ApproximateExp.cpp - math.exp as a vectorizable polynomial ---------===//

#include "codegen/Passes.h"

#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace tlmc {
#define GEN_PASS_DEF_TLMAPPROXIMATEEXP
#include "codegen/Passes.h.inc"
} // namespace tlmc

using namespace mlir;

namespace {

struct TLMApproximateExpPass
    : tlmc::impl::TLMApproximateExpBase<TLMApproximateExpPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateMathPolynomialApproximationPatterns(
        patterns, [](StringRef name) { return name == math::ExpOp::getOperationName(); });
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
