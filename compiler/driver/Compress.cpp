//===- Compress.cpp - compression options, passes and the report ----*- C++ -*-===//

#include "compiler/driver/Compress.h"
#include "compiler/driver/Calibrate.h"
#include "dialects/compress/Transforms/LinearUses.h"
#include "dialects/compress/IR/CompressDialect.h"
#include "dialects/compress/Transforms/Passes.h"
#include "dialects/tlm/IR/TLMOps.h"

#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"

#include <map>

using namespace tlmc;

static llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// Attaches each calibration Hessian to the weight of that name.
static llvm::Error attachHessians(mlir::ModuleOp module,
                                  const ImportedModel &model,
                                  llvm::StringRef text) {
  auto hessians = collectHessians(model, text);
  if (!hessians)
    return hessians.takeError();
  for (auto weight : module.getOps<mlir::tlm::WeightOp>()) {
    auto it = hessians->find(weight.getSymName());
    if (it == hessians->end())
      continue;
    int64_t k = weight.getTensorType().getDimSize(1);
    if (int64_t(it->second.size()) != k * k)
      continue;
    auto type = mlir::RankedTensorType::get(
        {k, k}, mlir::Float64Type::get(module.getContext()));
    weight->setAttr(mlir::compress::kHessianAttr,
                    mlir::compress::makeBlob(
                        type, (weight.getSymName() + ".hessian").str(),
                        llvm::ArrayRef<char>(
                            reinterpret_cast<const char *>(it->second.data()),
                            it->second.size() * sizeof(double))));
  }
  return llvm::Error::success();
}

