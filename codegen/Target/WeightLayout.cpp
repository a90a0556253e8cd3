//===- WeightLayout.cpp - where each weight lives in the container --*- C++ -*-===//

#include "codegen/Target/WeightLayout.h"

#include "llvm/Support/MathExtras.h"

using namespace mlir;
using namespace tlmc;

const WeightSlot *WeightLayout::lookup(llvm::StringRef name) const {
  auto it = byName.find(name);
  return it == byName.end() ? nullptr : &slots[it->second];
}

RankedTensorType tlmc::getStoredType(tlm::WeightOp weight) {
  return weight.getTensorType(); // encoded weights are seen (and stored) as f32
}

WeightLayout tlmc::computeWeightLayout(ModuleOp module) {
  WeightLayout layout;
  for (auto weight : module.getOps<tlm::WeightOp>()) {
    WeightSlot slot;
    slot.name = weight.getSymName().str();
    slot.storedType = getStoredType(weight);
    slot.bytes = slot.storedType.getNumElements() *
                 (slot.storedType.getElementTypeBitWidth() / 8);
    slot.offset = llvm::alignTo(layout.totalBytes, WeightLayout::kAlignment);
    layout.totalBytes = slot.offset + slot.bytes;
    layout.byName[slot.name] = layout.slots.size();
    layout.slots.push_back(std::move(slot));
  }
  layout.totalBytes = llvm::alignTo(layout.totalBytes, WeightLayout::kAlignment);
  return layout;
}
