//===- Compress.cpp - compression options to passes, run step by step -*- C++ -*-===//

#include "compiler/driver/Compress.h"

#include "compiler/driver/Calibrate.h"
#include "dialects/compress/Transforms/LinearUses.h"
#include "dialects/compress/IR/CompressDialect.h"
#include "dialects/compress/Transforms/Passes.h"
#include "dialects/tlm/IR/TLMOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Regex.h"

#include <map>
#include <optional>

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

namespace {
/// The counts a compression step can change, for the report's "what each
/// pass changed": read from the module before and after the step, so the
/// report states what happened, not what was asked.
struct ModuleCensus {
  std::map<std::string, llvm::SmallVector<int64_t>> weightShapes;
  int64_t queryHeads = 0, kvHeads = 0, ffnChannels = 0, kvCacheWidth = 0;
  int64_t sparse = 0, quantized = 0, factored = 0;

  explicit ModuleCensus(mlir::ModuleOp module) {
    for (mlir::Operation &op : module.getBody()->getOperations()) {
      if (auto w = llvm::dyn_cast<mlir::tlm::WeightOp>(op))
        weightShapes[w.getSymName().str()] =
            llvm::to_vector(w.getTensorType().getShape());
      sparse += llvm::isa<mlir::compress::SparseWeightOp>(op);
      quantized += llvm::isa<mlir::compress::QuantizedWeightOp>(op);
      if (auto sym = llvm::dyn_cast<mlir::SymbolOpInterface>(op))
        factored += op.hasAttr(mlir::compress::kRankAttr) &&
                    sym.getName().ends_with(".u");
    }
    // Every entry point has the same layers; count the first one's.
    auto fns = module.getOps<mlir::func::FuncOp>();
    if (fns.empty())
      return;
    mlir::func::FuncOp fn = *fns.begin();
    fn.walk([&](mlir::tlm::AttentionOp a) {
      queryHeads += a.getHeads();
      kvHeads += a.getKvHeads();
      kvCacheWidth = a.getKeyCache().getType().getDimSize(2);
    });
    fn.walk([&](mlir::Operation *op) {
      if (llvm::isa<mlir::tlm::SwiGLUOp, mlir::tlm::GeGLUOp>(op))
        ffnChannels +=
            llvm::cast<mlir::RankedTensorType>(op->getResult(0).getType())
                .getDimSize(1);
    });
  }

  /// What changed from `before` to this, in words (empty if nothing did),
  /// and as fields in `changes`.
  std::string describeChangeFrom(const ModuleCensus &before,
                                 llvm::json::Object &changes) const {
    llvm::SmallVector<std::string> parts;
    auto compare = [&](const char *what, const char *key, int64_t from,
                       int64_t to) {
      if (from == to)
        return;
      parts.push_back(llvm::formatv("{0} {1} -> {2}", what, from, to));
      changes[key] = llvm::json::Object{{"from", from}, {"to", to}};
    };
    compare("query heads", "query_heads", before.queryHeads, queryHeads);
    compare("KV heads", "kv_heads", before.kvHeads, kvHeads);
    compare("KV cache width", "kv_cache_width", before.kvCacheWidth,
            kvCacheWidth);
    compare("FFN channels", "ffn_channels", before.ffnChannels, ffnChannels);
    int64_t narrowed = 0;
    for (auto &[name, shape] : weightShapes)
      if (auto it = before.weightShapes.find(name);
          it != before.weightShapes.end() && it->second != shape)
        ++narrowed;
    auto count = [&](int64_t n, const char *what, const char *key) {
      if (n <= 0)
        return;
      parts.push_back(llvm::formatv("{0} weights {1}", n, what));
      changes[key] = n;
    };
    count(narrowed, "narrowed", "weights_narrowed");
    count(sparse - before.sparse, "stored sparse (CSR)", "weights_sparse");
    count(factored - before.factored, "factored as U x V", "weights_factored");
    count(quantized - before.quantized, "quantized", "weights_quantized");
    return llvm::join(parts, ", ");
  }
};

/// Runs compression passes one at a time, noting what each changed.
class StepRunner {
public:
  explicit StepRunner(mlir::ModuleOp module) : module(module) {}

