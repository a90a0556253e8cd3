//===- PreNormDecoder.cpp - the LLaMA-shaped block and its variants -*- C++ -*-===//

#include "compiler/import/family/PreNormDecoder.h"
#include "compiler/import/common/BinaryReader.h"
#include "compiler/import/family/GraphEmitter.h"

#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace tlmc;

void PreNormDecoderFamily::addLayerTensors(const ModelConfig &c,
                                           TensorList &out) const {
  addSelfAttentionTensors(c, attentionShape(), out);
  out.push_back({"ffn_norm", {c.dim}});
  out.push_back({"ffn_gate", {c.ffnDim, c.dim}});
  out.push_back({"ffn_up", {c.ffnDim, c.dim}});
  out.push_back({"ffn_down", {c.dim, c.ffnDim}});
}

std::vector<FusedTensor> PreNormDecoderFamily::getFusedTensors() const {
  if (!traits.fusedProjections)
    return {};
  return {{"attn_qkv", {"attn_q", "attn_k", "attn_v"}},
          {"ffn_up", {"ffn_gate", "ffn_up"}}};
}

std::optional<StringRef>
PreNormDecoderFamily::getHFLayerName(StringRef kind) const {
  if (traits.fusedProjections) {
    if (kind == "attn_qkv")
      return StringRef("self_attn.qkv_proj");
    if (kind == "ffn_up")
      return StringRef("mlp.gate_up_proj");
  }
  if (std::optional<StringRef> name = getHFSelfAttentionName(kind))
    return name;
  return llvm::StringSwitch<std::optional<StringRef>>(kind)
      .Case("ffn_norm", "post_attention_layernorm")
      .Case("ffn_gate", "mlp.gate_proj")
      .Case("ffn_up", "mlp.up_proj")
      .Case("ffn_down", "mlp.down_proj")
      .Default(std::nullopt);
}

llvm::Error PreNormDecoderFamily::readHFConfig(const llvm::json::Object &o,
                                               StringRef path,
                                               ModelConfig &config) const {
  auto refuse = [&](const Twine &message) {
    return makeImportError(path, message);
  };
  // Qwen2's config has no attention_bias field: its biases are implied.
  std::optional<bool> bias = o.getBoolean("attention_bias");
  if (bias && *bias != traits.qkvBias)
    return refuse(llvm::formatv("field 'attention_bias' {0}: a {1} model {2} "
                                "q/k/v biases",
                                *bias ? "true" : "false", traits.name,
                                traits.qkvBias ? "has" : "has no"));
  if (o.getBoolean("mlp_bias").value_or(false))
    return refuse("field 'mlp_bias' true: feed-forward biases are not "
                  "supported for " +
                  traits.name);
  if (o.getBoolean("use_sliding_window").value_or(false))
    return refuse("field 'use_sliding_window' true: sliding-window attention "
                  "is not supported for " +
                  traits.name);
  if (traits.slidingWindow)
    if (const llvm::json::Value *w = o.get("sliding_window");
        w && w->kind() != llvm::json::Value::Null) {
      std::optional<int64_t> window = w->getAsInteger();
      if (!window || *window <= 0)
        return refuse("field 'sliding_window': expected a positive integer");
      config.slidingWindow = *window;
    }
  if (const llvm::json::Value *partial = o.get("partial_rotary_factor");
      partial && partial->getAsNumber() != 1.0)
    return refuse("field 'partial_rotary_factor': partial rotary embeddings "
                  "are not supported");
  if (std::optional<StringRef> act = o.getString("hidden_act");
      act && *act != "silu")
    return refuse("field 'hidden_act' '" + *act +
                  "' is not supported (expected silu)");
  return llvm::Error::success();
}

Value PreNormDecoderFamily::emitBlock(GraphEmitter &g, Value x,
                                      int64_t layer) const {
  std::string p = GraphEmitter::layerPrefix(layer);
  Value h = g.norm(x, p + "attn_norm");
  x = g.add(x, emitSelfAttention(g, h, layer, attentionShape()));
  Value f = g.norm(x, p + "ffn_norm");
  Value act = g.swiglu(g.linear(f, p + "ffn_gate"), g.linear(f, p + "ffn_up"));
  return g.add(x, g.linear(act, p + "ffn_down"));
}
