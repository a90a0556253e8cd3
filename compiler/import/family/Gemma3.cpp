//===- Gemma3.cpp - Gemma-3 (text) ------------------------------------*- C++ -*-===//
//
// Five local layers (sliding window, RoPE base 1e4) to one global (1e6),
// per-head q/k norms; no soft-capping (llama.cpp applies none to gemma3).
//
//===----------------------------------------------------------------------===//

#include "compiler/import/family/GemmaDecoder.h"

const tlmc::Family &tlmc::getGemma3Family() {
  static const GemmaDecoderFamily family({
      /*name=*/"gemma3", /*hfModelType=*/"gemma3_text",
      /*hfArchitecture=*/"Gemma3ForCausalLM", /*qkNorm=*/true,
      /*slidingWindowPattern=*/6, /*localRopeBase=*/true,
      /*ggufAttnSoftcap=*/0.0f, /*ggufFinalSoftcap=*/0.0f,
      /*largestLayers=*/62});
  return family;
}
