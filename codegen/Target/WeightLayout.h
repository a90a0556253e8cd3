//===- WeightLayout.h - where each weight lives in the container -*- C++ -*-===//
//
// The generated code reads weight W at `weights_base + offset(W)`, and the
// container writer puts W's bytes exactly there: both ask this one function,
// so the two can never disagree. How a weight is stored (its element type,
// its alignment) is a code generation decision, made here per target.
//
//===----------------------------------------------------------------------===//

#ifndef TLMC_CODEGEN_TARGET_WEIGHTLAYOUT_H
#define TLMC_CODEGEN_TARGET_WEIGHTLAYOUT_H

#include "dialects/compress/IR/CompressDialect.h"
#include "dialects/tlm/IR/TLMOps.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/StringMap.h"

#include <vector>

namespace tlmc {

struct WeightSlot {
  std::string name;
  int64_t offset = 0;
  int64_t bytes = 0;
  /// The tensor type the generated code reads at `offset`.
  mlir::RankedTensorType storedType;
  /// Where the bytes come from: a `tlm.weight` (decoded if block-encoded),
  /// or one blob (values, scales, zero points) of a compressed weight.
  mlir::tlm::WeightOp weight;
  mlir::ElementsAttr blob;
  /// Or bytes codegen derives from a compressed weight `repackedFrom`.
  enum class Repack {
    None,
    SparseBlockValues,  // SparseBlocks.h
    SparseBlockIndices, // SparseBlocks.h
    SplitNibbles,       // SplitNibbles.h
    GGMLPanels,         // GGMLPanels.h
    FloatPanels,        // FloatPanels.h (the slot keeps the weight's name)
  };
  Repack repack = Repack::None;
  mlir::Operation *repackedFrom = nullptr;
};

/// The layout choices that depend on the target.
struct WeightLayoutOptions {
  /// Store sparse weights that fit in 32-feature blocks (SparseBlocks.h)
  /// that way; the target must have a 16-float two-source permute.
  bool sparseBlocks = false;
  /// Store GGUF Q8_0/Q4_0 weights read only by products in 16-row panels
  /// (GGMLPanels.h); only when the target's micro-kernels compute them.
  bool ggmlPanels = false;
  /// Store f16, bf16 and f32 weights read only by products and lookups in
  /// 16-row panels (FloatPanels.h); only when the target's micro-kernels
  /// compute them.
  bool floatPanels = false;
};

struct WeightLayout {
  std::vector<WeightSlot> slots;
  llvm::StringMap<size_t> byName;
  int64_t totalBytes = 0;
  /// Every slot starts at a multiple of this (cache line; SIMD loads).
  static constexpr int64_t kAlignment = 64;

  const WeightSlot *lookup(llvm::StringRef name) const;

  /// The slot of GGUF-block weight `name`: packed in 16-row panels
  /// (GGMLPanels.h, `panels` set) or the file's own blocks; null
  /// when the layout has neither.
  const WeightSlot *lookupGGMLBlocks(llvm::StringRef name,
                                     bool &panels) const;
};

/// The tensor type a weight is stored as: its own type for f32/f16/bf16;
/// block-encoded weights (Q8_0/Q4_0) are decoded to f32 when written, until
/// the compress dialect computes on blocks directly.
mlir::RankedTensorType getStoredType(mlir::tlm::WeightOp weight);

/// The slot names of a compressed weight's parts.
std::string getValuesSlot(llvm::StringRef weight);
std::string getScalesSlot(llvm::StringRef weight);
std::string getZeroPointsSlot(llvm::StringRef weight);
std::string getColumnsSlot(llvm::StringRef weight);
std::string getRowOffsetsSlot(llvm::StringRef weight);
std::string getBlockValuesSlot(llvm::StringRef weight);
std::string getBlockIndicesSlot(llvm::StringRef weight);
std::string getSplitValuesSlot(llvm::StringRef weight);
std::string getPanelsSlot(llvm::StringRef weight);

/// Lays out every `tlm.weight` and every part of every compressed weight
/// of `module`, in declaration order.
WeightLayout computeWeightLayout(mlir::ModuleOp module,
                                 const WeightLayoutOptions &options = {});

} // namespace tlmc

#endif // TLMC_CODEGEN_TARGET_WEIGHTLAYOUT_H
