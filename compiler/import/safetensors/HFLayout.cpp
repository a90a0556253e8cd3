//===- HFLayout.cpp - Hugging Face names and q/k row order -----------*- C++ -*-===//

#include "compiler/import/safetensors/HFLayout.h"

#include <cstring>

using namespace tlmc;

std::string tlmc::getHFTensorName(llvm::StringRef canonical) {
  if (canonical == "token_embd")
    return "model.embed_tokens.weight";
  if (canonical == "output_norm")
    return "model.norm.weight";
  if (canonical == "output")
    return "lm_head.weight";
  static const std::pair<llvm::StringRef, llvm::StringRef> layerNames[] = {
      {"attn_norm", "input_layernorm"},
      {"attn_q", "self_attn.q_proj"},
      {"attn_k", "self_attn.k_proj"},
      {"attn_v", "self_attn.v_proj"},
      {"attn_output", "self_attn.o_proj"},
      {"ffn_norm", "post_attention_layernorm"},
      {"ffn_gate", "mlp.gate_proj"},
      {"ffn_up", "mlp.up_proj"},
      {"ffn_down", "mlp.down_proj"}};
  if (!canonical.consume_front("blk."))
    return canonical.str();
  auto [layer, kind] = canonical.split('.');
  for (auto [ours, theirs] : layerNames)
    if (kind == ours)
      return "model.layers." + layer.str() + "." + theirs.str() + ".weight";
  return canonical.str();
}

std::vector<char> tlmc::permuteQKRows(llvm::ArrayRef<char> bytes, int64_t rows,
                                      int64_t heads, bool toRotateHalf) {
  int64_t headDim = rows / heads;
  size_t rowBytes = bytes.size() / rows;
  std::vector<char> out(bytes.size());
  for (int64_t h = 0; h < heads; ++h)
    for (int64_t j = 0; j < headDim / 2; ++j)
      for (int64_t i = 0; i < 2; ++i) {
        int64_t adjacent = h * headDim + 2 * j + i;
        int64_t rotateHalf = h * headDim + i * (headDim / 2) + j;
        int64_t to = toRotateHalf ? rotateHalf : adjacent;
        int64_t from = toRotateHalf ? adjacent : rotateHalf;
        std::memcpy(out.data() + to * rowBytes, bytes.data() + from * rowBytes,
                    rowBytes);
      }
  return out;
}
