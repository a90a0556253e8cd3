//===- QuantizeWeights.cpp - weights of linear ops to 8 or 4 bits ---*- C++ -*-===//

#include "dialects/compress/IR/QuantizedFormat.h"
#include "dialects/compress/Transforms/LinearUses.h"
#include "dialects/compress/Transforms/Passes.h"
#include "dialects/tlm/IR/TLMOps.h"
#include "dialects/tlm/IR/WeightStore.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Regex.h"

#include <cmath>

namespace mlir::compress {
#define GEN_PASS_DEF_COMPRESSQUANTIZEWEIGHTS
#include "dialects/compress/Transforms/Passes.h.inc"
} // namespace mlir::compress

using namespace mlir;
using namespace mlir::compress;

namespace {

/// Parses "int8", "int4:g32", "int4:g32:asym", "float" (nullopt scheme).
FailureOr<std::optional<QuantizationScheme>> parseScheme(StringRef text) {
  if (text == "float")
    return std::optional<QuantizationScheme>();
  SmallVector<StringRef> parts;
  text.split(parts, ':');
  QuantizationScheme s;
  if (parts[0] == "int8")
    s.bits = 8;
  else if (parts[0] == "int4")
    s.bits = 4;
  else
    return failure();
  for (StringRef p : ArrayRef<StringRef>(parts).drop_front()) {
    if (p == "asym")
      s.symmetric = false;
    else if (p.consume_front("g") && !p.getAsInteger(10, s.groupSize) &&
             s.groupSize > 0)
      continue;
    else
      return failure();
  }
  if (s.bits == 8 && !s.symmetric)
    return failure();
  return std::optional<QuantizationScheme>(s);
}

template <typename T> ArrayRef<char> asBytes(const std::vector<T> &v) {
  return ArrayRef<char>(reinterpret_cast<const char *>(v.data()),
                        v.size() * sizeof(T));
}

struct CompressQuantizeWeightsPass
    : mlir::compress::impl::CompressQuantizeWeightsBase<
          CompressQuantizeWeightsPass> {
  using Base::Base;

  /// The scheme for `name`: overrides first, then keep, then the default.
  /// When it is float, `why` says which option made it so.
  FailureOr<std::optional<QuantizationScheme>> schemeFor(StringRef name,
                                                         std::string &why) {
    for (const std::string &entry : overrides) {
      auto [pattern, scheme] = StringRef(entry).rsplit('=');
      llvm::Regex regex(("^(" + pattern + ")$").str());
      if (!regex.isValid() || scheme.empty()) {
        getOperation().emitError("override '") << entry
                                               << "': expected REGEX=SCHEME";
        return failure();
      }
      if (regex.match(name)) {
        auto parsed = parseScheme(scheme);
        if (failed(parsed))
          getOperation().emitError("override '")
              << entry << "': unknown scheme '" << scheme
              << "' (int8, int4:gN, int4:gN:asym, float)";
        why = "--quantize-override '" + entry + "'";
        return parsed;
      }
    }
    for (const std::string &pattern : keep) {
      llvm::Regex regex("^(" + pattern + ")$");
      if (!regex.isValid()) {
        getOperation().emitError("keep '") << pattern << "': invalid regex";
        return failure();
      }
      if (regex.match(name)) {
        why = "--keep '" + pattern + "'";
        return std::optional<QuantizationScheme>();
      }
    }
    QuantizationScheme s;
    s.bits = int(bits);
    s.groupSize = groupSize;
    s.symmetric = symmetric;
    return std::optional<QuantizationScheme>(s);
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (bits != 8 && bits != 4) {
      module.emitError("compress-quantize-weights: bits must be 8 or 4");
      return signalPassFailure();
    }
    if (method != "rtn" && method != "gptq") {
      module.emitError("compress-quantize-weights: method must be rtn or gptq");
      return signalPassFailure();
    }
    if (bits == 8 && !symmetric) {
      module.emitError("compress-quantize-weights: 8-bit is symmetric only");
      return signalPassFailure();
    }
    for (auto weight :
         llvm::make_early_inc_range(module.getOps<tlm::WeightOp>())) {
      if (weight.getTensorType().getRank() != 2)
        continue;
      std::string why;
      auto scheme = schemeFor(weight.getSymName(), why);
      if (failed(scheme))
        return signalPassFailure();
      OpBuilder b(weight);
      if (!*scheme) {
        weight->setAttr(kKeptInFloatAttr, b.getStringAttr(why));
        continue;
      }
      auto linears = getLinearUses(weight, module);
      if (failed(linears) || linears->empty()) {
        // Read by something else (a tied embedding table).
        weight->setAttr(kKeptInFloatAttr,
                        b.getStringAttr("read by more than products (an "
                                        "embedding lookup)"));
        continue;
      }
      if (failed(quantize(weight, **scheme, *linears)))
        return signalPassFailure();
    }
  }

  LogicalResult quantize(tlm::WeightOp weight, const QuantizationScheme &scheme,
                         ArrayRef<tlm::LinearOp> linears) {
    FailureOr<std::vector<float>> values = tlm::decodeWeightToF32(weight);
    if (failed(values))
      return failure();
    int64_t rows = weight.getTensorType().getDimSize(0);
    int64_t cols = weight.getTensorType().getDimSize(1);
    QuantizedMatrix q;
    auto hessian = weight->getAttrOfType<DenseResourceElementsAttr>(kHessianAttr);
    std::optional<QuantizedMatrix> gptq;
    if (method == "gptq" && hessian) {
      AsmResourceBlob *blob = hessian.getRawHandle().getBlob();
      if (!blob || hessian.getType() !=
                       RankedTensorType::get({cols, cols},
                                             Float64Type::get(&getContext())))
        return weight.emitOpError("compress.hessian must be tensor<")
               << cols << "x" << cols << "xf64>";
      ArrayRef<char> data = blob->getData();
      gptq = quantizeGPTQ(*values, rows, cols, scheme,
                          ArrayRef<double>(
                              reinterpret_cast<const double *>(data.data()),
                              data.size() / sizeof(double)),
                          damping);
    }
    q = gptq ? std::move(*gptq) : compress::quantize(*values, rows, cols, scheme);
    std::vector<float> restored = dequantize(q);
    double err = 0, norm = 0;
    for (size_t i = 0; i < restored.size(); ++i) {
      double d = double((*values)[i]) - restored[i];
      err += d * d;
      norm += double((*values)[i]) * (*values)[i];
    }
    double relative = norm > 0 ? std::sqrt(err / norm) : 0.0;

    OpBuilder b(weight);
    Type i8 = b.getIntegerType(8), f32 = b.getF32Type();
    std::string name = weight.getSymName().str();
    auto valuesAttr = makeBlob(RankedTensorType::get({rows, q.rowBytes}, i8),
                               name + ".values", asBytes(q.values));
    auto scalesAttr = makeBlob(RankedTensorType::get({rows, q.groups}, f32),
                               name + ".scales", asBytes(q.scales));
    ElementsAttr zerosAttr;
    if (!scheme.symmetric)
      zerosAttr = makeBlob(RankedTensorType::get({rows, q.groups}, i8),
                           name + ".zeros", asBytes(q.zeros));
    auto quantized = QuantizedWeightOp::create(
        b, weight.getLoc(), b.getStringAttr(name),
        TypeAttr::get(RankedTensorType::get({rows, cols}, f32)),
        b.getI64IntegerAttr(q.bits), b.getI64IntegerAttr(q.groupSize),
        b.getBoolAttr(q.symmetric), valuesAttr, scalesAttr, zerosAttr);
    // A pruned weight remembers its size before pruning.
    int64_t before = weight.getStorageBytes();
    if (auto earlier = weight->getAttrOfType<IntegerAttr>(kFloatBytesAttr))
      before = earlier.getInt();
    quantized->setAttr(kFloatBytesAttr, b.getI64IntegerAttr(before));
    quantized->setAttr(kRelativeErrorAttr, b.getF64FloatAttr(relative));
    if (Attribute rank = weight->getAttr(kRankAttr)) // a low-rank factor
      quantized->setAttr(kRankAttr, rank);
    // What the format made of the scheme asked for.
    SmallVector<std::string> adjusted;
    if (scheme.groupSize > 0 && q.groupSize < scheme.groupSize)
      adjusted.push_back(llvm::formatv("groups of {0}, not {1}: the rows "
                                       "have only {0} columns",
                                       q.groupSize, scheme.groupSize));
    else if (cols % q.groupSize)
      adjusted.push_back(llvm::formatv("the last group of each row has {0} "
                                       "columns, not {1}",
                                       cols % q.groupSize, q.groupSize));
    if (!adjusted.empty())
      quantized->setAttr(kAdjustedAttr,
                         b.getStringAttr(llvm::join(adjusted, "; ")));

    replaceLinears<QuantizedLinearOp>(weight, quantized.getSymName(), linears);
    ++numQuantized;
    floatBytes += before;
    quantizedBytes += quantized.getStorageBytes();
    return success();
  }
};

} // namespace
