// RUN: tlmc-opt %s -split-input-file -verify-diagnostics

// Each verifier message of the tlm dialect, once.

// expected-error @+1 {{weight type must have a static shape}}
tlm.weight @w : tensor<?x4xf32>

// -----

// expected-error @+1 {{an encoded weight is seen as f32, got element type 'f16'}}
tlm.weight @w : tensor<4x32xf16> encoding(q8_0)

// -----

// expected-error @+1 {{encoded weight's innermost dimension (40) must be a multiple of 32}}
tlm.weight @w : tensor<4x40xf32> encoding(q4_0)

// -----

// expected-error @+1 {{value must be a dense_resource blob, never a literal}}
tlm.weight @w : tensor<2xf32> = dense<1.0> : tensor<2xf32>

// -----

// expected-error @+1 {{encoded value must be tensor<18xi8>, got 'tensor<34xi8>'}}
tlm.weight @w : tensor<1x32xf32> encoding(q4_0) = dense_resource<w> : tensor<34xi8>

// -----

// expected-error @+1 {{value type 'tensor<4xf16>' does not match the weight type 'tensor<4xf32>'}}
tlm.weight @w : tensor<4xf32> = dense_resource<w> : tensor<4xf16>

// -----

// expected-error @+1 {{blob holds 8 bytes, the type needs 16}}
tlm.weight @w : tensor<4xf32> = dense_resource<short> : tensor<4xf32>
{-#
  dialect_resources: { builtin: { short: "0x040000000000803F0000803F" } }
#-}

// -----

func.func @missing() -> tensor<4xf32> {
  // expected-error @+1 {{'nope' does not name a tlm.weight}}
  %w = tlm.weight_ref @nope : tensor<4xf32>
  return %w : tensor<4xf32>
}

// -----

tlm.weight @w : tensor<4xf32>
func.func @mismatch() -> tensor<8xf32> {
  // expected-error @+1 {{result type 'tensor<8xf32>' does not match weight 'w' of type 'tensor<4xf32>'}}
  %w = tlm.weight_ref @w : tensor<8xf32>
  return %w : tensor<8xf32>
}

// -----

func.func @embedding_table(%t: tensor<2xi32>, %w: tensor<8xf32>) {
  // expected-error @+1 {{table must be 2-D (vocab x dim), got 'tensor<8xf32>'}}
  %x = tlm.embedding %t, %w : tensor<2xi32>, tensor<8xf32> -> tensor<2x8xf32>
  return
}

// -----

func.func @embedding_rows(%t: tensor<2xi32>, %w: tensor<16x8xf32>) {
  // expected-error @+1 {{result rows (3) must equal token count (2)}}
  %x = tlm.embedding %t, %w : tensor<2xi32>, tensor<16x8xf32> -> tensor<3x8xf32>
  return
}

// -----

func.func @embedding_width(%t: tensor<2xi32>, %w: tensor<16x8xf32>) {
  // expected-error @+1 {{result width (4) must equal table width (8)}}
  %x = tlm.embedding %t, %w : tensor<2xi32>, tensor<16x8xf32> -> tensor<2x4xf32>
  return
}

// -----

func.func @norm_rank(%x: tensor<1x8xf32>, %w: tensor<1x8xf32>) {
  // expected-error @+1 {{weight must be 1-D, got 'tensor<1x8xf32>'}}
  %y = tlm.rms_norm %x, %w {eps = 1.0e-5 : f32} : tensor<1x8xf32>, tensor<1x8xf32>
  return
}

// -----

func.func @norm_eps(%x: tensor<1x8xf32>, %w: tensor<8xf32>) {
  // expected-error @+1 {{eps must be positive}}
  %y = tlm.rms_norm %x, %w {eps = 0.0 : f32} : tensor<1x8xf32>, tensor<8xf32>
  return
}

// -----

func.func @norm_width(%x: tensor<1x8xf32>, %w: tensor<3xf32>) {
  // expected-error @+1 {{weight length (3) must divide the input width (8)}}
  %y = tlm.rms_norm %x, %w {eps = 1.0e-5 : f32} : tensor<1x8xf32>, tensor<3xf32>
  return
}

// -----

func.func @bias_rank(%x: tensor<1x8xf32>, %b: tensor<1x8xf32>) {
  // expected-error @+1 {{bias must be 1-D, got 'tensor<1x8xf32>'}}
  %y = tlm.add_bias %x, %b : tensor<1x8xf32>, tensor<1x8xf32>
  return
}

// -----

func.func @bias_width(%x: tensor<1x8xf32>, %b: tensor<4xf32>) {
  // expected-error @+1 {{bias length (4) must equal input width (8)}}
  %y = tlm.add_bias %x, %b : tensor<1x8xf32>, tensor<4xf32>
  return
}

// -----

func.func @linear_rank(%x: tensor<1x8xf32>, %w: tensor<8xf32>) {
  // expected-error @+1 {{weight must be 2-D (out x in), got 'tensor<8xf32>'}}
  %y = tlm.linear %x, %w : tensor<1x8xf32>, tensor<8xf32> -> tensor<1x8xf32>
  return
}

// -----

func.func @linear_in(%x: tensor<1x8xf32>, %w: tensor<4x6xf32>) {
  // expected-error @+1 {{weight in_features (6) must equal input width (8)}}
  %y = tlm.linear %x, %w : tensor<1x8xf32>, tensor<4x6xf32> -> tensor<1x4xf32>
  return
}

// -----

func.func @linear_out(%x: tensor<1x8xf32>, %w: tensor<4x8xf32>) {
  // expected-error @+1 {{result width (5) must equal weight out_features (4)}}
  %y = tlm.linear %x, %w : tensor<1x8xf32>, tensor<4x8xf32> -> tensor<1x5xf32>
  return
}

// -----

func.func @linear_rows(%x: tensor<2x8xf32>, %w: tensor<4x8xf32>) {
  // expected-error @+1 {{result rows (1) must equal input rows (2)}}
  %y = tlm.linear %x, %w : tensor<2x8xf32>, tensor<4x8xf32> -> tensor<1x4xf32>
  return
}

// -----

func.func @rope_head_dim(%x: tensor<1x12xf32>, %p: index) {
  // expected-error @+1 {{head_dim must be positive and even, got 3}}
  %y = tlm.rope %x, %p {head_dim = 3 : i64, theta = 1.0e4 : f32, style = #tlm.rope_style<adjacent>} : tensor<1x12xf32>
  return
}

// -----

func.func @rope_width(%x: tensor<1x12xf32>, %p: index) {
  // expected-error @+1 {{input width (12) must be a multiple of head_dim (8)}}
  %y = tlm.rope %x, %p {head_dim = 8 : i64, theta = 1.0e4 : f32, style = #tlm.rope_style<adjacent>} : tensor<1x12xf32>
  return
}

// -----

func.func @rope_theta(%x: tensor<1x16xf32>, %p: index) {
  // expected-error @+1 {{theta must be positive}}
  %y = tlm.rope %x, %p {head_dim = 8 : i64, theta = -1.0 : f32, style = #tlm.rope_style<rotate_half>} : tensor<1x16xf32>
  return
}

// -----

func.func @rope_factor_count(%x: tensor<1x16xf32>, %p: index) {
  // expected-error @+1 {{freq_factors must hold head_dim / 2 (4) values, got 3}}
  %y = tlm.rope %x, %p {head_dim = 8 : i64, theta = 1.0e4 : f32, style = #tlm.rope_style<adjacent>, freq_factors = array<f32: 1.0, 2.0, 4.0>} : tensor<1x16xf32>
  return
}

// -----

func.func @rope_factor_value(%x: tensor<1x16xf32>, %p: index) {
  // expected-error @+1 {{freq_factors must be positive and finite, got 0}}
  %y = tlm.rope %x, %p {head_dim = 8 : i64, theta = 1.0e4 : f32, style = #tlm.rope_style<adjacent>, freq_factors = array<f32: 1.0, 2.0, 0.0, 8.0>} : tensor<1x16xf32>
  return
}

// -----

func.func @attn_window(%q: tensor<1x16xf32>, %k: tensor<1x8xf32>, %c: memref<2x16x8xf32>, %p: index) {
  // expected-error @+1 {{window must be positive, got 0}}
  %o = tlm.attention %q, %k, %k, %c, %c, %p {layer = 0 : i64, heads = 2 : i64, kv_heads = 1 : i64, head_dim = 8 : i64, window = 0 : i64}
      : tensor<1x16xf32>, tensor<1x8xf32>, tensor<1x8xf32>, memref<2x16x8xf32>, memref<2x16x8xf32> -> tensor<1x16xf32>
  return
}

// -----

func.func @attn_scale(%q: tensor<1x16xf32>, %k: tensor<1x8xf32>, %c: memref<2x16x8xf32>, %p: index) {
  // expected-error @+1 {{scale must be positive and finite}}
  %o = tlm.attention %q, %k, %k, %c, %c, %p {layer = 0 : i64, heads = 2 : i64, kv_heads = 1 : i64, head_dim = 8 : i64, scale = -1.0 : f32}
      : tensor<1x16xf32>, tensor<1x8xf32>, tensor<1x8xf32>, memref<2x16x8xf32>, memref<2x16x8xf32> -> tensor<1x16xf32>
  return
}

// -----

func.func @attn_softcap(%q: tensor<1x16xf32>, %k: tensor<1x8xf32>, %c: memref<2x16x8xf32>, %p: index) {
  // expected-error @+1 {{softcap must be positive and finite}}
  %o = tlm.attention %q, %k, %k, %c, %c, %p {layer = 0 : i64, heads = 2 : i64, kv_heads = 1 : i64, head_dim = 8 : i64, softcap = 0.0 : f32}
      : tensor<1x16xf32>, tensor<1x8xf32>, tensor<1x8xf32>, memref<2x16x8xf32>, memref<2x16x8xf32> -> tensor<1x16xf32>
  return
}

// -----

func.func @softcap_cap(%x: tensor<1x8xf32>) {
  // expected-error @+1 {{cap must be positive and finite, got -3}}
  %y = tlm.softcap %x {cap = -3.0 : f32} : tensor<1x8xf32>
  return
}

// -----

func.func @layer_norm_bias(%x: tensor<1x8xf32>, %w: tensor<8xf32>, %b: tensor<4xf32>) {
  // expected-error @+1 {{bias length (4) must equal input width (8)}}
  %y = tlm.layer_norm %x, %w, %b {eps = 1.0e-5 : f32} : tensor<1x8xf32>, tensor<8xf32>, tensor<4xf32>
  return
}

// -----

func.func @positions_width(%x: tensor<1x8xf32>, %t: tensor<16x4xf32>, %p: index) {
  // expected-error @+1 {{table width (4) must equal input width (8)}}
  %y = tlm.add_positions %x, %t, %p : tensor<1x8xf32>, tensor<16x4xf32>
  return
}

// -----

func.func @attn_positive(%q: tensor<1x16xf32>, %k: tensor<1x8xf32>, %c: memref<2x16x8xf32>, %p: index) {
  // expected-error @+1 {{heads, kv_heads and head_dim must be positive}}
  %o = tlm.attention %q, %k, %k, %c, %c, %p {layer = 0 : i64, heads = 0 : i64, kv_heads = 1 : i64, head_dim = 8 : i64}
      : tensor<1x16xf32>, tensor<1x8xf32>, tensor<1x8xf32>, memref<2x16x8xf32>, memref<2x16x8xf32> -> tensor<1x16xf32>
  return
}

// -----

func.func @attn_groups(%q: tensor<1x24xf32>, %k: tensor<1x16xf32>, %c: memref<2x16x16xf32>, %p: index) {
  // expected-error @+1 {{kv_heads (2) must divide heads (3)}}
  %o = tlm.attention %q, %k, %k, %c, %c, %p {layer = 0 : i64, heads = 3 : i64, kv_heads = 2 : i64, head_dim = 8 : i64}
      : tensor<1x24xf32>, tensor<1x16xf32>, tensor<1x16xf32>, memref<2x16x16xf32>, memref<2x16x16xf32> -> tensor<1x24xf32>
  return
}

// -----

func.func @attn_kv_types(%q: tensor<1x16xf32>, %k: tensor<1x8xf32>, %v: tensor<2x8xf32>, %c: memref<2x16x8xf32>, %p: index) {
  // expected-error @+1 {{key and value must have the same type}}
  %o = tlm.attention %q, %k, %v, %c, %c, %p {layer = 0 : i64, heads = 2 : i64, kv_heads = 1 : i64, head_dim = 8 : i64}
      : tensor<1x16xf32>, tensor<1x8xf32>, tensor<2x8xf32>, memref<2x16x8xf32>, memref<2x16x8xf32> -> tensor<1x16xf32>
  return
}

// -----

func.func @attn_query(%q: tensor<1x12xf32>, %k: tensor<1x8xf32>, %c: memref<2x16x8xf32>, %p: index) {
  // expected-error @+1 {{query width (12) must equal heads * head_dim (16)}}
  %o = tlm.attention %q, %k, %k, %c, %c, %p {layer = 0 : i64, heads = 2 : i64, kv_heads = 1 : i64, head_dim = 8 : i64}
      : tensor<1x12xf32>, tensor<1x8xf32>, tensor<1x8xf32>, memref<2x16x8xf32>, memref<2x16x8xf32> -> tensor<1x12xf32>
  return
}

// -----

func.func @attn_key(%q: tensor<1x16xf32>, %k: tensor<1x16xf32>, %c: memref<2x16x8xf32>, %p: index) {
  // expected-error @+1 {{key width (16) must equal kv_heads * head_dim (8)}}
  %o = tlm.attention %q, %k, %k, %c, %c, %p {layer = 0 : i64, heads = 2 : i64, kv_heads = 1 : i64, head_dim = 8 : i64}
      : tensor<1x16xf32>, tensor<1x16xf32>, tensor<1x16xf32>, memref<2x16x8xf32>, memref<2x16x8xf32> -> tensor<1x16xf32>
  return
}

// -----

func.func @attn_rows(%q: tensor<2x16xf32>, %k: tensor<1x8xf32>, %c: memref<2x16x8xf32>, %p: index) {
  // expected-error @+1 {{key rows (1) must equal query rows (2)}}
  %o = tlm.attention %q, %k, %k, %c, %c, %p {layer = 0 : i64, heads = 2 : i64, kv_heads = 1 : i64, head_dim = 8 : i64}
      : tensor<2x16xf32>, tensor<1x8xf32>, tensor<1x8xf32>, memref<2x16x8xf32>, memref<2x16x8xf32> -> tensor<2x16xf32>
  return
}

// -----

func.func @attn_result(%q: tensor<1x16xf32>, %k: tensor<1x8xf32>, %c: memref<2x16x8xf32>, %p: index) {
  // expected-error @+1 {{result width (8) must equal query width (16)}}
  %o = tlm.attention %q, %k, %k, %c, %c, %p {layer = 0 : i64, heads = 2 : i64, kv_heads = 1 : i64, head_dim = 8 : i64}
      : tensor<1x16xf32>, tensor<1x8xf32>, tensor<1x8xf32>, memref<2x16x8xf32>, memref<2x16x8xf32> -> tensor<1x8xf32>
  return
}

// -----

func.func @attn_caches(%q: tensor<1x16xf32>, %k: tensor<1x8xf32>, %c: memref<2x16x8xf32>, %d: memref<2x32x8xf32>, %p: index) {
  // expected-error @+1 {{key and value caches must have the same type}}
  %o = tlm.attention %q, %k, %k, %c, %d, %p {layer = 0 : i64, heads = 2 : i64, kv_heads = 1 : i64, head_dim = 8 : i64}
      : tensor<1x16xf32>, tensor<1x8xf32>, tensor<1x8xf32>, memref<2x16x8xf32>, memref<2x32x8xf32> -> tensor<1x16xf32>
  return
}

// -----

func.func @attn_cache_width(%q: tensor<1x16xf32>, %k: tensor<1x8xf32>, %c: memref<2x16x4xf32>, %p: index) {
  // expected-error @+1 {{cache width (4) must equal kv_heads * head_dim (8)}}
  %o = tlm.attention %q, %k, %k, %c, %c, %p {layer = 0 : i64, heads = 2 : i64, kv_heads = 1 : i64, head_dim = 8 : i64}
      : tensor<1x16xf32>, tensor<1x8xf32>, tensor<1x8xf32>, memref<2x16x4xf32>, memref<2x16x4xf32> -> tensor<1x16xf32>
  return
}

// -----

func.func @attn_layer(%q: tensor<1x16xf32>, %k: tensor<1x8xf32>, %c: memref<2x16x8xf32>, %p: index) {
  // expected-error @+1 {{layer 2 is outside the cache's 2 layers}}
  %o = tlm.attention %q, %k, %k, %c, %c, %p {layer = 2 : i64, heads = 2 : i64, kv_heads = 1 : i64, head_dim = 8 : i64}
      : tensor<1x16xf32>, tensor<1x8xf32>, tensor<1x8xf32>, memref<2x16x8xf32>, memref<2x16x8xf32> -> tensor<1x16xf32>
  return
}

// -----

func.func @attn_layer_index(%q: tensor<1x16xf32>, %k: tensor<1x8xf32>, %c: memref<2x16x8xf32>, %p: index) {
  // expected-error @+1 {{layer must be 0 when a layer_index operand gives it}}
  %o = tlm.attention %q, %k, %k, %c, %c, %p layer %p {layer = 1 : i64, heads = 2 : i64, kv_heads = 1 : i64, head_dim = 8 : i64}
      : tensor<1x16xf32>, tensor<1x8xf32>, tensor<1x8xf32>, memref<2x16x8xf32>, memref<2x16x8xf32> -> tensor<1x16xf32>
  return
}

// -----

func.func @attn_capacity(%q: tensor<4x16xf32>, %k: tensor<4x8xf32>, %c: memref<2x2x8xf32>, %p: index) {
  // expected-error @+1 {{cannot append 4 tokens to a cache of capacity 2}}
  %o = tlm.attention %q, %k, %k, %c, %c, %p {layer = 0 : i64, heads = 2 : i64, kv_heads = 1 : i64, head_dim = 8 : i64}
      : tensor<4x16xf32>, tensor<4x8xf32>, tensor<4x8xf32>, memref<2x2x8xf32>, memref<2x2x8xf32> -> tensor<4x16xf32>
  return
}

// -----

// expected-error @+1 {{'vocab' must be positive, got 0}}
module attributes {tlm.config = #tlm.config<arch = "llama", vocab = 0, dim = 64, ffn_dim = 172, layers = 5, heads = 8, kv_heads = 4, head_dim = 8, context_length = 512, rope_theta = 1.0e4 : f32, rope_style = adjacent, norm_eps = 1.0e-5 : f32, tied_embeddings = true, bos = 1, eos = 2>} {}

// -----

// expected-error @+1 {{kv_heads (3) must divide heads (8)}}
module attributes {tlm.config = #tlm.config<arch = "llama", vocab = 512, dim = 64, ffn_dim = 172, layers = 5, heads = 8, kv_heads = 3, head_dim = 8, context_length = 512, rope_theta = 1.0e4 : f32, rope_style = adjacent, norm_eps = 1.0e-5 : f32, tied_embeddings = true, bos = 1, eos = 2>} {}

// -----

// expected-error @+1 {{head_dim (7) must be even for RoPE}}
module attributes {tlm.config = #tlm.config<arch = "llama", vocab = 512, dim = 56, ffn_dim = 172, layers = 5, heads = 8, kv_heads = 4, head_dim = 7, context_length = 512, rope_theta = 1.0e4 : f32, rope_style = adjacent, norm_eps = 1.0e-5 : f32, tied_embeddings = true, bos = 1, eos = 2>} {}

// -----

// expected-error @+1 {{'rope_theta' must be a positive f32}}
module attributes {tlm.config = #tlm.config<arch = "llama", vocab = 512, dim = 64, ffn_dim = 172, layers = 5, heads = 8, kv_heads = 4, head_dim = 8, context_length = 512, rope_theta = 0.0 : f32, rope_style = adjacent, norm_eps = 1.0e-5 : f32, tied_embeddings = true, bos = 1, eos = 2>} {}

// -----

// expected-error @+1 {{'norm_eps' must be a positive f32}}
module attributes {tlm.config = #tlm.config<arch = "llama", vocab = 512, dim = 64, ffn_dim = 172, layers = 5, heads = 8, kv_heads = 4, head_dim = 8, context_length = 512, rope_theta = 1.0e4 : f32, rope_style = adjacent, norm_eps = 1.0e-5 : f64, tied_embeddings = true, bos = 1, eos = 2>} {}

// -----

// expected-error @+1 {{'eos' token id 512 is outside the vocabulary [0, 512)}}
module attributes {tlm.config = #tlm.config<arch = "llama", vocab = 512, dim = 64, ffn_dim = 172, layers = 5, heads = 8, kv_heads = 4, head_dim = 8, context_length = 512, rope_theta = 1.0e4 : f32, rope_style = adjacent, norm_eps = 1.0e-5 : f32, tied_embeddings = true, bos = 1, eos = 512>} {}

// -----

// expected-error @+1 {{'tlm.config' must be a #tlm.config attribute}}
module attributes {tlm.config = 3 : i32} {}

// -----

// expected-error @+1 {{unknown tlm attribute 'tlm.other'}}
module attributes {tlm.other = 3 : i32} {}

// -----

// expected-error @+1 {{'tlm.config' must be attached to a module}}
func.func @f() attributes {tlm.config = #tlm.config<arch = "llama", vocab = 512, dim = 64, ffn_dim = 172, layers = 5, heads = 8, kv_heads = 4, head_dim = 8, context_length = 512, rope_theta = 1.0e4 : f32, rope_style = adjacent, norm_eps = 1.0e-5 : f32, tied_embeddings = true, bos = 1, eos = 2>} {
  return
}
