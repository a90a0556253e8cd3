//===- TLMOps.td - tlm operations --------------------------*- tablegen -*-===//

#ifndef TLM_OPS_TD
#define TLM_OPS_TD

include "dialects/tlm/IR/TLMDialect.td"
include "dialects/tlm/IR/TLMAttrs.td"
include "mlir/IR/SymbolInterfaces.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/IR/BuiltinAttributeInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/IR/OpBase.td"

def TLM_FloatTensor2D : 2DTensorOf<[F32]>;
def TLM_WeightTensor : RankedTensorOf<[F32, F16, BF16]>;

//===----------------------------------------------------------------------===//
// Weights
//===----------------------------------------------------------------------===//

def TLM_WeightOp : TLM_Op<"weight", [Symbol]> {
  let summary = "a named model weight and its bytes";
  let description = [{
    Declares a weight of the model at module level. `type` is the tensor the
    graph sees. Without `encoding`, the bytes are stored in that type (f32,
    f16 or bf16). With an encoding (GGML `q8_0`, `q4_0`) the type's element
    is f32 — the graph sees the dequantized values — and the bytes are the
    blocks as the model file had them, in a `tensor<Nxi8>` resource; the
    innermost dimension must be a whole number of 32-value blocks.

    The value is a `dense_resource` blob so that large models import without
    ever printing their weights as literals. A weight with no value is an
    external reference, to be bound by name by whoever compiles the module.

    ```mlir
    tlm.weight @blk.0.attn_q : tensor<64x64xf32> = dense_resource<blk.0.attn_q> : tensor<64x64xf32>
    tlm.weight @blk.0.ffn_up : tensor<172x64xf32> encoding(q8_0) = dense_resource<blk.0.ffn_up> : tensor<11696xi8>
    tlm.weight @output_norm : tensor<64xf32>
    ```
  }];
  let arguments = (ins
    SymbolNameAttr:$sym_name,
    TypeAttrOf<TLM_WeightTensor>:$type,
    OptionalAttr<TLM_WeightEncoding>:$encoding,
    OptionalAttr<ElementsAttr>:$value
  );
  let assemblyFormat = [{
    $sym_name `:` $type (`encoding` `(` $encoding^ `)`)? (`=` $value^)?
    attr-dict
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The tensor the graph sees.
    ::mlir::RankedTensorType getTensorType() {
      return ::llvm::cast<::mlir::RankedTensorType>(getType());
    }
    /// Number of bytes the stored form of this weight takes.
    int64_t getStorageBytes();
  }];
}

def TLM_WeightRefOp : TLM_Op<"weight_ref",
    [Pure, DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "reads a module-level weight by name";
  let description = [{
    Produces the tensor of the `tlm.weight` named by `name`; the result type
    must be the weight's type.

    ```mlir
    %wq = tlm.weight_ref @blk.0.attn_q : tensor<64x64xf32>
    ```
  }];
  let arguments = (ins FlatSymbolRefAttr:$name);
  let results = (outs TLM_WeightTensor:$result);
  let assemblyFormat = "$name attr-dict `:` type($result)";
}

//===----------------------------------------------------------------------===//
// Graph ops
//===----------------------------------------------------------------------===//

def TLM_EmbeddingOp : TLM_Op<"embedding", [Pure]> {
  let summary = "token embedding lookup";
  let description = [{
    Row `tokens[t]` of `table` (vocab x dim) becomes row `t` of the result.
    A token id outside `[0, vocab)` is undefined behaviour of the graph; the
    runtime rejects such ids before calling the model.

    ```mlir
    %x = tlm.embedding %tokens, %table : tensor<4xi32>, tensor<512x64xf32> -> tensor<4x64xf32>
    ```
  }];
  let arguments = (ins 1DTensorOf<[I32]>:$tokens, TLM_WeightTensor:$table);
  let results = (outs TLM_FloatTensor2D:$result);
  let assemblyFormat = [{
    $tokens `,` $table attr-dict `:` type($tokens) `,` type($table) `->`
    type($result)
  }];
  let hasVerifier = 1;
}