llvm::Error tlmc::compressModule(mlir::ModuleOp module,
                                 const ImportedModel &model,
                                 const CompressionOptions &options) {
  // GGUF block weights compute in their own format, always.
  {
    mlir::PassManager pm(module.getContext());
    pm.addPass(mlir::compress::createCompressAdoptGGMLBlocks());
    if (mlir::failed(pm.run(module)))
      return makeError("adopting GGUF block weights failed");
  }
  // Prune first, then quantize what is left.
  if (!options.prune.empty()) {
    llvm::StringRef spec = options.prune;
    mlir::PassManager pm(module.getContext());
    double ratio = 0;
    int64_t n = 0, m = 0;
    if (spec.consume_front("heads:")) {
      int64_t heads = 0, kv = model.config.kvHeads;
      if (spec.getAsInteger(10, heads) || heads <= 0 || heads % kv != 0 ||
          heads >= model.config.heads)
        return makeError(llvm::formatv(
            "--prune=heads:N removes N query heads per layer, the same number "
            "from each of the {0} KV groups: N must be a multiple of {0} below "
            "{1}",
            kv, model.config.heads));
      mlir::compress::CompressPruneHeadsOptions p;
      p.perGroup = heads / kv;
      pm.addPass(mlir::compress::createCompressPruneHeads(p));
    } else if (spec.consume_front("ffn:")) {
      if (spec.getAsDouble(ratio) || !(ratio >= 0 && ratio < 1))
        return makeError("--prune=ffn:R needs 0 <= R < 1");
      mlir::compress::CompressPruneFFNOptions p;
      p.ratio = ratio;
      pm.addPass(mlir::compress::createCompressPruneFFN(p));
    } else if (spec.consume_front("unstructured:")) {
      if (spec.getAsDouble(ratio) || !(ratio > 0 && ratio < 1))
        return makeError("--prune=unstructured:S needs 0 < S < 1");
      mlir::compress::CompressPruneSparseOptions p;
      p.mode = "unstructured";
      p.sparsity = ratio;
      p.keep.assign(options.keep.begin(), options.keep.end());
      pm.addPass(mlir::compress::createCompressPruneSparse(p));
    } else if (auto [a, b] = spec.split(':');
               !a.getAsInteger(10, n) && !b.getAsInteger(10, m) && n > 0 &&
               n < m) {
      mlir::compress::CompressPruneSparseOptions p;
      p.mode = "nm";
      p.n = n;
      p.m = m;
      p.keep.assign(options.keep.begin(), options.keep.end());
      pm.addPass(mlir::compress::createCompressPruneSparse(p));
    } else {
      return makeError("--prune='" + options.prune +
                       "': expected unstructured:S, N:M (e.g. 2:4), "
                       "heads:N or ffn:R");
    }
    if (mlir::failed(pm.run(module)))
      return makeError("pruning failed (see the messages above)");
  }
  if (!options.lowrank.empty()) {
    auto [mode, value] = llvm::StringRef(options.lowrank).split(':');
    double x = 0;
    if ((mode != "energy" && mode != "ratio") || value.getAsDouble(x) ||
        !(x > 0 && x < 1))
      return makeError("--lowrank='" + options.lowrank +
                       "': expected energy:E or ratio:R with 0 < E, R < 1");
    mlir::compress::CompressLowRankOptions l;
    (mode == "energy" ? l.energy : l.ratio) = x;
    l.keep.assign(options.keep.begin(), options.keep.end());
    mlir::PassManager pm(module.getContext());
    pm.addPass(mlir::compress::createCompressLowRank(l));
    if (mlir::failed(pm.run(module)))
      return makeError("low-rank factorization failed");
  }
  if (options.quantize.empty())
    return llvm::Error::success();
  mlir::compress::CompressQuantizeWeightsOptions q;
  llvm::SmallVector<llvm::StringRef> parts;
  llvm::StringRef(options.quantize).split(parts, ':');
  bool ok = true;
  if (parts[0] == "int8" && parts.size() == 1) {
    q.bits = 8;
  } else if (parts[0] == "int4" && parts.size() >= 2 && parts.size() <= 3) {
    q.bits = 4;
    llvm::StringRef g = parts[1];
    ok = g.consume_front("g") && !g.getAsInteger(10, q.groupSize) &&
         (q.groupSize == 32 || q.groupSize == 64 || q.groupSize == 128);
    if (parts.size() == 3) {
      ok &= parts[2] == "asym";
      q.symmetric = false;
    }
  } else {
    ok = false;
  }
  if (!ok)
    return makeError("--quantize='" + options.quantize +
                     "': expected int8, int4:g32, int4:g64 or int4:g128, "
                     "optionally :asym for int4");
  if (!options.calibrate.empty()) {
    if (!options.prune.empty() || !options.lowrank.empty())
      return makeError("--calibrate works on the model as imported; it does "
                       "not combine with --prune or --lowrank yet");
    if (auto err = attachHessians(module, model, options.calibrate))
      return err;
    q.method = "gptq";
  }
  q.keep.assign(options.keep.begin(), options.keep.end());
  q.overrides.assign(options.overrides.begin(), options.overrides.end());
  mlir::PassManager pm(module.getContext());
  pm.addPass(mlir::compress::createCompressQuantizeWeights(q));
  if (mlir::failed(pm.run(module)))
    return makeError("quantization failed (see the messages above)");
  return llvm::Error::success();
}

/// "blk.3" for "blk.3.attn_q"; the name itself otherwise.
static std::string layerOf(llvm::StringRef name) {
  if (!name.starts_with("blk."))
    return name.str();
  auto [layer, rest] = name.drop_front(4).split('.');
  return ("blk." + layer).str();
}

