//===- GemmaDecoder.cpp - the Gemma-2/3 block -------------------------*- C++ -*-===//
//
// Gemma's block, as transformers' Gemma2/Gemma3DecoderLayer and llama.cpp's
// gemma2/gemma3 graphs compute it:
//
//   h = post_attention_norm(attention(rope(q_norm(q)), rope(k_norm(k)), v))
//   x = x + h       q, k, v projected from attn_norm(x); q/k norms: Gemma-3
//   h = post_ffw_norm(down(gelu_tanh(gate(f)) * up(f)))   f = ffn_norm(x)
//   x = x + h
//
// on embeddings scaled by sqrt(hidden_size). Every norm is an RMSNorm
// multiplying by (1 + w): GGUF stores w + 1, which is what tlm.rms_norm
// multiplies by, so the HF importer adds the 1. Scores are scaled by
// 1/sqrt(query_pre_attn_scalar). Local layers attend within a sliding
// window, the others globally:
//   Gemma-3: five of six local (window 512 for 270M/1B) with RoPE base
//            rope_local_base_freq (1e4), every sixth global (1e6); per-head
//            q/k norms.
//   Gemma-2: every other layer local (window 4096), one RoPE base; no q/k
//            norms; scores and logits soft-capped (cap * tanh(x / cap),
//            50 and 30).
// RoPE scaling (Gemma-3 4B+) is refused.
//
//===----------------------------------------------------------------------===//

#include "compiler/import/family/GemmaDecoder.h"
#include "compiler/import/common/BinaryReader.h"
#include "compiler/import/family/GraphEmitter.h"
#include "compiler/import/family/SelfAttention.h"

#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>

using namespace mlir;
using namespace tlmc;

void GemmaDecoderFamily::addLayerTensors(const ModelConfig &c,
                                         TensorList &out) const {
  addSelfAttentionTensors(c, {/*qkvBias=*/false, traits.qkNorm}, out);
  out.push_back({"post_attention_norm", {c.dim}});
  out.push_back({"ffn_norm", {c.dim}});
  out.push_back({"ffn_gate", {c.ffnDim, c.dim}});
  out.push_back({"ffn_up", {c.ffnDim, c.dim}});
  out.push_back({"ffn_down", {c.dim, c.ffnDim}});
  out.push_back({"post_ffw_norm", {c.dim}});
}

std::optional<StringRef>
GemmaDecoderFamily::getHFLayerName(StringRef kind) const {
  if (std::optional<StringRef> name = getHFSelfAttentionName(kind))
    return name;
  return llvm::StringSwitch<std::optional<StringRef>>(kind)
      .Case("post_attention_norm", "post_attention_layernorm")
      .Case("ffn_norm", "pre_feedforward_layernorm")
      .Case("ffn_gate", "mlp.gate_proj")
      .Case("ffn_up", "mlp.up_proj")
      .Case("ffn_down", "mlp.down_proj")
      .Case("post_ffw_norm", "post_feedforward_layernorm")
      .Default(std::nullopt);
}

Value GemmaDecoderFamily::emitInput(GraphEmitter &g, Value x) const {
  return g.scale(x, std::sqrt(float(g.getConfig().dim)));
}

Value GemmaDecoderFamily::emitLogits(GraphEmitter &g, Value x) const {
  float cap = g.getConfig().finalLogitSoftcap;
  return cap > 0 ? g.softcap(x, cap) : x;
}

Value GemmaDecoderFamily::emitBlock(GraphEmitter &g, Value x,
                                    int64_t layer) const {
  std::string p = GraphEmitter::layerPrefix(layer);
  Value h = g.norm(x, p + "attn_norm");
  Value attn =
      emitSelfAttention(g, h, layer, {/*qkvBias=*/false, traits.qkNorm});
  x = g.add(x, g.norm(attn, p + "post_attention_norm"));
  Value f = g.norm(x, p + "ffn_norm");
  Value act = g.geglu(g.linear(f, p + "ffn_gate"), g.linear(f, p + "ffn_up"));
  return g.add(x, g.norm(g.linear(act, p + "ffn_down"), p + "post_ffw_norm"));
}