def TLM_RMSNormOp : TLM_Op<"rms_norm", [Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "root-mean-square normalization with a learned scale";
  let description = [{
    Each row of `input` is cut into consecutive groups as wide as `weight`
    (the weight's length must divide the row width), and each group x becomes
    `x / sqrt(mean(x^2) + eps) * weight`. A weight as wide as the row is the
    usual per-token norm; one as wide as a head is the per-head norm Qwen3
    and Gemma-3 apply to queries and keys before RoPE.

    ```mlir
    %n = tlm.rms_norm %x, %w {eps = 1.0e-5 : f32} : tensor<1x64xf32>, tensor<64xf32>
    %h = tlm.rms_norm %q, %wq {eps = 1.0e-6 : f32} : tensor<1x64xf32>, tensor<8xf32>
    ```
  }];
  let arguments = (ins TLM_FloatTensor2D:$input, TLM_WeightTensor:$weight,
                       F32Attr:$eps);
  let results = (outs TLM_FloatTensor2D:$result);
  let assemblyFormat = [{
    $input `,` $weight attr-dict `:` type($input) `,` type($weight)
  }];
  let hasVerifier = 1;
}

def TLM_LayerNormOp : TLM_Op<"layer_norm", [Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "layer normalization with a learned scale and shift";
  let description = [{
    Each row x becomes `(x - mean(x)) / sqrt(var(x) + eps) * weight + bias`,
    with the variance over the row (divided by its width): GPT-2's norms.

    ```mlir
    %n = tlm.layer_norm %x, %w, %b {eps = 1.0e-5 : f32} : tensor<1x64xf32>, tensor<64xf32>, tensor<64xf32>
    ```
  }];
  let arguments = (ins TLM_FloatTensor2D:$input, TLM_WeightTensor:$weight,
                       TLM_WeightTensor:$bias, F32Attr:$eps);
  let results = (outs TLM_FloatTensor2D:$result);
  let assemblyFormat = [{
    $input `,` $weight `,` $bias attr-dict `:` type($input) `,` type($weight)
    `,` type($bias)
  }];
  let hasVerifier = 1;
}

def TLM_AddPositionsOp : TLM_Op<"add_positions", [Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "adds learned absolute position embeddings";
  let description = [{
    `result[t] = input[t] + table[pos + t]`: row `t` holds the token at
    position `pos + t`, and GPT-2 adds that position's learned embedding.
    Positions past the table's rows are the caller's error (the runtime's
    context never exceeds them: the compiler refuses a longer one).

    ```mlir
    %x = tlm.add_positions %e, %wpe, %pos : tensor<1x64xf32>, tensor<1024x64xf32>
    ```
  }];
  let arguments = (ins TLM_FloatTensor2D:$input, TLM_WeightTensor:$table,
                       Index:$pos);
  let results = (outs TLM_FloatTensor2D:$result);
  let assemblyFormat = [{
    $input `,` $table `,` $pos attr-dict `:` type($input) `,` type($table)
  }];
  let hasVerifier = 1;
}

def TLM_LinearOp : TLM_Op<"linear", [Pure]> {
  let summary = "x times the transpose of a weight matrix";
  let description = [{
    `result[t][n] = sum_k input[t][k] * weight[n][k]`: the weight is stored
    one output row per line (out_features x in_features), as every supported
    model format stores it.

    ```mlir
    %q = tlm.linear %x, %wq : tensor<1x64xf32>, tensor<64x64xf32> -> tensor<1x64xf32>
    ```
  }];
  let arguments = (ins TLM_FloatTensor2D:$input, TLM_WeightTensor:$weight);
  let results = (outs TLM_FloatTensor2D:$result);
  let assemblyFormat = [{
    $input `,` $weight attr-dict `:` type($input) `,` type($weight) `->`
    type($result)
  }];
  let hasVerifier = 1;
}

def TLM_RoPEOp : TLM_Op<"rope", [Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "rotary position embedding of query or key heads";
  let description = [{
    Row `t` of `input` holds the heads of the token at position `pos + t`,
    each `head_dim` wide. Pair (a, b) of a head is rotated by the angle
    `p * theta^(-2i/head_dim)`, where `i` is the pair's index; `style` says
    which elements pair up: `adjacent` (2i, 2i+1), as llama2.c and GGUF
    store LLaMA's q/k, or `rotate_half` (i, i + head_dim/2), as Hugging Face
    does (and GGUF for Qwen, Gemma, Phi-3).

    `freq_factors` (head_dim / 2 values, one per pair) divide each pair's
    frequency: Llama-3's long-context scaling, which GGUF stores as the
    `rope_freqs` tensor and Hugging Face derives from `rope_scaling`.

    ```mlir
    %qr = tlm.rope %q, %pos {head_dim = 8 : i64, theta = 1.0e4 : f32, style = #tlm.rope_style<adjacent>} : tensor<1x64xf32>
    %ks = tlm.rope %k, %pos {head_dim = 8 : i64, theta = 5.0e5 : f32, style = #tlm.rope_style<adjacent>, freq_factors = array<f32: 1.0, 1.0, 2.5, 8.0>} : tensor<1x32xf32>
    ```
  }];
  let arguments = (ins TLM_FloatTensor2D:$input, Index:$pos,
                       I64Attr:$head_dim, F32Attr:$theta,
                       TLM_RopeStyleAttr:$style,
                       OptionalAttr<DenseF32ArrayAttr>:$freq_factors);
  let results = (outs TLM_FloatTensor2D:$result);
  let assemblyFormat = "$input `,` $pos attr-dict `:` type($input)";
  let hasVerifier = 1;
}

def TLM_AttentionOp : TLM_Op<"attention", [
    DeclareOpInterfaceMethods<MemoryEffectsOpInterface>]> {
  let summary = "causal grouped-query attention over a KV cache";
  let description = [{
    Appends the keys and values of `T` new tokens at positions
    `[pos, pos + T)` of layer `layer` in the caches, then lets each new token
    attend, with softmax(q·k · scale), to every cached position up to and
    including its own. Query head `h` reads KV head
    `h / (heads / kv_heads)`. `T = 1` is a decode step, `T > 1` a prefill.

    `scale` defaults to 1/sqrt(head_dim) (Gemma's is
    1/sqrt(query_pre_attn_scalar)). With `softcap` c, each scaled score s
    becomes c · tanh(s / c) before the softmax (Gemma-2's
    attn_logit_softcapping). With `window` (sliding-window
    attention, Gemma-3's local layers) a token at position p attends only to
    positions p - window + 1 .. p: the `window` most recent, its own
    included, as Hugging Face and llama.cpp mask them.

    The caches are buffers of shape (layers, capacity, kv_heads * head_dim)
    of f32, or of f16 (keys and values rounded when stored, widened when
    read; the arithmetic is f32 either way), that persist across calls; positions past `capacity` are the caller's
    error (the runtime bounds `pos`). The layer is the `layer` attribute, or,
    when the optional `layer_index` operand is present, that value (a layer
    function shared by several layers, `tlm-share-layers`, gets its layer as
    an argument; `layer` is then 0).

    ```mlir
    %o = tlm.attention %q, %k, %v, %kc, %vc, %pos {layer = 0 : i64, heads = 8 : i64, kv_heads = 4 : i64, head_dim = 8 : i64}
        : tensor<1x64xf32>, tensor<1x32xf32>, tensor<1x32xf32>, memref<5x512x32xf32>, memref<5x512x32xf32> -> tensor<1x64xf32>
    %s = tlm.attention %q, %k, %v, %kc, %vc, %pos layer %l {layer = 0 : i64, heads = 8 : i64, kv_heads = 4 : i64, head_dim = 8 : i64}
        : tensor<1x64xf32>, tensor<1x32xf32>, tensor<1x32xf32>, memref<5x512x32xf32>, memref<5x512x32xf32> -> tensor<1x64xf32>
    %w = tlm.attention %q, %k, %v, %kc, %vc, %pos {layer = 1 : i64, heads = 8 : i64, kv_heads = 4 : i64, head_dim = 8 : i64, window = 128 : i64, scale = 0.25 : f32}
        : tensor<1x64xf32>, tensor<1x32xf32>, tensor<1x32xf32>, memref<5x512x32xf32>, memref<5x512x32xf32> -> tensor<1x64xf32>
    ```
  }];
  let arguments = (ins TLM_FloatTensor2D:$query, TLM_FloatTensor2D:$key,
                       TLM_FloatTensor2D:$value,
                       MemRefRankOf<[F32, F16], [3]>:$key_cache,
                       MemRefRankOf<[F32, F16], [3]>:$value_cache,
                       Index:$pos, Optional<Index>:$layer_index,
                       I64Attr:$layer, I64Attr:$heads,
                       I64Attr:$kv_heads, I64Attr:$head_dim,
                       OptionalAttr<I64Attr>:$window,
                       OptionalAttr<F32Attr>:$scale,
                       OptionalAttr<F32Attr>:$softcap);
  let results = (outs TLM_FloatTensor2D:$result);
  let assemblyFormat = [{
    $query `,` $key `,` $value `,` $key_cache `,` $value_cache `,` $pos
    (`layer` $layer_index^)? attr-dict `:` type($query) `,` type($key) `,` type($value) `,`
    type($key_cache) `,` type($value_cache) `->` type($result)
  }];
  let hasVerifier = 1;
}

def TLM_SiLUOp : TLM_Op<"silu", [Pure, SameOperandsAndResultType]> {
  let summary = "x * sigmoid(x), elementwise";
  let description = [{
    ```mlir
    %y = tlm.silu %x : tensor<1x172xf32>
    ```
  }];
  let arguments = (ins TLM_FloatTensor2D:$input);
  let results = (outs TLM_FloatTensor2D:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

def TLM_SwiGLUOp : TLM_Op<"swiglu", [Pure, SameOperandsAndResultType]> {
  let summary = "silu(gate) * up, elementwise";
  let description = [{
    The gated activation of a LLaMA feed-forward block.

    ```mlir
    %h = tlm.swiglu %gate, %up : tensor<1x172xf32>
    ```
  }];
  let arguments = (ins TLM_FloatTensor2D:$gate, TLM_FloatTensor2D:$up);
  let results = (outs TLM_FloatTensor2D:$result);
  let assemblyFormat = "$gate `,` $up attr-dict `:` type($result)";
}

def TLM_GELUOp : TLM_Op<"gelu", [Pure, SameOperandsAndResultType]> {
  let summary = "gelu_tanh(x), elementwise";
  let description = [{
    GELU with the tanh approximation (GPT-2's `gelu_new`; see `tlm.geglu`).

    ```mlir
    %y = tlm.gelu %x : tensor<1x256xf32>
    ```
  }];
  let arguments = (ins TLM_FloatTensor2D:$input);
  let results = (outs TLM_FloatTensor2D:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

def TLM_GeGLUOp : TLM_Op<"geglu", [Pure, SameOperandsAndResultType]> {
  let summary = "gelu_tanh(gate) * up, elementwise";
  let description = [{
    The gated activation of a Gemma feed-forward block, with GELU's tanh
    approximation: `gelu_tanh(x) = x/2 · (1 + tanh(sqrt(2/pi) · (x + 0.044715
    x^3)))`, Hugging Face's `gelu_pytorch_tanh` and llama.cpp's `gelu`.

    ```mlir
    %h = tlm.geglu %gate, %up : tensor<1x2048xf32>
    ```
  }];
  let arguments = (ins TLM_FloatTensor2D:$gate, TLM_FloatTensor2D:$up);
  let results = (outs TLM_FloatTensor2D:$result);
  let assemblyFormat = "$gate `,` $up attr-dict `:` type($result)";
}

def TLM_ScaleOp : TLM_Op<"scale", [Pure, SameOperandsAndResultType]> {
  let summary = "multiplies every element by a constant";
  let description = [{
    Gemma scales its embeddings by sqrt(hidden_size) before the first layer.

    ```mlir
    %s = tlm.scale %x {factor = 25.2982 : f32} : tensor<1x640xf32>
    ```
  }];
  let arguments = (ins TLM_FloatTensor2D:$input, F32Attr:$factor);
  let results = (outs TLM_FloatTensor2D:$result);
  let assemblyFormat = "$input attr-dict `:` type($result)";
}

def TLM_SoftcapOp : TLM_Op<"softcap", [Pure, SameOperandsAndResultType]> {
  let summary = "cap · tanh(x / cap), elementwise";
  let description = [{
    Soft-capping squashes values smoothly into (-cap, cap): Gemma-2's
    final_logit_softcapping on the logits.

    ```mlir
    %l = tlm.softcap %logits {cap = 30.0 : f32} : tensor<1x256000xf32>
    ```
  }];
  let arguments = (ins TLM_FloatTensor2D:$input, F32Attr:$cap);
  let results = (outs TLM_FloatTensor2D:$result);
  let assemblyFormat = "$input attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def TLM_AddBiasOp : TLM_Op<"add_bias", [Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "adds a learned bias vector to every row";
  let description = [{
    `result[t][n] = input[t][n] + bias[n]`: the bias of a projection (Qwen2's
    q/k/v, GPT-2's every linear), kept apart from `tlm.linear` so that the
    products and every pass that rewrites them stay bias-free.

    ```mlir
    %qb = tlm.add_bias %q, %bq : tensor<1x64xf32>, tensor<64xf32>
    ```
  }];
  let arguments = (ins TLM_FloatTensor2D:$input, TLM_WeightTensor:$bias);
  let results = (outs TLM_FloatTensor2D:$result);
  let assemblyFormat = [{
    $input `,` $bias attr-dict `:` type($input) `,` type($bias)
  }];
  let hasVerifier = 1;
}

def TLM_AddOp : TLM_Op<"add", [Pure, Commutative, SameOperandsAndResultType]> {
  let summary = "elementwise sum (the residual connection)";
  let description = [{
    ```mlir
    %r = tlm.add %x, %attn : tensor<1x64xf32>
    ```
  }];
  let arguments = (ins TLM_FloatTensor2D:$lhs, TLM_FloatTensor2D:$rhs);
  let results = (outs TLM_FloatTensor2D:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($result)";
}

#endif // TLM_OPS_TD