llvm::json::Object tlmc::makeCompressionReport(mlir::ModuleOp module,
                                               const CompressionOptions &o) {
  llvm::json::Array weights;
  std::map<std::string, std::pair<int64_t, int64_t>> layers;
  std::vector<std::string> layerOrder;
  int64_t totalBefore = 0, totalAfter = 0, parameters = 0;
  auto account = [&](llvm::StringRef name, int64_t before, int64_t after) {
    std::string layer = layerOf(name);
    if (!layers.count(layer))
      layerOrder.push_back(layer);
    layers[layer].first += before;
    layers[layer].second += after;
    totalBefore += before;
    totalAfter += after;
  };
  // One row of the per-weight table, from the marks the passes left.
  auto addEntry = [&](mlir::Operation &op, llvm::StringRef name,
                      std::string scheme, int64_t count, int64_t bytes,
                      bool ragged) {
    parameters += count;
    auto before =
        op.getAttrOfType<mlir::IntegerAttr>(mlir::compress::kFloatBytesAttr);
    auto error =
        op.getAttrOfType<mlir::FloatAttr>(mlir::compress::kRelativeErrorAttr);
    int64_t floatBytes = before ? before.getInt() : count * 4;
    weights.push_back(llvm::json::Object{
        {"name", name},
        {"scheme", scheme},
        {"float_bytes", floatBytes},
        {"bytes", bytes},
        {"bits_per_weight", double(bytes) * 8 / double(count)},
        {"relative_error", error ? error.getValueAsDouble() : 0.0},
        {"ragged_groups", ragged}});
    account(name, floatBytes, bytes);
  };
  for (mlir::Operation &op : module.getBody()->getOperations()) {
    if (auto w = llvm::dyn_cast<mlir::tlm::WeightOp>(op)) {
      int64_t bytes = w.getStorageBytes();
      parameters += w.getTensorType().getNumElements();
      // A pruned weight remembers its size before.
      auto before = w->getAttrOfType<mlir::IntegerAttr>(
          mlir::compress::kFloatBytesAttr);
      account(w.getSymName(), before ? before.getInt() : bytes, bytes);
      continue;
    }
    if (auto s = llvm::dyn_cast<mlir::compress::SparseWeightOp>(op)) {
      int64_t count = s.getTensorType().getNumElements();
      std::string scheme =
          llvm::formatv("sparse {0:f0}%",
                        100.0 * (1.0 - double(s.getNonZeros()) / double(count)))
              .str();
      addEntry(op, s.getSymName(), scheme, count, s.getStorageBytes(), false);
      continue;
    }
    auto q = llvm::dyn_cast<mlir::compress::QuantizedWeightOp>(op);
    if (!q)
      continue;
    std::string scheme =
        q.getBits() == 8 && int64_t(q.getGroupSize()) == q.getColumns()
            ? "int8"
            : llvm::formatv("int{0}:g{1}{2}", q.getBits(), q.getGroupSize(),
                            q.getSymmetric() ? "" : ":asym")
                  .str();
    addEntry(op, q.getSymName(), scheme, q.getTensorType().getNumElements(),
             q.getStorageBytes(),
             q.getColumns() % int64_t(q.getGroupSize()) != 0);
  }
  // What each step changed, from the marks the passes leave.
  int64_t pruned = 0, factored = 0, adopted = 0;
  for (mlir::Operation &op : module.getBody()->getOperations()) {
    if (op.hasAttr(mlir::compress::kRankAttr))
      factored += llvm::StringRef(llvm::cast<mlir::SymbolOpInterface>(op)
                                      .getName())
                      .ends_with(".u");
    else if (llvm::isa<mlir::tlm::WeightOp>(op) &&
             op.hasAttr(mlir::compress::kFloatBytesAttr))
      ++pruned;
    if (auto q = llvm::dyn_cast<mlir::compress::QuantizedWeightOp>(op))
      if (auto e = q->getAttrOfType<mlir::FloatAttr>(
              mlir::compress::kRelativeErrorAttr);
          e && e.getValueAsDouble() == 0.0)
        ++adopted;
  }
  llvm::json::Array passes;
  auto step = [&](const char *pass, std::string changed) {
    passes.push_back(llvm::json::Object{{"pass", pass}, {"changed", changed}});
  };
  if (adopted)
    step("compress-adopt-ggml-blocks",
         llvm::formatv("{0} GGUF block weights kept as stored", adopted));
  int64_t sparse = 0;
  for (mlir::Operation &op : module.getBody()->getOperations())
    sparse += llvm::isa<mlir::compress::SparseWeightOp>(op);
  if (llvm::StringRef(o.prune).starts_with("ffn:"))
    step("compress-prune-ffn",
         llvm::formatv("{0} FFN weights narrowed", pruned));
  else if (llvm::StringRef(o.prune).starts_with("heads:"))
    step("compress-prune-heads",
         llvm::formatv("{0} q/o projections narrowed", pruned));
  else if (!o.prune.empty())
    step("compress-prune-sparse",
         llvm::formatv("{0} weights stored sparse (CSR)", sparse));
  if (!o.lowrank.empty())
    step("compress-lowrank",
         llvm::formatv("{0} weights factored as U x V", factored));
  if (!o.quantize.empty())
    step("compress-quantize-weights",
         llvm::formatv("{0} weights quantized ({1})", weights.size() - adopted,
                       o.calibrate.empty()
                           ? std::string("round to nearest")
                           : "GPTQ, calibrated on " + o.calibrate));
  llvm::json::Array layerArray;
  for (const std::string &l : layerOrder)
    layerArray.push_back(llvm::json::Object{{"layer", l},
                                            {"float_bytes", layers[l].first},
                                            {"bytes", layers[l].second}});
  return llvm::json::Object{
      {"quantize", o.quantize},
      {"calibrate", o.calibrate},
      {"prune", o.prune},
      {"lowrank", o.lowrank},
      {"keep", llvm::json::Array(o.keep)},
      {"override", llvm::json::Array(o.overrides)},
      {"passes", std::move(passes)},
      {"weights", std::move(weights)},
      {"layers", std::move(layerArray)},
      {"total",
       llvm::json::Object{{"float_bytes", totalBefore},
                          {"bytes", totalAfter},
                          {"parameters", parameters},
                          {"bits_per_weight",
                           parameters ? double(totalAfter) * 8 / parameters
                                      : 0.0}}}};
}

