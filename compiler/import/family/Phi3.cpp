//===- Phi3.cpp - Phi-3 (mini, medium; 4k context) --------------------*- C++ -*-===//
//
// The LLaMA block, stored fused: q, k and v in one `attn_qkv` (HF
// `qkv_proj`) and gate and up in one `ffn_up` (HF `gate_up_proj`, gate rows
// first), which the importers split so that the graph, the compression
// passes and the kernels see LLaMA's projections. Rotate-half RoPE. Its
// sliding window (2047 positions) changes nothing while the compiled context
// fits in it; a longer context is refused. The 128k variants' LongRoPE
// (`rope_scaling` type longrope, GGUF rope_factors_long/short) is refused.
//
//===----------------------------------------------------------------------===//

#include "compiler/import/family/PreNormDecoder.h"

const tlmc::Family &tlmc::getPhi3Family() {
  static const PreNormDecoderFamily family({
      /*name=*/"phi3", /*hfModelType=*/"phi3",
      /*hfArchitecture=*/"Phi3ForCausalLM",
      /*ggufRopeStyle=*/mlir::tlm::RopeStyle::RotateHalf,
      /*qkvBias=*/false, /*qkNorm=*/false, /*fusedProjections=*/true,
      /*slidingWindow=*/true});
  return family;
}
