//===- PruneSparse.cpp - magnitude pruning into CSR weights -----------*- C++ -*-===//

#include "dialects/compress/Transforms/LinearUses.h"
#include "dialects/compress/Transforms/Passes.h"
#include "dialects/tlm/IR/WeightStore.h"

#include "mlir/IR/Builders.h"
#include "llvm/Support/Regex.h"

#include <cmath>
#include <numeric>

namespace mlir::compress {
#define GEN_PASS_DEF_COMPRESSPRUNESPARSE
#include "dialects/compress/Transforms/Passes.h.inc"
} // namespace mlir::compress

using namespace mlir;
using namespace mlir::compress;

namespace {

struct CompressPruneSparsePass
    : mlir::compress::impl::CompressPruneSparseBase<CompressPruneSparsePass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    bool nm = mode == "nm";
    if ((!nm && mode != "unstructured") ||
        (!nm && !(sparsity > 0 && sparsity < 1)) ||
        (nm && !(n > 0 && n < m))) {
      module.emitError("compress-prune-sparse: expected mode=unstructured "
                       "with 0 < sparsity < 1, or mode=nm with 0 < n < m");
      return signalPassFailure();
    }
    for (auto weight :
         llvm::make_early_inc_range(module.getOps<tlm::WeightOp>())) {
      if (weight.getTensorType().getRank() != 2)
        continue;
      bool kept = false;
      for (const std::string &pattern : keep)
        kept |= llvm::Regex("^(" + pattern + ")$").match(weight.getSymName());
      auto linears = getLinearUses(weight, module);
      if (kept || failed(linears) || linears->empty())
        continue;
      int64_t cols = weight.getTensorType().getDimSize(1);
      // N:M groups M consecutive inputs; a width M does not divide would
      // leave the weight dense while the user asked for N:M: refuse.
      if (nm && cols % m != 0) {
        weight.emitError("compress-prune-sparse: '")
            << weight.getSymName() << "' has " << cols
            << " input features, not a multiple of M = " << int64_t(m)
            << "; N:M needs M to divide the width of every weight it prunes "
               "(--keep the others)";
        return signalPassFailure();
      }
      if (cols > 32767)
        continue;
      auto values = tlm::decodeWeightToF32(weight);
      if (failed(values))
        return signalPassFailure();
      prune(weight, *values, nm, *linears);
    }
  }

  void prune(tlm::WeightOp weight, const std::vector<float> &w, bool nm,
             ArrayRef<tlm::LinearOp> linears) {
    int64_t rows = weight.getTensorType().getDimSize(0);
    int64_t cols = weight.getTensorType().getDimSize(1);
    std::vector<bool> keepMask(w.size(), false);
    if (nm) {
      std::vector<int64_t> idx(m);
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t g = 0; g < cols; g += m) {
          std::iota(idx.begin(), idx.end(), r * cols + g);
          llvm::sort(idx, [&](int64_t a, int64_t b) {
            return std::fabs(w[a]) != std::fabs(w[b])
                       ? std::fabs(w[a]) > std::fabs(w[b])
                       : a < b;
          });
          for (int64_t i = 0; i < n; ++i)
            keepMask[idx[i]] = true;
        }
    } else {
      std::vector<int64_t> order(w.size());
      std::iota(order.begin(), order.end(), 0);
      llvm::sort(order, [&](int64_t a, int64_t b) {
        return std::fabs(w[a]) != std::fabs(w[b])
                   ? std::fabs(w[a]) > std::fabs(w[b])
                   : a < b;
      });
      int64_t keepCount = int64_t(std::llround((1.0 - sparsity) * w.size()));
      for (int64_t i = 0; i < keepCount; ++i)
        keepMask[order[i]] = true;
    }
    std::vector<float> values;
    std::vector<int16_t> columns;
    std::vector<int32_t> offsets{0};
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t c = 0; c < cols; ++c)
        if (keepMask[r * cols + c]) {
          values.push_back(w[r * cols + c]);
          columns.push_back(int16_t(c));
        }
      offsets.push_back(int32_t(values.size()));
    }
    double err = 0, norm = 0;
    for (size_t i = 0; i < w.size(); ++i) {
      norm += double(w[i]) * w[i];
      if (!keepMask[i])
        err += double(w[i]) * w[i];
    }
    OpBuilder b(weight);
    std::string name = weight.getSymName().str();
    auto bytes = [](const auto &v) {
      return ArrayRef<char>(reinterpret_cast<const char *>(v.data()),
                            v.size() * sizeof(v[0]));
    };
    int64_t nnz = values.size();
    auto sparse = SparseWeightOp::create(
        b, weight.getLoc(), b.getStringAttr(name),
        // The kept values are f32 whatever the dense weight's element type.
        TypeAttr::get(RankedTensorType::get({rows, cols}, b.getF32Type())),
        makeBlob(RankedTensorType::get({nnz}, b.getF32Type()),
                 name + ".values", bytes(values)),
        makeBlob(RankedTensorType::get({nnz}, b.getIntegerType(16)),
                 name + ".columns", bytes(columns)),
        makeBlob(RankedTensorType::get({rows + 1}, b.getIntegerType(32)),
                 name + ".row_offsets", bytes(offsets)));
    int64_t before = weight.getStorageBytes();
    if (auto earlier = weight->getAttrOfType<IntegerAttr>(kFloatBytesAttr))
      before = earlier.getInt();
    sparse->setAttr(kFloatBytesAttr, b.getI64IntegerAttr(before));
    sparse->setAttr(kRelativeErrorAttr,
                    b.getF64FloatAttr(norm > 0 ? std::sqrt(err / norm) : 0.0));
    replaceLinears<SparseLinearOp>(weight, name, linears);
    ++numPruned;
    numRemoved += rows * cols - nnz;
  }
};

} // namespace