  /// Runs `pass`; `how` is added to its note (e.g. the rounding method).
  llvm::Error run(std::unique_ptr<mlir::Pass> pass, llvm::StringRef how = "") {
    std::string name = pass->getArgument().str();
    ModuleCensus before(module);
    mlir::PassManager pm(module.getContext());
    pm.addPass(std::move(pass));
    if (mlir::failed(pm.run(module)))
      return makeError(name + " failed (see the messages above)");
    llvm::json::Object changes;
    std::string changed =
        ModuleCensus(module).describeChangeFrom(before, changes);
    if (changed.empty())
      return llvm::Error::success();
    if (!how.empty()) {
      changed += " (" + how.str() + ")";
      changes["method"] = how.str();
    }
    steps.push_back({name, std::move(changed), std::move(changes)});
    return llvm::Error::success();
  }

  std::vector<CompressionStep> steps;

private:
  mlir::ModuleOp module;
};
} // namespace

/// One pruning pass per item of the comma-separated --prune list: the
/// structured ones (kv, heads, ffn) shrink shapes, so they come first; at
/// most one sparse item, which comes last.
static llvm::Expected<std::vector<std::unique_ptr<mlir::Pass>>>
makePruningPasses(const ModelConfig &config, const CompressionOptions &options) {
  std::vector<std::unique_ptr<mlir::Pass>> passes;
  llvm::SmallVector<llvm::StringRef> items;
  llvm::StringRef(options.prune).split(items, ',');
  std::optional<mlir::compress::CompressPruneSparseOptions> sparse;
  mlir::compress::CompressPruneHeadsOptions heads;
  bool attention = false;
  for (llvm::StringRef item : items) {
    llvm::StringRef spec = item.trim();
    double ratio = 0;
    int64_t n = 0, m = 0;
    if (spec.consume_front("kv:")) {
      if (spec.getAsInteger(10, n) || n <= 0 || n >= config.kvHeads)
        return makeError(llvm::formatv(
            "--prune=kv:N removes N of the {0} KV heads of every layer, with "
            "their query heads: N must be in [1, {1}]",
            config.kvHeads, config.kvHeads - 1));
      heads.kvHeads = n;
      attention = true;
    } else if (spec.consume_front("heads:")) {
      int64_t kv = config.kvHeads;
      if (spec.getAsInteger(10, n) || n <= 0 || n % kv != 0 ||
          n >= config.heads)
        return makeError(llvm::formatv(
            "--prune=heads:N removes N query heads per layer, the same number "
            "from each of the {0} KV groups: N must be a multiple of {0} below "
            "{1}",
            kv, config.heads));
      heads.perGroup = n / kv;
      attention = true;
    } else if (spec.consume_front("ffn:")) {
      if (spec.getAsDouble(ratio) || !(ratio >= 0 && ratio < 1))
        return makeError("--prune=ffn:R needs 0 <= R < 1");
      mlir::compress::CompressPruneFFNOptions p;
      p.ratio = ratio;
      passes.push_back(mlir::compress::createCompressPruneFFN(p));
    } else if (sparse) {
      return makeError("--prune='" + options.prune +
                       "': at most one of unstructured:S and N:M");
    } else if (spec.consume_front("unstructured:")) {
      if (spec.getAsDouble(ratio) || !(ratio > 0 && ratio < 1))
        return makeError("--prune=unstructured:S needs 0 < S < 1");
      sparse.emplace();
      sparse->mode = "unstructured";
      sparse->sparsity = ratio;
    } else if (auto [a, b] = spec.split(':');
               !a.getAsInteger(10, n) && !b.getAsInteger(10, m) && n > 0 &&
               n < m) {
      sparse.emplace();
      sparse->mode = "nm";
      sparse->n = n;
      sparse->m = m;
    } else {
      return makeError("--prune='" + options.prune + "': '" + item +
                       "' is none of unstructured:S, N:M (e.g. 2:4), kv:N, "
                       "heads:N, ffn:R");
    }
  }
  // heads:N is N / kv_heads per group; with kv:M as well, that per-group
  // count applies to the groups M leaves.
  if (attention)
    passes.push_back(mlir::compress::createCompressPruneHeads(heads));
  if (sparse) {
    sparse->keep.assign(options.keep.begin(), options.keep.end());
    passes.push_back(mlir::compress::createCompressPruneSparse(*sparse));
  }
  return passes;
}

