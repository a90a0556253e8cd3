//===- LowRankSVD.cpp - factor linear weights by truncated SVD -------*- C++ -*-===//

#include "dialects/compress/Transforms/LinearUses.h"
#include "dialects/compress/Transforms/Passes.h"
#include "dialects/tlm/IR/TLMOps.h"
#include "dialects/tlm/IR/WeightStore.h"

#include "mlir/IR/Builders.h"
#include "llvm/Support/Regex.h"

#include <cmath>
#include <numeric>

namespace mlir::compress {
#define GEN_PASS_DEF_COMPRESSLOWRANK
#include "dialects/compress/Transforms/Passes.h.inc"
} // namespace mlir::compress

using namespace mlir;
using namespace mlir::compress;

namespace {

/// Thin SVD of the rows x cols matrix `a` (row-major) by one-sided Jacobi:
/// rotate column pairs until all are orthogonal. Returns singular values
/// (descending) with U (rows x n) and V (cols x n), n = min(rows, cols),
/// both column-major per singular vector.
struct SVD {
  std::vector<double> sigma, u, v; // u: n vectors of `rows`; v: n of `cols`
};

SVD computeSVD(const std::vector<float> &a, int64_t rows, int64_t cols) {
  // Work on the transpose when wide, so that columns are the short side.
  bool transposed = cols > rows;
  int64_t m = transposed ? cols : rows, n = transposed ? rows : cols;
  std::vector<double> A(m * n), V(n * n, 0.0); // column j: A[j*m .. ]
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j)
      A[j * m + i] = transposed ? a[j * cols + i] : a[i * cols + j];
  for (int64_t j = 0; j < n; ++j)
    V[j * n + j] = 1.0;
  for (int sweep = 0; sweep < 60; ++sweep) {
    double off = 0;
    for (int64_t p = 0; p < n; ++p)
      for (int64_t q = p + 1; q < n; ++q) {
        double alpha = 0, beta = 0, gamma = 0;
        for (int64_t i = 0; i < m; ++i) {
          alpha += A[p * m + i] * A[p * m + i];
          beta += A[q * m + i] * A[q * m + i];
          gamma += A[p * m + i] * A[q * m + i];
        }
        if (std::fabs(gamma) <= 1e-15 * std::sqrt(alpha * beta))
          continue;
        off = std::max(off, std::fabs(gamma) / std::sqrt(alpha * beta));
        double zeta = (beta - alpha) / (2 * gamma);
        double t = (zeta >= 0 ? 1.0 : -1.0) /
                   (std::fabs(zeta) + std::sqrt(1 + zeta * zeta));
        double c = 1 / std::sqrt(1 + t * t), s = c * t;
        for (int64_t i = 0; i < m; ++i) {
          double x = A[p * m + i], y = A[q * m + i];
          A[p * m + i] = c * x - s * y;
          A[q * m + i] = s * x + c * y;
        }
        for (int64_t i = 0; i < n; ++i) {
          double x = V[p * n + i], y = V[q * n + i];
          V[p * n + i] = c * x - s * y;
          V[q * n + i] = s * x + c * y;
        }
      }
    if (off < 1e-12)
      break;
  }
  std::vector<double> sigma(n);
  for (int64_t j = 0; j < n; ++j) {
    double norm = 0;
    for (int64_t i = 0; i < m; ++i)
      norm += A[j * m + i] * A[j * m + i];
    sigma[j] = std::sqrt(norm);
  }
  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  llvm::sort(order, [&](int64_t x, int64_t y) { return sigma[x] > sigma[y]; });
  SVD out;
  for (int64_t j : order) {
    out.sigma.push_back(sigma[j]);
    // Left vectors: A's normalized columns (length m); right: V's (n).
    std::vector<double> left(m), right(V.begin() + j * n, V.begin() + (j + 1) * n);
    for (int64_t i = 0; i < m; ++i)
      left[i] = sigma[j] > 0 ? A[j * m + i] / sigma[j] : 0.0;
    auto &uDst = transposed ? out.v : out.u; // transposed: swap roles
    auto &vDst = transposed ? out.u : out.v;
    uDst.insert(uDst.end(), left.begin(), left.end());
    vDst.insert(vDst.end(), right.begin(), right.end());
  }
  return out;
}

