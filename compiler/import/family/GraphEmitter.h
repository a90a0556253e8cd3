//===- GraphEmitter.h - the tlm ops a family's block is made of ---*- C++ -*-===//
//
// Builds one entry point (decode, prefill, prefill_last, prefill_wide) of
// the module: the embedding, each layer through its family's emitBlock, the
// final norm and the classifier. Families compose blocks from the helpers below, which know
// the config (epsilon, RoPE) and the current entry point (rows, position,
// caches), so a block reads like the model's reference code.
//
//===----------------------------------------------------------------------===//

#ifndef TLMC_COMPILER_IMPORT_FAMILY_GRAPHEMITTER_H
#define TLMC_COMPILER_IMPORT_FAMILY_GRAPHEMITTER_H

#include "compiler/import/common/ImportedModel.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"

namespace tlmc {

class Family;

/// The element type a weight stored in `format` is seen as in the graph
/// (f32 for GGUF blocks, which the compress dialect decodes).
mlir::Type getWeightElementType(mlir::Builder &b, mlir::tlm::StorageFormat format);

class GraphEmitter {
public:
  GraphEmitter(mlir::OpBuilder &b, mlir::Location loc,
               const ImportedModel &model, const Family &family,
               bool kvCacheF16);

  /// One entry point over `tokens` tokens; with `lastOnly`, logits for the
  /// last token alone (what generation needs after a prompt chunk).
  void emit(llvm::StringRef name, int64_t tokens, bool lastOnly = false);

  const ModelConfig &getConfig() const { return c; }
  /// "blk.N." for layer N.
  static std::string layerPrefix(int64_t layer);

  /// RMSNorm with the config's epsilon; a weight shorter than the row
  /// normalizes each group (head) of that width.
  mlir::Value norm(mlir::Value x, llvm::StringRef weight);
  /// x times the transpose of `weight`; the width is the weight's rows.
  mlir::Value linear(mlir::Value x, llvm::StringRef weight);
  mlir::Value addBias(mlir::Value x, llvm::StringRef bias);
  /// RoPE with the config's pairing and frequency factors, and its base
  /// (the local layers' base, if the config has one, for a local layer).
  mlir::Value rope(mlir::Value x, int64_t layer);
  /// Causal grouped-query attention of layer `layer` over the KV caches,
  /// within the config's sliding window on a local layer when the family
  /// applies windows, scaled by the config's query_pre_attn_scalar if set.
  mlir::Value attention(mlir::Value q, mlir::Value k, mlir::Value v,
                        int64_t layer);
  mlir::Value swiglu(mlir::Value gate, mlir::Value up);
  mlir::Value geglu(mlir::Value gate, mlir::Value up);
  mlir::Value gelu(mlir::Value x);
  /// LayerNorm with weight `weight` and bias `weight.bias`.
  mlir::Value layerNorm(mlir::Value x, llvm::StringRef weight);
  /// Adds the rows of `table` at the entry point's positions.
  mlir::Value addPositions(mlir::Value x, llvm::StringRef table);
  mlir::Value scale(mlir::Value x, float factor);
  mlir::Value softcap(mlir::Value x, float cap);
  mlir::Value add(mlir::Value x, mlir::Value y);

private:
  mlir::RankedTensorType act(int64_t width);
  mlir::Value weight(llvm::StringRef name);

  mlir::OpBuilder &b;
  mlir::Location loc;
  const ImportedModel &model;
  const Family &family;
  const ModelConfig &c;
  bool kvCacheF16;
  mlir::Value pos, keyCache, valueCache;
  int64_t rows = 1;
};

} // namespace tlmc

#endif // TLMC_COMPILER_IMPORT_FAMILY_GRAPHEMITTER_H
