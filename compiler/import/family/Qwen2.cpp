//===- Qwen2.cpp - Qwen2 and Qwen2.5 ----------------------------------*- C++ -*-===//
//
// The LLaMA block with biases on the q, k and v projections; q/k rows stay
// in Hugging Face's rotate-half order in GGUF too.
//
//===----------------------------------------------------------------------===//

#include "compiler/import/family/PreNormDecoder.h"

const tlmc::Family &tlmc::getQwen2Family() {
  static const PreNormDecoderFamily family({
      /*name=*/"qwen2", /*hfModelType=*/"qwen2",
      /*hfArchitecture=*/"Qwen2ForCausalLM",
      /*ggufRopeStyle=*/mlir::tlm::RopeStyle::RotateHalf,
      /*qkvBias=*/true});
  return family;
}