struct CompressLowRankPass
    : mlir::compress::impl::CompressLowRankBase<CompressLowRankPass> {
  using Base::Base;

  bool kept(StringRef name) {
    for (const std::string &pattern : keep)
      if (llvm::Regex("^(" + pattern + ")$").match(name))
        return true;
    return false;
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if ((energy > 0) == (ratio > 0) || energy >= 1.0 || ratio >= 1.0) {
      module.emitError("compress-lowrank: give one of energy or ratio, in "
                       "(0, 1)");
      return signalPassFailure();
    }
    for (auto weight :
         llvm::make_early_inc_range(module.getOps<tlm::WeightOp>())) {
      if (weight.getTensorType().getRank() != 2 || kept(weight.getSymName()))
        continue;
      auto linears = getLinearUses(weight, module);
      if (failed(linears) || linears->empty())
        continue;
      if (failed(factor(weight, *linears)))
        return signalPassFailure();
    }
  }

  LogicalResult factor(tlm::WeightOp weight, ArrayRef<tlm::LinearOp> linears) {
    auto values = tlm::decodeWeightToF32(weight);
    if (failed(values))
      return failure();
    int64_t rows = weight.getTensorType().getDimSize(0);
    int64_t cols = weight.getTensorType().getDimSize(1);
    SVD svd = computeSVD(*values, rows, cols);
    int64_t n = int64_t(svd.sigma.size());
    int64_t rank = n;
    if (energy > 0) {
      double total = 0, kept = 0;
      for (double s : svd.sigma)
        total += s * s;
      for (rank = 0; rank < n && kept < energy * total; ++rank)
        kept += svd.sigma[rank] * svd.sigma[rank];
    } else {
      rank = int64_t(std::floor(ratio * double(rows * cols) / double(rows + cols)));
    }
    rank = std::max<int64_t>(rank, 1);
    if (rank * (rows + cols) >= rows * cols) {
      ++numSkipped; // a factorization this accurate saves nothing
      return success();
    }
    // U' = U_r diag(s) (rows x rank), V' = V_r^T (rank x cols).
    std::vector<float> u(rows * rank), v(rank * cols);
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t r = 0; r < rank; ++r)
        u[i * rank + r] = float(svd.u[r * rows + i] * svd.sigma[r]);
    for (int64_t r = 0; r < rank; ++r)
      for (int64_t j = 0; j < cols; ++j)
        v[r * cols + j] = float(svd.v[r * cols + j]);
    double err = 0, norm = 0;
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < cols; ++j) {
        double approx = 0;
        for (int64_t r = 0; r < rank; ++r)
          approx += double(u[i * rank + r]) * v[r * cols + j];
        double w = (*values)[i * cols + j];
        err += (w - approx) * (w - approx);
        norm += w * w;
      }

    OpBuilder b(weight);
    std::string name = weight.getSymName().str();
    auto declare = [&](StringRef suffix, ArrayRef<int64_t> shape,
                       const std::vector<float> &data) {
      auto type = RankedTensorType::get(shape, b.getF32Type());
      auto blob = makeBlob(type, name + suffix.str(),
                           ArrayRef<char>(reinterpret_cast<const char *>(data.data()),
                                          data.size() * sizeof(float)));
      auto w = tlm::WeightOp::create(b, weight.getLoc(), name + suffix.str(),
                                     type, tlm::WeightEncodingAttr(), blob);
      w->setAttr(kRankAttr, b.getI64IntegerAttr(rank));
      return w;
    };
    auto vWeight = declare(".v", {rank, cols}, v);
    auto uWeight = declare(".u", {rows, rank}, u);
    // The factors together stand for W's bytes and error in the report.
    int64_t before = weight.getStorageBytes();
    if (auto earlier = weight->getAttrOfType<IntegerAttr>(kFloatBytesAttr))
      before = earlier.getInt();
    uWeight->setAttr(kFloatBytesAttr, b.getI64IntegerAttr(before));
    vWeight->setAttr(kFloatBytesAttr, b.getI64IntegerAttr(0));
    uWeight->setAttr(kRelativeErrorAttr,
                     b.getF64FloatAttr(norm > 0 ? std::sqrt(err / norm) : 0.0));

    for (tlm::LinearOp linear : linears) {
      OpBuilder lb(linear);
      Location loc = linear.getLoc();
      int64_t tokens = linear.getType().getDimSize(0);
      Value vRef = tlm::WeightRefOp::create(lb, loc, vWeight.getTensorType(),
                                            vWeight.getSymName());
      Value uRef = tlm::WeightRefOp::create(lb, loc, uWeight.getTensorType(),
                                            uWeight.getSymName());
      Value inner = tlm::LinearOp::create(
          lb, loc, RankedTensorType::get({tokens, rank}, lb.getF32Type()),
          linear.getInput(), vRef);
      Value outer =
          tlm::LinearOp::create(lb, loc, linear.getType(), inner, uRef);
      Operation *ref = linear.getWeight().getDefiningOp();
      linear.replaceAllUsesWith(outer);
      linear.erase();
      if (ref->use_empty())
        ref->erase();
    }
    weight.erase();
    ++numFactored;
    return success();
  }
};

} // namespace
