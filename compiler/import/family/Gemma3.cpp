//===- Gemma3.cpp - Gemma-3 (text) ------------------------------------*- C++ -*-===//
//
// Gemma-3's block, as transformers' Gemma3DecoderLayer and llama.cpp's gemma3
// graph compute it:
//
//   h = post_attention_norm(attention(rope(k_norm(k)), rope(q_norm(q)), v))
//   x = x + h                  with q, k, v projected from attn_norm(x)
//   h = post_ffw_norm(down(gelu_tanh(gate(f)) * up(f)))   f = ffn_norm(x)
//   x = x + h
//
// on embeddings scaled by sqrt(hidden_size). Every norm is an RMSNorm
// multiplying by (1 + w): GGUF stores w + 1, which is what tlm.rms_norm
// multiplies by, so the HF importer adds the 1. Five of every six layers
// attend within a sliding window (512 positions for 270M and 1B) with RoPE
// base rope_local_base_freq (10000), every sixth globally with rope_theta
// (1e6); scores are scaled by 1/sqrt(query_pre_attn_scalar). Logit
// soft-capping (Gemma-2's) and RoPE scaling (Gemma-3 4B+) are refused.
//
//===----------------------------------------------------------------------===//

#include "compiler/import/common/BinaryReader.h"
#include "compiler/import/family/Family.h"
#include "compiler/import/family/GraphEmitter.h"

#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>

using namespace mlir;
using namespace tlmc;

namespace {

class Gemma3Family : public Family {
public:
  StringRef getName() const override { return "gemma3"; }
  StringRef getHFModelType() const override { return "gemma3_text"; }
  StringRef getHFArchitecture() const override { return "Gemma3ForCausalLM"; }
  tlm::RopeStyle getGGUFRopeStyle() const override {
    return tlm::RopeStyle::RotateHalf;
  }
  bool appliesSlidingWindow() const override { return true; }
  Value emitInput(GraphEmitter &g, Value x) const override {
    return g.scale(x, std::sqrt(float(g.getConfig().dim)));
  }
  bool hfNormsOffsetByOne() const override { return true; }

  void addLayerTensors(const ModelConfig &c, TensorList &out) const override {
    int64_t qDim = c.heads * c.headDim, kvDim = c.kvHeads * c.headDim;
    out.push_back({"attn_norm", {c.dim}});
    out.push_back({"attn_q", {qDim, c.dim}});
    out.push_back({"attn_k", {kvDim, c.dim}});
    out.push_back({"attn_v", {kvDim, c.dim}});
    out.push_back({"attn_q_norm", {c.headDim}});
    out.push_back({"attn_k_norm", {c.headDim}});
    out.push_back({"attn_output", {c.dim, qDim}});
    out.push_back({"post_attention_norm", {c.dim}});
    out.push_back({"ffn_norm", {c.dim}});
    out.push_back({"ffn_gate", {c.ffnDim, c.dim}});
    out.push_back({"ffn_up", {c.ffnDim, c.dim}});
    out.push_back({"ffn_down", {c.dim, c.ffnDim}});
    out.push_back({"post_ffw_norm", {c.dim}});
  }

  std::optional<StringRef> getHFLayerName(StringRef kind) const override {
    return llvm::StringSwitch<std::optional<StringRef>>(kind)
        .Case("attn_norm", "input_layernorm")
        .Case("attn_q", "self_attn.q_proj")
        .Case("attn_k", "self_attn.k_proj")
        .Case("attn_v", "self_attn.v_proj")
        .Case("attn_q_norm", "self_attn.q_norm")
        .Case("attn_k_norm", "self_attn.k_norm")
        .Case("attn_output", "self_attn.o_proj")
        .Case("post_attention_norm", "post_attention_layernorm")
        .Case("ffn_norm", "pre_feedforward_layernorm")
        .Case("ffn_gate", "mlp.gate_proj")
        .Case("ffn_up", "mlp.up_proj")
        .Case("ffn_down", "mlp.down_proj")
        .Case("post_ffw_norm", "post_feedforward_layernorm")
        .Default(std::nullopt);
  }

