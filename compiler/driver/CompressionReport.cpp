//===- CompressionReport.cpp - what compression cost, per weight ----*- C++ -*-===//

#include "compiler/driver/CompressionReport.h"
#include "dialects/compress/IR/CompressDialect.h"
#include "dialects/compress/Transforms/Passes.h"
#include "dialects/tlm/IR/TLMOps.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"

#include <map>

using namespace tlmc;

/// "blk.3" for "blk.3.attn_q"; the name itself otherwise.
static std::string layerOf(llvm::StringRef name) {
  if (!name.starts_with("blk."))
    return name.str();
  auto [layer, rest] = name.drop_front(4).split('.');
  return ("blk." + layer).str();
}

llvm::json::Object
tlmc::makeCompressionReport(mlir::ModuleOp module, const CompressionOptions &o,
                            llvm::ArrayRef<CompressionStep> steps,
                            const WeightLayout *layout) {
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
      // The layout codegen chose (CSR, or 32-feature blocks on AVX-512).
      int64_t bytes = s.getStorageBytes();
      if (layout && layout->lookup(getBlockValuesSlot(s.getSymName()))) {
        bytes = layout->lookup(getBlockValuesSlot(s.getSymName()))->bytes +
                layout->lookup(getBlockIndicesSlot(s.getSymName()))->bytes;
        scheme += " (blocks)";
      }
      addEntry(op, s.getSymName(), scheme, count, bytes, false);
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
  llvm::json::Array passes;
  for (const CompressionStep &step : steps)
    passes.push_back(
        llvm::json::Object{{"pass", step.pass}, {"changed", step.changed}});
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
