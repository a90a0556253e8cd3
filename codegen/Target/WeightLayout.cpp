//===- WeightLayout.cpp - where each weight lives in the container --*- C++ -*-===//

#include "codegen/Target/WeightLayout.h"
#include "codegen/Passes.h"
#include "codegen/Target/SparseBlocks.h"
#include "codegen/Target/FloatPanels.h"
#include "codegen/Target/GGMLPanels.h"
#include "codegen/Target/SplitNibbles.h"

#include "llvm/Support/MathExtras.h"

using namespace mlir;
using namespace tlmc;

const WeightSlot *WeightLayout::lookup(llvm::StringRef name) const {
  auto it = byName.find(name);
  return it == byName.end() ? nullptr : &slots[it->second];
}

const WeightSlot *WeightLayout::lookupGGMLBlocks(llvm::StringRef name,
                                                 bool &panels) const {
  const WeightSlot *groups = lookup(getPanelsSlot(name));
  panels = groups != nullptr;
  return groups ? groups : lookup(getValuesSlot(name));
}

RankedTensorType tlmc::getStoredType(tlm::WeightOp weight) {
  return weight.getTensorType(); // encoded weights are seen (and stored) as f32
}

std::string tlmc::getValuesSlot(llvm::StringRef w) { return (w + ".values").str(); }
std::string tlmc::getScalesSlot(llvm::StringRef w) { return (w + ".scales").str(); }
std::string tlmc::getZeroPointsSlot(llvm::StringRef w) {
  return (w + ".zero_points").str();
}

std::string tlmc::getColumnsSlot(llvm::StringRef w) {
  return (w + ".columns").str();
}
std::string tlmc::getRowOffsetsSlot(llvm::StringRef w) {
  return (w + ".row_offsets").str();
}
std::string tlmc::getBlockValuesSlot(llvm::StringRef w) {
  return (w + ".block_values").str();
}
std::string tlmc::getBlockIndicesSlot(llvm::StringRef w) {
  return (w + ".block_indices").str();
}
std::string tlmc::getSplitValuesSlot(llvm::StringRef w) {
  return (w + ".values_split").str();
}

std::string tlmc::getPanelsSlot(llvm::StringRef w) {
  return (w + ".panels").str();
}

/// The module's weight declarations, each layer's ("blk.N.*") together and
/// in layer order, in declaration order within a layer; the weights declared
/// before the first layer's come first, the rest last. Layers that share
/// code (tlm-share-layers) need their weights at equal relative offsets,
/// which this gives whatever order compression passes declared them in.
static SmallVector<Operation *> getWeightsByLayer(ModuleOp module) {
  SmallVector<std::pair<int64_t, Operation *>> keyed;
  bool seenLayer = false;
  for (Operation &op : module.getBody()->getOperations()) {
    auto symbol = dyn_cast<SymbolOpInterface>(op);
    if (!symbol || !isa<tlm::WeightOp, compress::QuantizedWeightOp,
                        compress::SparseWeightOp>(op))
      continue;
    std::optional<int64_t> layer = getWeightLayer(symbol.getName());
    seenLayer |= layer.has_value();
    keyed.push_back({layer ? *layer : seenLayer ? INT64_MAX : -1, &op});
  }
  llvm::stable_sort(keyed, [](auto &a, auto &b) { return a.first < b.first; });
  return llvm::to_vector(llvm::make_second_range(keyed));
}

WeightLayout tlmc::computeWeightLayout(ModuleOp module,
                                       const WeightLayoutOptions &options) {
  WeightLayout layout;
  auto add = [&](std::string name, RankedTensorType type, tlm::WeightOp weight,
                 ElementsAttr blob) {
    WeightSlot slot;
    slot.name = std::move(name);
    slot.storedType = type;
    slot.weight = weight;
    slot.blob = blob;
    slot.bytes = type.getNumElements() * (type.getElementTypeBitWidth() / 8);
    slot.offset = llvm::alignTo(layout.totalBytes, WeightLayout::kAlignment);
    layout.totalBytes = slot.offset + slot.bytes;
    layout.byName[slot.name] = layout.slots.size();
    layout.slots.push_back(std::move(slot));
  };
  auto typeOf = [](ElementsAttr a) { return cast<RankedTensorType>(a.getType()); };
  auto repackLast = [&](WeightSlot::Repack repack, Operation *from) {
    layout.slots.back().repack = repack;
    layout.slots.back().repackedFrom = from;
  };
  // A float weight's last panel is padded to 16 rows (FloatPanels.h): the
  // slot holds the padded bytes; its type stays the weight's.
  auto padLastToPanels = [&]() {
    WeightSlot &slot = layout.slots.back();
    RankedTensorType type = slot.storedType;
    slot.bytes = getFloatPanelRows(type.getDimSize(0)) * type.getDimSize(1) *
                 (type.getElementTypeBitWidth() / 8);
    layout.totalBytes = slot.offset + slot.bytes;
  };
  for (Operation *opPtr : getWeightsByLayer(module)) {
    Operation &op = *opPtr;
    if (auto weight = dyn_cast<tlm::WeightOp>(op)) {
      add(weight.getSymName().str(), getStoredType(weight), weight, {});
      if (options.floatPanels && hasFloatPanelLayout(weight, module)) {
        repackLast(WeightSlot::Repack::FloatPanels, weight);
        padLastToPanels();
      }
    } else if (auto q = dyn_cast<compress::QuantizedWeightOp>(op)) {
      if (options.ggmlPanels && hasGGMLPanelLayout(q, module)) {
        add(getPanelsSlot(q.getSymName()), typeOf(q.getValues()), {}, {});
        repackLast(WeightSlot::Repack::GGMLPanels, q);
      } else if (hasSplitNibbleLayout(q)) {
        add(getSplitValuesSlot(q.getSymName()), typeOf(q.getValues()), {}, {});
        repackLast(WeightSlot::Repack::SplitNibbles, q);
      } else {
        add(getValuesSlot(q.getSymName()), typeOf(q.getValues()), {},
            q.getValues());
      }
      if (auto scales = q.getScales())
        add(getScalesSlot(q.getSymName()), typeOf(*scales), {}, *scales);
      if (auto zeros = q.getZeroPoints())
        add(getZeroPointsSlot(q.getSymName()), typeOf(*zeros), {}, *zeros);
    } else if (auto s = dyn_cast<compress::SparseWeightOp>(op)) {
      std::optional<int64_t> blocks;
      if (options.sparseBlocks)
        blocks = getSparseBlocksPerRow(s);
      if (blocks) {
        int64_t rows = s.getTensorType().getDimSize(0);
        Builder b(op.getContext());
        auto type = [&](Type element) {
          return RankedTensorType::get({rows, *blocks * kSparseBlockValues},
                                       element);
        };
        add(getBlockValuesSlot(s.getSymName()), type(b.getF32Type()), {}, {});
        repackLast(WeightSlot::Repack::SparseBlockValues, s);
        add(getBlockIndicesSlot(s.getSymName()), type(b.getI8Type()), {}, {});
        repackLast(WeightSlot::Repack::SparseBlockIndices, s);
        continue;
      }
      add(getValuesSlot(s.getSymName()), typeOf(s.getValues()), {},
          s.getValues());
      add(getColumnsSlot(s.getSymName()), typeOf(s.getColumns()), {},
          s.getColumns());
      add(getRowOffsetsSlot(s.getSymName()), typeOf(s.getRowOffsets()), {},
          s.getRowOffsets());
    }
  }
  layout.totalBytes = llvm::alignTo(layout.totalBytes, WeightLayout::kAlignment);
  return layout;
}