  llvm::Error readHFConfig(const llvm::json::Object &o, StringRef path,
                           ModelConfig &c) const override;
  void writeHFConfig(const ModelConfig &c,
                     llvm::json::Object &config) const override;
  void completeGGUFConfig(ModelConfig &c) const override;

  Value emitBlock(GraphEmitter &g, Value x, int64_t layer) const override {
    std::string p = GraphEmitter::layerPrefix(layer);
    Value h = g.norm(x, p + "attn_norm");
    Value q = g.norm(g.linear(h, p + "attn_q"), p + "attn_q_norm");
    Value k = g.norm(g.linear(h, p + "attn_k"), p + "attn_k_norm");
    Value v = g.linear(h, p + "attn_v");
    Value attn = g.attention(g.rope(q, layer), g.rope(k, layer), v, layer);
    x = g.add(x, g.norm(g.linear(attn, p + "attn_output"),
                        p + "post_attention_norm"));
    Value f = g.norm(x, p + "ffn_norm");
    Value act = g.geglu(g.linear(f, p + "ffn_gate"), g.linear(f, p + "ffn_up"));
    return g.add(x, g.norm(g.linear(act, p + "ffn_down"), p + "post_ffw_norm"));
  }
};

/// Gemma-3's defaults where a file leaves them out: llama.cpp's (a period of
/// 6, a local base of 10000) and the query scale of every size but 27B.
constexpr int64_t kSlidingWindowPattern = 6;
constexpr float kRopeThetaLocal = 10000.0f;

llvm::Error Gemma3Family::readHFConfig(const llvm::json::Object &o,
                                       StringRef path, ModelConfig &c) const {
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
    return refuse("field 'attention_bias' true: a gemma3 model has no q/k/v "
                  "biases");
  if (o.getBoolean("use_bidirectional_attention").value_or(false))
    return refuse("field 'use_bidirectional_attention' true: only causal "
                  "attention is supported");
  for (const char *field : {"final_logit_softcapping", "attn_logit_softcapping"})
    if (const llvm::json::Value *v = o.get(field);
        v && v->kind() != llvm::json::Value::Null)
      return refuse(llvm::Twine("field '") + field +
                    "': logit soft-capping is not supported");
  if (!c.ropeFreqFactors.empty())
    return refuse("field 'rope_scaling': RoPE scaling is not supported for "
                  "gemma3");
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
  std::optional<float> local = number("rope_local_base_freq", kRopeThetaLocal);
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
  c.slidingWindowPattern = kSlidingWindowPattern;
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

void Gemma3Family::writeHFConfig(const ModelConfig &c,
                                 llvm::json::Object &config) const {
  config.erase("hidden_act");
  config["hidden_activation"] = "gelu_pytorch_tanh";
  config["query_pre_attn_scalar"] = double(c.queryPreAttnScalar);
  config["rope_local_base_freq"] = double(c.ropeThetaLocal);
  config["sliding_window_pattern"] = c.slidingWindowPattern;
  config["final_logit_softcapping"] = nullptr;
  config["attn_logit_softcapping"] = nullptr;
  config["rope_scaling"] = nullptr;
}

void Gemma3Family::completeGGUFConfig(ModelConfig &c) const {
  if (c.slidingWindowPattern <= 0)
    c.slidingWindowPattern = kSlidingWindowPattern;
  if (c.ropeThetaLocal <= 0)
    c.ropeThetaLocal = kRopeThetaLocal;
  // GGUF does not store query_pre_attn_scalar; llama.cpp scales by
  // 1/sqrt(head_dim), except for the 27B model (62 layers), whose scalar is
  // hidden_size / heads.
  c.queryPreAttnScalar = c.layers == 62 ? float(c.dim / c.heads)
                                        : float(c.headDim);
}

} // namespace

const Family &tlmc::getGemma3Family() {
  static const Gemma3Family family;
  return family;
}
