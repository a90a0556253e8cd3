//===- CompressionReport.cpp - what compression cost, per weight ----*- C++ -*-===//

#include "compiler/driver/CompressionReport.h"
#include "dialects/compress/IR/CompressDialect.h"
#include "dialects/compress/Transforms/Passes.h"
#include "dialects/tlm/IR/TLMOps.h"
#include "dialects/tlm/IR/WeightStore.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"

#include <map>

using namespace tlmc;

/// A float or file-format weight's scheme as the report names it.
static std::string storageScheme(mlir::tlm::StorageFormat format) {
  switch (format) {
  case mlir::tlm::StorageFormat::F32:
    return "f32";
  case mlir::tlm::StorageFormat::F16:
    return "f16";
  case mlir::tlm::StorageFormat::BF16:
    return "bf16";
  case mlir::tlm::StorageFormat::Q8_0:
    return "Q8_0 (file)";
  case mlir::tlm::StorageFormat::Q4_0:
    return "Q4_0 (file)";
  }
  return "?";
}

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
  struct LayerTotals {
    int64_t before = 0, after = 0;
    double worstError = 0;
  };
  std::map<std::string, LayerTotals> layers;
  std::vector<std::string> layerOrder;
  int64_t totalBefore = 0, totalAfter = 0, parameters = 0;
  auto account = [&](llvm::StringRef name, int64_t before, int64_t after,
                     double error) {
    std::string layer = layerOf(name);
    if (!layers.count(layer))
      layerOrder.push_back(layer);
    LayerTotals &totals = layers[layer];
    totals.before += before;
    totals.after += after;
    totals.worstError = std::max(totals.worstError, error);
    totalBefore += before;
    totalAfter += after;
  };
  // One row of the per-weight table, from the marks the passes left:
  // the size before compression (a float weight's own size if none did
  // anything), the relative error, and why the scheme is not the one asked
  // for.
  auto addEntry = [&](mlir::Operation &op, llvm::StringRef name,
                      std::string scheme, int64_t count, int64_t bytes,
                      int64_t unchangedBytes, bool ragged) {
    parameters += count;
    auto before =
        op.getAttrOfType<mlir::IntegerAttr>(mlir::compress::kFloatBytesAttr);
    auto error =
        op.getAttrOfType<mlir::FloatAttr>(mlir::compress::kRelativeErrorAttr);
    int64_t floatBytes = before ? before.getInt() : unchangedBytes;
    llvm::json::Object entry{
        {"name", name},
        {"scheme", scheme},
        {"float_bytes", floatBytes},
        {"bytes", bytes},
        {"bits_per_weight", double(bytes) * 8 / double(count)},
        {"relative_error", error ? error.getValueAsDouble() : 0.0},
        {"ragged_groups", ragged}};
    for (llvm::StringRef key :
         {mlir::compress::kKeptInFloatAttr, mlir::compress::kAdjustedAttr})
      if (auto why = op.getAttrOfType<mlir::StringAttr>(key))
        entry[key.drop_front(llvm::StringRef("compress.").size())] =
            why.getValue().str();
    weights.push_back(std::move(entry));
    account(name, floatBytes, bytes, error ? error.getValueAsDouble() : 0.0);
  };
  for (mlir::Operation &op : module.getBody()->getOperations()) {
    if (auto w = llvm::dyn_cast<mlir::tlm::WeightOp>(op)) {
      int64_t bytes = w.getStorageBytes();
      addEntry(op, w.getSymName(), storageScheme(mlir::tlm::getStorageFormat(w)),
               w.getTensorType().getNumElements(), bytes, bytes, false);
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
      addEntry(op, s.getSymName(), scheme, count, bytes, count * 4, false);
      continue;
    }
    auto q = llvm::dyn_cast<mlir::compress::QuantizedWeightOp>(op);
    if (!q)
      continue;
    int64_t count = q.getTensorType().getNumElements();
    std::string scheme =
        q.getGgmlBlocks()
            ? (q.getBits() == 8 ? "Q8_0 (file)" : "Q4_0 (file)")
        : q.getBits() == 8 && int64_t(q.getGroupSize()) == q.getColumns()
            ? "int8"
            : llvm::formatv("int{0}:g{1}{2}", q.getBits(), q.getGroupSize(),
                            q.getSymmetric() ? "" : ":asym")
                  .str();
    // The file's blocks are what was stored: nothing was compressed.
    int64_t bytes = q.getStorageBytes();
    addEntry(op, q.getSymName(), scheme, count, bytes,
             q.getGgmlBlocks() ? bytes : count * 4,
             q.getColumns() % int64_t(q.getGroupSize()) != 0);
  }
  llvm::json::Array passes;
  for (const CompressionStep &step : steps)
    passes.push_back(llvm::json::Object{{"pass", step.pass},
                                        {"changed", step.changed},
                                        {"changes", llvm::json::Object(
                                                        step.changes)}});
  llvm::json::Array layerArray;
  for (const std::string &l : layerOrder)
    layerArray.push_back(
        llvm::json::Object{{"layer", l},
                           {"float_bytes", layers[l].before},
                           {"bytes", layers[l].after},
                           {"max_relative_error", layers[l].worstError}});
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

