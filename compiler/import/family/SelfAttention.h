//===- SelfAttention.h - the attention half of the RMSNorm decoders -*- C++ -*-===//
//
// PreNormDecoder (LLaMA, Qwen2, Qwen3, Phi-3) and GemmaDecoder (Gemma-2, -3)
// start every layer the same way: an RMSNorm, q/k/v projections (with
// biases for Qwen2), a per-head RMSNorm on queries and keys (Qwen3, Gemma-3),
// RoPE, grouped-query attention and the output projection. What differs is
// around it (Gemma normalizes the projection's output again before the
// residual add). Both take these pieces from here, so the tensors, their
// Hugging Face names and the ops are written once.
//
//===----------------------------------------------------------------------===//

#ifndef TLMC_COMPILER_IMPORT_FAMILY_SELFATTENTION_H
#define TLMC_COMPILER_IMPORT_FAMILY_SELFATTENTION_H

#include "compiler/import/family/Family.h"

namespace tlmc {

struct SelfAttentionShape {
  /// q, k and v projections add a bias (`attn_q.bias`, ...).
  bool qkvBias = false;
  /// Queries and keys are RMS-normalized per head before RoPE
  /// (`attn_q_norm`, `attn_k_norm`, head_dim wide).
  bool qkNorm = false;
};

/// Appends the attention half's layer tensors, in declaration order:
/// attn_norm, attn_q, attn_k, attn_v (each with its bias), the q/k norms,
/// attn_output.
void addSelfAttentionTensors(const ModelConfig &config,
                             SelfAttentionShape shape, TensorList &out);

/// The Hugging Face name (after the layer prefix) of an attention-half
/// tensor kind, or none for other kinds.
std::optional<llvm::StringRef> getHFSelfAttentionName(llvm::StringRef kind);

/// attn_output(attention(rope(q), rope(k), v)) for the normalized input `h`
/// of layer `layer`, before the residual add.
mlir::Value emitSelfAttention(GraphEmitter &emitter, mlir::Value h,
                              int64_t layer, SelfAttentionShape shape);

} // namespace tlmc

#endif // TLMC_COMPILER_IMPORT_FAMILY_SELFATTENTION_H