/// --keep and --quantize-override select weights by full-match regexes: a
/// pattern that is not a regex, or matches no weight (`ffn_down` for
/// `blk.0.ffn_down`), would silently select nothing. Refuse both, naming
/// some weights.
static llvm::Error checkNamePatterns(mlir::ModuleOp module,
                                     const CompressionOptions &options) {
  std::vector<std::string> names;
  for (auto weight : module.getOps<mlir::tlm::WeightOp>())
    names.push_back(weight.getSymName().str());
  auto check = [&](llvm::StringRef option,
                   llvm::StringRef pattern) -> llvm::Error {
    llvm::Regex regex(("^(" + pattern + ")$").str());
    std::string why;
    if (!regex.isValid(why))
      return makeError(option + " '" + pattern + "': not a regex: " + why);
    for (const std::string &name : names)
      if (regex.match(name))
        return llvm::Error::success();
    std::string some;
    for (size_t i = 0; i < names.size() && i < 4; ++i)
      some += (i ? ", " : "") + names[i];
    return makeError(option + " '" + pattern +
                     "' matches no weight (patterns match whole names, e.g. " +
                     "'blk\\..*\\.ffn_down'; weights are named like " + some +
                     ", ...; `tlmc inspect` lists them)");
  };
  for (const std::string &pattern : options.keep)
    if (auto err = check("--keep", pattern))
      return err;
  for (const std::string &override : options.overrides)
    if (auto err = check("--quantize-override",
                         llvm::StringRef(override).rsplit('=').first))
      return err;
  return llvm::Error::success();
}

llvm::Expected<std::vector<CompressionStep>>
tlmc::compressModule(mlir::ModuleOp module, const ImportedModel &model,
                     const CompressionOptions &options) {
  if (auto err = checkNamePatterns(module, options))
    return std::move(err);
  StepRunner runner(module);
  // GGUF block weights compute in their own format, always.
  if (auto err = runner.run(mlir::compress::createCompressAdoptGGMLBlocks(),
                            "GGUF blocks kept as stored"))
    return std::move(err);
  // Prune first, then factor, then quantize what is left.
  if (!options.prune.empty()) {
    auto passes = makePruningPasses(model.config, options);
    if (!passes)
      return passes.takeError();
    for (auto &pass : *passes)
      if (auto err = runner.run(std::move(pass)))
        return std::move(err);
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
    if (auto err = runner.run(mlir::compress::createCompressLowRank(l)))
      return std::move(err);
  }
  if (options.quantize.empty())
    return std::move(runner.steps);
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
      return std::move(err);
    q.method = "gptq";
  }
  q.keep.assign(options.keep.begin(), options.keep.end());
  q.overrides.assign(options.overrides.begin(), options.overrides.end());
  std::string how = options.calibrate.empty()
                        ? std::string("round to nearest")
                        : "GPTQ, calibrated on " + options.calibrate;
  if (auto err =
          runner.run(mlir::compress::createCompressQuantizeWeights(q), how))
    return std::move(err);
  return std::move(runner.steps);
}
