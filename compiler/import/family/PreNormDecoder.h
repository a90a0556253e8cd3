//===- PreNormDecoder.h - the LLaMA-shaped block and its variants -*- C++ -*-===//
//
// LLaMA, Qwen2, Qwen3 and Phi-3 share one block: RMSNorm before attention
// and before a SwiGLU feed-forward, residual adds after each. They differ in
// what a few switches say: biases on the q/k/v projections (Qwen2), a
// per-head RMSNorm on queries and keys before RoPE (Qwen3), fused
// projections in the files and a sliding window (Phi-3), and how GGUF
// orders q/k rows. Each family file is one instance of this class.
//
//===----------------------------------------------------------------------===//

#ifndef TLMC_COMPILER_IMPORT_FAMILY_PRENORMDECODER_H
#define TLMC_COMPILER_IMPORT_FAMILY_PRENORMDECODER_H

#include "compiler/import/family/Family.h"
#include "compiler/import/family/SelfAttention.h"

namespace tlmc {

struct PreNormDecoderTraits {
  llvm::StringRef name, hfModelType, hfArchitecture;
  mlir::tlm::RopeStyle ggufRopeStyle;
  /// q, k and v projections add a bias (`attn_q.bias`, ...).
  bool qkvBias = false;
  /// queries and keys are RMS-normalized per head before RoPE
  /// (`attn_q_norm`, `attn_k_norm`, head_dim wide).
  bool qkNorm = false;
  /// Files store q, k, v as one `attn_qkv` and gate, up as one `ffn_up`
  /// (gate rows first), with HF names `qkv_proj` and `gate_up_proj`.
  bool fusedProjections = false;
  /// config.json's `sliding_window` applies (Phi-3) rather than being
  /// switched off by `use_sliding_window` (Qwen).
  bool slidingWindow = false;
};

class PreNormDecoderFamily : public Family {
public:
  explicit PreNormDecoderFamily(PreNormDecoderTraits traits)
      : traits(traits) {}

  llvm::StringRef getName() const override { return traits.name; }
  llvm::StringRef getHFModelType() const override {
    return traits.hfModelType;
  }
  llvm::StringRef getHFArchitecture() const override {
    return traits.hfArchitecture;
  }
  mlir::tlm::RopeStyle getGGUFRopeStyle() const override {
    return traits.ggufRopeStyle;
  }
  void addLayerTensors(const ModelConfig &config,
                       TensorList &out) const override;
  std::vector<FusedTensor> getFusedTensors() const override;
  std::optional<llvm::StringRef>
  getHFLayerName(llvm::StringRef kind) const override;
  llvm::Error readHFConfig(const llvm::json::Object &json,
                           llvm::StringRef path,
                           ModelConfig &config) const override;
  mlir::Value emitBlock(GraphEmitter &emitter, mlir::Value x,
                        int64_t layer) const override;

private:
  SelfAttentionShape attentionShape() const {
    return {traits.qkvBias, traits.qkNorm};
  }

  PreNormDecoderTraits traits;
};

} // namespace tlmc

#endif // TLMC_COMPILER_IMPORT_FAMILY_PRENORMDECODER_H