llvm::Error GemmaDecoderFamily::readHFConfig(const llvm::json::Object &o,
                                             StringRef path,
                                             ModelConfig &c) const {
  auto refuse = [&](const Twine &message) {
    return makeImportError(path, message);
  };
  std::optional<StringRef> act = o.getString("hidden_activation");
  if (!act)
    act = o.getString("hidden_act");
  if (act && *act != "gelu_pytorch_tanh")
    return refuse("field 'hidden_activation' '" + *act +
                  "' is not supported (expected gelu_pytorch_tanh)");
  if (o.getBoolean("attention_bias").value_or(false))
    return refuse("field 'attention_bias' true: a " + traits.name +
                  " model has no q/k/v biases");
  if (o.getBoolean("use_bidirectional_attention").value_or(false))
    return refuse("field 'use_bidirectional_attention' true: only causal "
                  "attention is supported");
  if (!c.ropeFreqFactors.empty())
    return refuse("field 'rope_scaling': RoPE scaling is not supported for " +
                  traits.name);
  auto number = [&](StringRef key, float fallback) -> std::optional<float> {
    const llvm::json::Value *v = o.get(key);
    if (!v || v->kind() == llvm::json::Value::Null)
      return fallback;
    std::optional<double> d = v->getAsNumber();
    if (!d || !(*d > 0))
      return std::nullopt;
    return float(*d);
  };
  std::optional<float> scalar =
      number("query_pre_attn_scalar", float(c.headDim));
  if (!scalar)
    return refuse("field 'query_pre_attn_scalar': expected a positive number");
  c.queryPreAttnScalar = *scalar;
  for (auto [field, cap] : {std::pair{"attn_logit_softcapping",
                                      &c.attnLogitSoftcap},
                            std::pair{"final_logit_softcapping",
                                      &c.finalLogitSoftcap}}) {
    std::optional<float> value = number(field, 0.0f);
    if (!value)
      return refuse(llvm::Twine("field '") + field +
                    "': expected a positive number or null");
    *cap = *value;
  }
  // Gemma-2 has one RoPE base for every layer.
  std::optional<float> local = number(
      "rope_local_base_freq", traits.localRopeBase ? kRopeThetaLocal : c.ropeTheta);
  if (!local)
    return refuse("field 'rope_local_base_freq': expected a positive number");
  c.ropeThetaLocal = *local;
  if (const llvm::json::Value *w = o.get("sliding_window");
      w && w->kind() != llvm::json::Value::Null) {
    std::optional<int64_t> window = w->getAsInteger();
    if (!window || *window <= 0)
      return refuse("field 'sliding_window': expected a positive integer");
    c.slidingWindow = *window;
  }
  c.slidingWindowPattern = traits.slidingWindowPattern;
  if (const llvm::json::Value *v = o.get("sliding_window_pattern")) {
    std::optional<int64_t> pattern = v->getAsInteger();
    if (!pattern || *pattern <= 0)
      return refuse("field 'sliding_window_pattern': expected a positive "
                    "integer");
    c.slidingWindowPattern = *pattern;
  }
  // Newer configs list each layer's kind; it must be the periodic pattern
  // the graph builds.
  if (const llvm::json::Array *types = o.getArray("layer_types")) {
    if (int64_t(types->size()) != c.layers)
      return refuse(llvm::formatv("field 'layer_types': {0} entries for {1} "
                                  "layers",
                                  types->size(), c.layers));
    for (int64_t l = 0; l < c.layers; ++l) {
      std::optional<StringRef> type = (*types)[l].getAsString();
      bool local = (l + 1) % c.slidingWindowPattern != 0;
      if (!type || *type != (local ? "sliding_attention" : "full_attention"))
        return refuse(llvm::formatv(
            "field 'layer_types': layer {0} is '{1}', expected '{2}' (every "
            "{3}th layer global, the others sliding)",
            l, type.value_or("?"),
            local ? "sliding_attention" : "full_attention",
            c.slidingWindowPattern));
    }
  }
  return llvm::Error::success();
}

void GemmaDecoderFamily::writeHFConfig(const ModelConfig &c,
                                       llvm::json::Object &config) const {
  config.erase("hidden_act");
  config["hidden_activation"] = "gelu_pytorch_tanh";
  config["query_pre_attn_scalar"] = double(c.queryPreAttnScalar);
  if (traits.localRopeBase)
    config["rope_local_base_freq"] = double(c.ropeThetaLocal);
  config["sliding_window_pattern"] = c.slidingWindowPattern;
  auto capOrNull = [](float cap) -> llvm::json::Value {
    return cap > 0 ? llvm::json::Value(double(cap)) : llvm::json::Value(nullptr);
  };
  config["final_logit_softcapping"] = capOrNull(c.finalLogitSoftcap);
  config["attn_logit_softcapping"] = capOrNull(c.attnLogitSoftcap);
  config["rope_scaling"] = nullptr;
}

void GemmaDecoderFamily::completeGGUFConfig(ModelConfig &c) const {
  if (c.slidingWindowPattern <= 0)
    c.slidingWindowPattern = traits.slidingWindowPattern;
  if (c.ropeThetaLocal <= 0)
    c.ropeThetaLocal = traits.localRopeBase ? kRopeThetaLocal : c.ropeTheta;
  // GGUF does not store query_pre_attn_scalar; llama.cpp scales by
  // 1/sqrt(head_dim), except for the 27B models (Gemma-2: 46 layers,
  // Gemma-3: 62), whose scalar is hidden_size / heads.
  c.queryPreAttnScalar = c.layers == traits.largestLayers
                             ? float(c.dim / c.heads)
                             : float(c.headDim);
}
