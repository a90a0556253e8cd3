//===- ShareLayers.cpp - one function per distinct layer -------------*- C++ -*-===//
//
// As imported, an entry point runs every layer inline, so LLVM optimizes
// (layers x entry points) copies of the same code: 90 for SmolLM2-135M,
// minutes of compile time and megabytes of text. This pass outlines each
// layer's ops into a function and lets the layers whose ops are identical up
// to the weights they name and the cache layer they use share one function:
// the layer index becomes an argument (attention's `layer_index`), and the
// callee keeps the weight names of the first layer it was outlined from
// (its `tlmc.layer`). convert-tlm-to-linalg then reads those weights relative
// to that layer's first weight and hands each call its own layer's weights,
// which the weight layout stores with the same relative offsets.
//
//===----------------------------------------------------------------------===//

#include "codegen/Passes.h"
#include "dialects/compress/IR/CompressDialect.h"
#include "dialects/tlm/IR/TLMOps.h"

#include "mlir/IR/IRMapping.h"
#include "mlir/Transforms/RegionUtils.h"
#include "llvm/ADT/MapVector.h"

namespace tlmc {
#define GEN_PASS_DEF_TLMSHARELAYERS
#include "codegen/Passes.h.inc"
} // namespace tlmc

using namespace mlir;
using namespace tlmc;

std::optional<int64_t> tlmc::getWeightLayer(llvm::StringRef name) {
  if (!name.consume_front("blk."))
    return std::nullopt;
  auto [number, rest] = name.split('.');
  int64_t layer;
  if (number.getAsInteger(10, layer) || rest.empty())
    return std::nullopt;
  return layer;
}

std::string tlmc::renameWeightLayer(llvm::StringRef name, int64_t layer) {
  std::optional<int64_t> from = getWeightLayer(name);
  if (!from)
    return name.str();
  llvm::StringRef rest = name.drop_front(4).split('.').second;
  return ("blk." + llvm::Twine(layer) + "." + rest).str();
}

