//===- GPT2.cpp - GPT-2 -----------------------------------------------*- C++ -*-===//
//
// GPT-2's block, as transformers' GPT2Block and llama.cpp's gpt2 graph
// compute it:
//
//   x = x + attn_output(attention(q, k, v)) + b   q, k, v = attn_qkv(ln_1(x))
//   x = x + ffn_down(gelu(ffn_up(ln_2(x)) + b)) + b
//
// with LayerNorms (weight and bias), biases on every projection, no RoPE
// but learned absolute positions added to the token embeddings, multi-head
// attention (as many KV heads as heads), a final LayerNorm and a classifier
// tied to the embeddings. Files store q, k and v as one attn_qkv (and its
// bias), split at import. Hugging Face stores the projections as Conv1D
// weights, in x out: transposed at import.
//
//===----------------------------------------------------------------------===//

#include "compiler/import/common/BinaryReader.h"
#include "compiler/import/family/Family.h"
#include "compiler/import/family/GraphEmitter.h"

#include "llvm/ADT/StringSwitch.h"

using namespace mlir;
using namespace tlmc;

namespace {

class GPT2Family : public Family {
public:
  StringRef getName() const override { return "gpt2"; }
  StringRef getHFModelType() const override { return "gpt2"; }
  StringRef getHFArchitecture() const override { return "GPT2LMHeadModel"; }
  // No RoPE; HF's q/k rows are used as they are.
  tlm::RopeStyle getGGUFRopeStyle() const override {
    return tlm::RopeStyle::RotateHalf;
  }
  bool usesLayerNorm() const override { return true; }

  void addInputTensors(const ModelConfig &c, TensorList &out) const override {
    out.push_back({"position_embd", {c.positions, c.dim}});
  }
  void addOutputNormTensors(const ModelConfig &c,
                            TensorList &out) const override {
    out.push_back({"output_norm", {c.dim}});
    out.push_back({"output_norm.bias", {c.dim}});
  }

  void addLayerTensors(const ModelConfig &c, TensorList &out) const override {
    // GPT-2 itself has as many KV heads as heads; llama.cpp's graph (and
    // this one) take fewer too.
    int64_t qDim = c.heads * c.headDim, kvDim = c.kvHeads * c.headDim;
    for (auto [kind, rows, cols] :
         {std::tuple{"attn_norm", c.dim, int64_t(0)},
          std::tuple{"attn_q", qDim, c.dim}, std::tuple{"attn_k", kvDim, c.dim},
          std::tuple{"attn_v", kvDim, c.dim},
          std::tuple{"attn_output", c.dim, qDim},
          std::tuple{"ffn_norm", c.dim, int64_t(0)},
          std::tuple{"ffn_up", c.ffnDim, c.dim},
          std::tuple{"ffn_down", c.dim, c.ffnDim}}) {
      std::string k = kind;
      if (cols)
        out.push_back({k, {rows, cols}});
      else
        out.push_back({k, {rows}});
      out.push_back({k + ".bias", {rows}});
    }
  }
  std::vector<FusedTensor> getFusedTensors() const override {
    return {{"attn_qkv", {"attn_q", "attn_k", "attn_v"}},
            {"attn_qkv.bias", {"attn_q.bias", "attn_k.bias", "attn_v.bias"}}};
  }
  std::optional<StringRef> getHFLayerName(StringRef kind) const override {
    return llvm::StringSwitch<std::optional<StringRef>>(kind)
        .Case("attn_norm", "ln_1")
        .Case("attn_qkv", "attn.c_attn")
        .Case("attn_output", "attn.c_proj")
        .Case("ffn_norm", "ln_2")
        .Case("ffn_up", "mlp.c_fc")
        .Case("ffn_down", "mlp.c_proj")
        .Default(std::nullopt);
  }

  std::optional<std::string>
  getHFGlobalName(StringRef canonical) const override {
    return llvm::StringSwitch<std::optional<std::string>>(canonical)
        .Case("token_embd", "wte.weight")
        .Case("position_embd", "wpe.weight")
        .Case("output_norm", "ln_f.weight")
        .Case("output_norm.bias", "ln_f.bias")
        .Case("output", "lm_head.weight")
        .Default(std::nullopt);
  }
  StringRef getHFLayerPrefix() const override { return "h."; }
  StringRef getHFOptionalPrefix() const override { return "transformer."; }
  bool isHFTransposed(StringRef kind) const override {
    return kind == "attn_qkv" || kind == "attn_output" || kind == "ffn_up" ||
           kind == "ffn_down";
  }
  bool isHFBuffer(StringRef name) const override {
    // The causal mask older checkpoints store with each layer.
    return name.ends_with(".attn.bias") || name.ends_with(".attn.masked_bias");
  }

