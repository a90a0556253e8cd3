//===- TLMAttrs.td - tlm attributes and enums --------------*- tablegen -*-===//

#ifndef TLM_ATTRS_TD
#define TLM_ATTRS_TD

include "dialects/tlm/IR/TLMDialect.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

def TLM_RopeStyle : I32EnumAttr<"RopeStyle", "pairing of RoPE rotations", [
    // llama2.c, GGUF/llama.cpp: element 2i rotates with element 2i+1.
    I32EnumAttrCase<"Adjacent", 0, "adjacent">,
    // Hugging Face: element i rotates with element i + head_dim/2.
    I32EnumAttrCase<"RotateHalf", 1, "rotate_half">
  ]> {
  let cppNamespace = "::mlir::tlm";
  let genSpecializedAttr = 0;
}
def TLM_RopeStyleAttr : EnumAttr<TLM_Dialect, TLM_RopeStyle, "rope_style"> {
  let assemblyFormat = "`<` $value `>`";
}

def TLM_WeightEncoding : I32EnumAttr<"WeightEncoding",
    "storage encoding of a weight's bytes", [
    // GGML Q8_0: blocks of 32 values, an f16 scale and 32 int8 (34 bytes).
    I32EnumAttrCase<"Q8_0", 0, "q8_0">,
    // GGML Q4_0: blocks of 32 values, an f16 scale and 16 bytes of nibbles
    // (18 bytes); value = (nibble - 8) * scale.
    I32EnumAttrCase<"Q4_0", 1, "q4_0">
  ]> {
  let cppNamespace = "::mlir::tlm";
  // A specialized integer attribute: a bare keyword in the op's custom form
  // (`encoding(q8_0)`), an i32 in the generic form, both parsable.
}

def TLM_ModelConfigAttr : AttrDef<TLM_Dialect, "ModelConfig"> {
  let mnemonic = "config";
  let summary = "Hyper-parameters of a decoder-only transformer";
  let description = [{
    Everything about the model's shape that the graph and the code generator
    need, carried on the module as `tlm.config`:

    ```mlir
    module attributes {tlm.config = #tlm.config<arch = "llama", vocab = 512,
        dim = 64, ffn_dim = 172, layers = 5, heads = 8, kv_heads = 4,
        head_dim = 8, context_length = 512, rope_theta = 1.000000e+04 : f32,
        rope_style = adjacent, norm_eps = 9.99999974E-6 : f32,
        tied_embeddings = true, bos = 1, eos = 2>} {}
    ```
  }];
  let parameters = (ins
    StringRefParameter<"architecture name, e.g. llama">:$arch,
    "int64_t":$vocab,
    "int64_t":$dim,
    "int64_t":$ffn_dim,
    "int64_t":$layers,
    "int64_t":$heads,
    "int64_t":$kv_heads,
    "int64_t":$head_dim,
    "int64_t":$context_length,
    "FloatAttr":$rope_theta,
    "RopeStyle":$rope_style,
    "FloatAttr":$norm_eps,
    "bool":$tied_embeddings,
    "int64_t":$bos,
    "int64_t":$eos
  );
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// Width of the K and V projections: kv_heads * head_dim.
    int64_t getKvDim() const { return getKvHeads() * getHeadDim(); }
  }];
}

#endif // TLM_ATTRS_TD