namespace {

/// What an op of an entry point belongs to.
constexpr int64_t kGlobalWeight = -3; // reads a weight of no layer
constexpr int64_t kUnassigned = -2;   // no layer of its own (a constant)
constexpr int64_t kGlobal = -1;       // outside every layer (embedding, head)

/// A layer's ops: a contiguous run of one function's body.
struct LayerRun {
  int64_t layer;
  SmallVector<Operation *> ops;
};

/// The layer `op` belongs to, given the layers of the ops before it.
int64_t classify(Operation *op, const DenseMap<Operation *, int64_t> &layerOf) {
  if (op->hasTrait<OpTrait::IsTerminator>())
    return kGlobal;
  // Only graph ops decide where a layer ends; other ops (the slice that
  // picks prefill_last's last row) join the layer whose op follows them.
  if (!isa<tlm::TLMDialect, compress::CompressDialect>(op->getDialect()))
    return kUnassigned;
  if (auto attention = dyn_cast<tlm::AttentionOp>(op))
    return attention.getLayerIndex() ? kGlobal : attention.getLayer();
  // Weights name their layer. An op that reads a weight of no layer is
  // global even when its input comes from a layer (the final norm reads the
  // last layer's output); otherwise an op belongs to the latest layer it
  // reads from (the first norm of layer 0 reads the embedding's output).
  std::optional<int64_t> named;
  for (NamedAttribute attr : op->getAttrs()) {
    auto ref = dyn_cast<FlatSymbolRefAttr>(attr.getValue());
    if (!ref)
      continue;
    std::optional<int64_t> layer = getWeightLayer(ref.getValue());
    if (!layer)
      return isa<tlm::WeightRefOp>(op) ? kGlobalWeight : kGlobal;
    named = std::max(named.value_or(*layer), *layer);
  }
  int64_t result = named.value_or(kUnassigned);
  for (Value operand : op->getOperands()) {
    Operation *def = operand.getDefiningOp();
    if (!def)
      continue;
    int64_t layer = layerOf.lookup(def);
    if (layer == kGlobalWeight)
      return kGlobal;
    result = std::max(result, layer);
  }
  return result;
}

/// Splits `body` into layer runs; fails if a layer's ops are interleaved
/// with another's.
FailureOr<SmallVector<LayerRun>> findLayerRuns(Block &body) {
  DenseMap<Operation *, int64_t> layerOf;
  SmallVector<LayerRun> runs;
  SmallVector<Operation *> pending; // unassigned ops since the last run op
  DenseSet<int64_t> closed;
  for (Operation &op : body) {
    int64_t layer = classify(&op, layerOf);
    layerOf[&op] = layer;
    if (layer == kUnassigned) {
      pending.push_back(&op);
      continue;
    }
    if (layer == kGlobal || layer == kGlobalWeight) {
      if (!runs.empty())
        closed.insert(runs.back().layer);
      pending.clear();
      continue;
    }
    if (runs.empty() || runs.back().layer != layer) {
      if (!runs.empty())
        closed.insert(runs.back().layer);
      if (closed.contains(layer))
        return failure();
      runs.push_back({layer, {}});
      pending.clear();
    }
    llvm::append_range(runs.back().ops, pending);
    pending.clear();
    runs.back().ops.push_back(&op);
  }
  return runs;
}

/// How weight declaration `decl` stores its values: its op and inherent
/// attributes but its name, with blobs reduced to their types (not the
/// notes passes leave, `compress.relative_error` and the like). Two layers
/// whose weights differ here (int8 in one, int4 in another) must not share
/// code even if their ops read alike.
void printStorage(Operation *decl, llvm::raw_ostream &os) {
  os << decl->getName() << "{";
  for (NamedAttribute attr : decl->getAttrs()) {
    if (attr.getName() == SymbolTable::getSymbolAttrName() ||
        attr.getName().strref().contains('.'))
      continue;
    os << attr.getName() << "=";
    if (auto blob = dyn_cast<ElementsAttr>(attr.getValue()))
      os << blob.getType();
    else
      os << attr.getValue();
    os << ",";
  }
  os << "}";
}

/// The text two layers' functions share exactly when they may share code:
/// the function printed with each weight's layer number erased, then how
/// each weight it reads is stored.
std::string getSignatureKey(func::FuncOp callee) {
  OpBuilder b(callee.getContext());
  auto copy = cast<func::FuncOp>(b.clone(*callee));
  copy.setSymName("layer");
  SmallVector<Operation *> weights;
  copy.walk([&](Operation *op) {
    for (NamedAttribute attr : op->getAttrs())
      if (auto ref = dyn_cast<FlatSymbolRefAttr>(attr.getValue()))
        if (getWeightLayer(ref.getValue())) {
          weights.push_back(
              SymbolTable::lookupNearestSymbolFrom(callee, ref));
          op->setAttr(attr.getName(),
                      FlatSymbolRefAttr::get(
                          op->getContext(),
                          ("blk.#." +
                           ref.getValue().drop_front(4).split('.').second)
                              .str()));
        }
  });
  std::string key;
  llvm::raw_string_ostream os(key);
  copy.print(os, OpPrintingFlags().printGenericOpForm());
  copy.erase();
  for (Operation *weight : weights)
    if (weight)
      printStorage(weight, os);
  return key;
}

struct TLMShareLayersPass
    : tlmc::impl::TLMShareLayersBase<TLMShareLayersPass> {
  using Base::Base;

  /// The callees so far, by signature key.
  llvm::StringMap<func::FuncOp> callees;

  /// Outlines `run` of `fn` into a function (a new one, or an existing one
  /// with the same signature) and calls it.
  void outline(func::FuncOp fn, LayerRun &run) {
    MLIRContext *ctx = fn.getContext();
    DenseSet<Operation *> inRun(run.ops.begin(), run.ops.end());
    SetVector<Value> inputs;
    SmallVector<Value> outputs;
    for (Operation *op : run.ops) {
      for (Value operand : op->getOperands())
        if (!operand.getDefiningOp() || !inRun.contains(operand.getDefiningOp()))
          inputs.insert(operand);
      for (Region &region : op->getRegions()) {
        SetVector<Value> captured;
        getUsedValuesDefinedAbove(region, captured);
        for (Value v : captured)
          if (!v.getDefiningOp() || !inRun.contains(v.getDefiningOp()))
            inputs.insert(v);
      }
      for (Value result : op->getResults())
        if (llvm::any_of(result.getUsers(), [&](Operation *user) {
              return !inRun.contains(fn.getBody().front().findAncestorOpInBlock(
                  *user));
            }))
          outputs.push_back(result);
    }

    SmallVector<Type> argTypes(llvm::map_range(
        inputs, [](Value v) { return v.getType(); }));
    argTypes.push_back(IndexType::get(ctx)); // the layer
    SmallVector<Type> resultTypes(llvm::map_range(
        outputs, [](Value v) { return v.getType(); }));
    ModuleOp module = getOperation();
    OpBuilder mb = OpBuilder::atBlockEnd(module.getBody());
    auto callee = func::FuncOp::create(mb, fn.getLoc(), "layer",
                                       FunctionType::get(ctx, argTypes,
                                                         resultTypes));
    callee.setPrivate();
    OpBuilder b = OpBuilder::atBlockBegin(callee.addEntryBlock());
    IRMapping mapping;
    for (auto [input, arg] : llvm::zip(inputs, callee.getArguments()))
      mapping.map(input, arg);
    Value layerArg = callee.getArguments().back();
    for (Operation *op : run.ops) {
      Operation *clone = b.clone(*op, mapping);
      if (auto attention = dyn_cast<tlm::AttentionOp>(clone)) {
        attention.getLayerIndexMutable().assign(layerArg);
        attention.setLayer(0);
      }
    }
    SmallVector<Value> results(llvm::map_range(
        outputs, [&](Value v) { return mapping.lookup(v); }));
    func::ReturnOp::create(b, fn.getLoc(), results);

    std::string key = getSignatureKey(callee);
    auto [it, inserted] = callees.try_emplace(key, callee);
    if (inserted) {
      callee.setSymName(("layer" + Twine(callees.size() - 1)).str());
      callee->setAttr(kLayerAttr, b.getI64IntegerAttr(run.layer));
      // The point is one copy of the code: keep LLVM from inlining it back.
      callee->setAttr(kNoInlineAttr, b.getUnitAttr());
      ++numFunctions;
    } else {
      callee.erase();
      callee = it->second;
    }

    OpBuilder cb(run.ops.front());
    Location loc = run.ops.front()->getLoc();
    SmallVector<Value> operands(inputs.begin(), inputs.end());
    operands.push_back(arith::ConstantIndexOp::create(cb, loc, run.layer));
    auto call = func::CallOp::create(cb, loc, callee, operands);
    call->setAttr(kLayerAttr, cb.getI64IntegerAttr(run.layer));
    for (auto [output, result] : llvm::zip(outputs, call.getResults()))
      output.replaceAllUsesWith(result);
    for (Operation *op : llvm::reverse(run.ops))
      op->erase();
    ++numLayerCalls;
  }

  void runOnOperation() override {
    SmallVector<func::FuncOp> entries;
    for (auto fn : getOperation().getOps<func::FuncOp>())
      if (!fn.isExternal() && !fn.isPrivate())
        entries.push_back(fn);
    for (func::FuncOp fn : entries) {
      FailureOr<SmallVector<LayerRun>> runs =
          findLayerRuns(fn.getBody().front());
      if (failed(runs)) {
        // Correct as it is, only larger: say so rather than fail.
        fn.emitWarning("tlm-share-layers: the layers' ops are interleaved; "
                       "every layer stays inline");
        ++numLayersInline;
        continue;
      }
      for (LayerRun &run : *runs)
        outline(fn, run);
    }
  }
};

} // namespace
