//===- SelfAttention.cpp - the attention half of the RMSNorm decoders -----===//

#include "compiler/import/family/SelfAttention.h"
#include "compiler/import/family/GraphEmitter.h"

#include "llvm/ADT/StringSwitch.h"

using namespace mlir;
using namespace tlmc;

void tlmc::addSelfAttentionTensors(const ModelConfig &c,
                                   SelfAttentionShape shape, TensorList &out) {
  int64_t qDim = c.heads * c.headDim, kvDim = c.kvHeads * c.headDim;
  out.push_back({"attn_norm", {c.dim}});
  for (auto [kind, rows] : {std::pair{"attn_q", qDim},
                            std::pair{"attn_k", kvDim},
                            std::pair{"attn_v", kvDim}}) {
    out.push_back({kind, {rows, c.dim}});
    if (shape.qkvBias)
      out.push_back({std::string(kind) + ".bias", {rows}});
  }
  if (shape.qkNorm) {
    out.push_back({"attn_q_norm", {c.headDim}});
    out.push_back({"attn_k_norm", {c.headDim}});
  }
  out.push_back({"attn_output", {c.dim, qDim}});
}

std::optional<StringRef> tlmc::getHFSelfAttentionName(StringRef kind) {
  return llvm::StringSwitch<std::optional<StringRef>>(kind)
      .Case("attn_norm", "input_layernorm")
      .Case("attn_q", "self_attn.q_proj")
      .Case("attn_k", "self_attn.k_proj")
      .Case("attn_v", "self_attn.v_proj")
      .Case("attn_q_norm", "self_attn.q_norm")
      .Case("attn_k_norm", "self_attn.k_norm")
      .Case("attn_output", "self_attn.o_proj")
      .Default(std::nullopt);
}

Value tlmc::emitSelfAttention(GraphEmitter &g, Value h, int64_t layer,
                              SelfAttentionShape shape) {
  std::string p = GraphEmitter::layerPrefix(layer);
  auto project = [&](StringRef kind) {
    Value y = g.linear(h, p + kind.str());
    return shape.qkvBias ? g.addBias(y, p + kind.str() + ".bias") : y;
  };
  Value q = project("attn_q"), k = project("attn_k"), v = project("attn_v");
  if (shape.qkNorm) {
    q = g.norm(q, p + "attn_q_norm");
    k = g.norm(k, p + "attn_k_norm");
  }
  Value attn = g.attention(g.rope(q, layer), g.rope(k, layer), v, layer);
  return g.linear(attn, p + "attn_output");
}