/// "+9.24%" / "-55.00%": the change from `before` to `after`.
static std::string signedChange(double before, double after) {
  if (!before)
    return "n/a";
  double change = 100.0 * (after - before) / before;
  // formatv has no sign flag for floats.
  return llvm::formatv("{0}{1:f2}%", change > 0 ? "+" : "", change).str();
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
  // Columns as wide as their longest entry.
  const llvm::json::Array &weights = *report.getArray("weights");
  size_t nameWidth = 6, schemeWidth = 6;
  for (const llvm::json::Value &v : weights) {
    const llvm::json::Object &w = *v.getAsObject();
    nameWidth = std::max(nameWidth, w.getString("name")->size());
    schemeWidth = std::max(schemeWidth, w.getString("scheme")->size());
  }
  auto pad = [](llvm::StringRef text, size_t width) {
    return (text + std::string(width - std::min(width, text.size()), ' '))
        .str();
  };
  os << "  " << pad("weight", nameWidth) << " " << pad("scheme", schemeWidth)
     << llvm::formatv(" {0,12} {1,10} {2,8} {3,7} {4,9}\n", "float bytes",
                      "bytes", "change", "bits/w", "rel.err");
  for (const llvm::json::Value &v : weights) {
    const llvm::json::Object &w = *v.getAsObject();
    int64_t before = *w.getInteger("float_bytes"), after = *w.getInteger("bytes");
    os << "  " << pad(*w.getString("name"), nameWidth) << " "
       << pad(*w.getString("scheme"), schemeWidth)
       << llvm::formatv(" {0,12} {1,10} {2,8} {3,7:f2} {4,9:f5}\n", before,
                        after, signedChange(before, after),
                        *w.getNumber("bits_per_weight"),
                        *w.getNumber("relative_error"));
  }
  // Where the scheme is not the one asked for, and why.
  for (const llvm::json::Value &v : weights) {
    const llvm::json::Object &w = *v.getAsObject();
    if (auto why = w.getString("kept_in_float"))
      os << "  kept in float: " << *w.getString("name") << ": " << *why
         << "\n";
    if (auto why = w.getString("adjusted"))
      os << "  adjusted: " << *w.getString("name") << " "
         << *w.getString("scheme") << ": " << *why << "\n";
  }
  // The weights compression hurt most.
  llvm::SmallVector<const llvm::json::Object *> worst;
  for (const llvm::json::Value &v : weights)
    if (*v.getAsObject()->getNumber("relative_error") > 0)
      worst.push_back(v.getAsObject());
  llvm::stable_sort(worst, [](const llvm::json::Object *a,
                              const llvm::json::Object *b) {
    return *a->getNumber("relative_error") > *b->getNumber("relative_error");
  });
  if (!worst.empty()) {
    os << "  largest relative errors:";
    for (const llvm::json::Object *w : llvm::ArrayRef(worst).take_front(5))
      os << llvm::formatv(" {0} {1:f5};", *w->getString("name"),
                          *w->getNumber("relative_error"));
    os << "\n";
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
    os << llvm::formatv("  {0,-22} {1,12} -> {2,10}  ({3,8})\n",
                        *l.getString("layer"), before, after,
                        signedChange(before, after));
  }
  const llvm::json::Object &t = *report.getObject("total");
  int64_t before = *t.getInteger("float_bytes"), after = *t.getInteger("bytes");
  os << llvm::formatv("  {0,-22} {1,12} -> {2,10}  ({3,8}), {4:f2} bits "
                      "per weight\n",
                      "total", before, after, signedChange(before, after),
                      *t.getNumber("bits_per_weight"));
  if (const llvm::json::Object *e = report.getObject("eval"))
    os << llvm::formatv(
        "  eval on {0}: perplexity {1:f4} -> {2:f4} ({3}), mean KL "
        "{4:f5}, top-1 agreement {5:f2}% over {6} tokens\n",
        *e->getString("text"), *e->getNumber("perplexity_original"),
        *e->getNumber("perplexity_compressed"),
        signedChange(*e->getNumber("perplexity_original"),
                     *e->getNumber("perplexity_compressed")),
        *e->getNumber("mean_kl"), *e->getNumber("top1_agreement_percent"),
        *e->getInteger("tokens"));
}