void tlmc::printCompressionReport(llvm::raw_ostream &os,
                                  const llvm::json::Object &report) {
  llvm::SmallVector<std::string> steps;
  for (const char *key : {"prune", "lowrank", "quantize"})
    if (!report.getString(key)->empty())
      steps.push_back((llvm::Twine(key) + " " + *report.getString(key)).str());
  os << "compression report ("
     << (steps.empty() ? std::string("GGUF blocks as stored")
                       : llvm::join(steps, ", "))
     << ")\n";
  os << llvm::formatv("  {0,-22} {1,-14} {2,12} {3,10} {4,7} {5,9}\n",
                      "weight", "scheme", "float bytes", "bytes", "bits/w",
                      "rel.err");
  for (const llvm::json::Value &v : *report.getArray("weights")) {
    const llvm::json::Object &w = *v.getAsObject();
    os << llvm::formatv("  {0,-22} {1,-14} {2,12} {3,10} {4,7:f2} {5,9:f5}\n",
                        *w.getString("name"), *w.getString("scheme"),
                        *w.getInteger("float_bytes"), *w.getInteger("bytes"),
                        *w.getNumber("bits_per_weight"),
                        *w.getNumber("relative_error"));
  }
  for (const llvm::json::Value &v : *report.getArray("passes")) {
    const llvm::json::Object &p = *v.getAsObject();
    os << "  " << *p.getString("pass") << ": " << *p.getString("changed")
       << "\n";
  }
  os << "  per layer (all weights):\n";
  for (const llvm::json::Value &v : *report.getArray("layers")) {
    const llvm::json::Object &l = *v.getAsObject();
    int64_t before = *l.getInteger("float_bytes"), after = *l.getInteger("bytes");
    os << llvm::formatv("  {0,-22} {1,12} -> {2,10}  ({3,5:f1}%)\n",
                        *l.getString("layer"), before, after,
                        before ? 100.0 * after / before : 0.0);
  }
  const llvm::json::Object &t = *report.getObject("total");
  int64_t before = *t.getInteger("float_bytes"), after = *t.getInteger("bytes");
  os << llvm::formatv("  {0,-22} {1,12} -> {2,10}  ({3,5:f1}%), {4:f2} bits "
                      "per weight\n",
                      "total", before, after,
                      before ? 100.0 * after / before : 0.0,
                      *t.getNumber("bits_per_weight"));
  if (const llvm::json::Object *e = report.getObject("eval"))
    os << llvm::formatv(
        "  eval on {0}: perplexity {1:f4} -> {2:f4} ({3:+f2}%), mean KL "
        "{4:f5}, top-1 agreement {5:f2}% over {6} tokens\n",
        *e->getString("text"), *e->getNumber("perplexity_original"),
        *e->getNumber("perplexity_compressed"),
        *e->getNumber("perplexity_change_percent"), *e->getNumber("mean_kl"),
        *e->getNumber("top1_agreement_percent"), *e->getInteger("tokens"));
}
