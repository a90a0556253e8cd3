//===- Llama.cpp - LLaMA 1-3, SmolLM2/3, TinyLlama, MobileLLM --------*- C++ -*-===//
//
// The reference block. Llama-3's long-context RoPE scaling is not a graph
// variant: its per-pair frequency factors (GGUF `rope_freqs`, or derived from
// config.json's `rope_scaling`) ride on ModelConfig into every tlm.rope.
//
//===----------------------------------------------------------------------===//

#include "compiler/import/family/PreNormDecoder.h"

const tlmc::Family &tlmc::getLlamaFamily() {
  static const PreNormDecoderFamily family({
      /*name=*/"llama", /*hfModelType=*/"llama",
      /*hfArchitecture=*/"LlamaForCausalLM",
      // llama.cpp's converter permutes LLaMA's q/k rows to adjacent pairs.
      /*ggufRopeStyle=*/mlir::tlm::RopeStyle::Adjacent});
  return family;
}
