//===- Gemma2.cpp - Gemma-2 -------------------------------------------*- C++ -*-===//
//
// Every other layer local (sliding window 4096), one RoPE base, no q/k
// norms; attention scores and logits soft-capped (50 and 30).
//
//===----------------------------------------------------------------------===//

#include "compiler/import/family/GemmaDecoder.h"

const tlmc::Family &tlmc::getGemma2Family() {
  static const GemmaDecoderFamily family({
      /*name=*/"gemma2", /*hfModelType=*/"gemma2",
      /*hfArchitecture=*/"Gemma2ForCausalLM", /*qkNorm=*/false,
      /*slidingWindowPattern=*/2, /*localRopeBase=*/false,
      /*ggufAttnSoftcap=*/50.0f, /*ggufFinalSoftcap=*/30.0f,
      /*largestLayers=*/46});
  return family;
}
