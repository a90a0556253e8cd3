//===- Qwen3.cpp - Qwen3 (dense) --------------------------------------*- C++ -*-===//
//
// The LLaMA block with a per-head RMSNorm on queries and keys before RoPE,
// no biases, and a head_dim that need not be hidden_size / heads (Qwen3-0.6B:
// 16 heads of 128 on a 1024-wide stream).
//
//===----------------------------------------------------------------------===//

#include "compiler/import/family/PreNormDecoder.h"

const tlmc::Family &tlmc::getQwen3Family() {
  static const PreNormDecoderFamily family({
      /*name=*/"qwen3", /*hfModelType=*/"qwen3",
      /*hfArchitecture=*/"Qwen3ForCausalLM",
      /*ggufRopeStyle=*/mlir::tlm::RopeStyle::RotateHalf,
      /*qkvBias=*/false, /*qkNorm=*/true});
  return family;
}