  void normalizeHFConfig(llvm::json::Object &o) const override {
    for (auto [theirs, common] :
         {std::pair{"n_embd", "hidden_size"},
          std::pair{"n_layer", "num_hidden_layers"},
          std::pair{"n_head", "num_attention_heads"},
          std::pair{"n_positions", "max_position_embeddings"},
          std::pair{"layer_norm_epsilon", "rms_norm_eps"}})
      if (const llvm::json::Value *v = o.get(theirs); v && !o.get(common))
        o[common] = *v;
    // n_inner: null (or absent) means 4 x n_embd.
    if (!o.get("intermediate_size")) {
      const llvm::json::Value *inner = o.get("n_inner");
      std::optional<int64_t> dim = o.getInteger("hidden_size");
      if (inner && inner->kind() != llvm::json::Value::Null)
        o["intermediate_size"] = *inner;
      else if (dim)
        o["intermediate_size"] = 4 * *dim;
    }
    // transformers' default, which GPT-2 configs leave out.
    if (!o.get("tie_word_embeddings"))
      o["tie_word_embeddings"] = true;
  }
  void writeHFConfig(const ModelConfig &c,
                     llvm::json::Object &o) const override {
    for (const char *common :
         {"hidden_size", "num_hidden_layers", "num_attention_heads",
          "max_position_embeddings", "rms_norm_eps", "intermediate_size",
          "head_dim", "rope_theta", "hidden_act"})
      o.erase(common);
    // GPT-2 itself has none (as many KV heads as heads); kept for the
    // grouped variants the generator makes.
    if (c.kvHeads == c.heads)
      o.erase("num_key_value_heads");
    o["n_embd"] = c.dim;
    o["n_layer"] = c.layers;
    o["n_head"] = c.heads;
    o["n_positions"] = c.positions;
    o["n_inner"] = c.ffnDim;
    o["layer_norm_epsilon"] = double(c.normEps);
    o["activation_function"] = "gelu_new";
  }

  llvm::Error readHFConfig(const llvm::json::Object &o, StringRef path,
                           ModelConfig &c) const override {
    if (std::optional<StringRef> act = o.getString("activation_function");
        act && *act != "gelu_new" && *act != "gelu_pytorch_tanh")
      return makeImportError(path, "field 'activation_function' '" + *act +
                                       "' is not supported (expected "
                                       "gelu_new)");
    for (const char *field :
         {"scale_attn_by_inverse_layer_idx", "add_cross_attention"})
      if (o.getBoolean(field).value_or(false))
        return makeImportError(path, llvm::Twine("field '") + field +
                                         "' true is not supported");
    if (!o.getBoolean("scale_attn_weights").value_or(true))
      return makeImportError(path, "field 'scale_attn_weights' false is not "
                                   "supported");
    c.positions = c.context;
    return llvm::Error::success();
  }
  void completeGGUFConfig(ModelConfig &c) const override {
    c.positions = c.context;
  }

  Value emitInput(GraphEmitter &g, Value x) const override {
    return g.addPositions(x, "position_embd");
  }
  Value emitOutputNorm(GraphEmitter &g, Value x) const override {
    return g.layerNorm(x, "output_norm");
  }
  Value emitBlock(GraphEmitter &g, Value x, int64_t layer) const override {
    std::string p = GraphEmitter::layerPrefix(layer);
    auto project = [&](Value in, const std::string &w) {
      return g.addBias(g.linear(in, w), w + ".bias");
    };
    Value h = g.layerNorm(x, p + "attn_norm");
    Value attn = g.attention(project(h, p + "attn_q"), project(h, p + "attn_k"),
                             project(h, p + "attn_v"), layer);
    x = g.add(x, project(attn, p + "attn_output"));
    Value f = g.layerNorm(x, p + "ffn_norm");
    return g.add(x, project(g.gelu(project(f, p + "ffn_up")), p + "ffn_down"));
  }
};

} // namespace

const Family &tlmc::getGPT2Family() {
  static const GPT2Family family;
  return family;
}
