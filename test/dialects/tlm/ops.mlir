// RUN: tlmc-opt %s | tlmc-opt | %FileCheck %s
// RUN: tlmc-opt %s --mlir-print-op-generic | tlmc-opt | %FileCheck %s

// Every tlm op prints and parses back to itself, in custom and generic form.

// CHECK: module attributes {tlm.config = #tlm.config<arch = "llama", vocab = 512, dim = 64, ffn_dim = 172, layers = 5, heads = 8, kv_heads = 4, head_dim = 8, context_length = 512, rope_theta = 1.000000e+04 : f32, rope_style = adjacent, norm_eps = 9.99999974E-6 : f32, tied_embeddings = true, bos = 1, eos = 2>}
module attributes {tlm.config = #tlm.config<arch = "llama", vocab = 512, dim = 64, ffn_dim = 172, layers = 5, heads = 8, kv_heads = 4, head_dim = 8, context_length = 512, rope_theta = 1.0e4 : f32, rope_style = adjacent, norm_eps = 1.0e-5 : f32, tied_embeddings = true, bos = 1, eos = 2>} {
  // CHECK: tlm.weight @token_embd : tensor<512x64xf32>{{$}}
  tlm.weight @token_embd : tensor<512x64xf32>
  // CHECK: tlm.weight @tiny_norm : tensor<4xf32> = dense_resource<tiny_norm> : tensor<4xf32>
  tlm.weight @tiny_norm : tensor<4xf32> = dense_resource<tiny_norm> : tensor<4xf32>
  // CHECK: tlm.weight @tiny_q8 : tensor<1x32xf32> encoding(q8_0) = dense_resource<tiny_q8> : tensor<34xi8>
  tlm.weight @tiny_q8 : tensor<1x32xf32> encoding(q8_0) = dense_resource<tiny_q8> : tensor<34xi8>
  // CHECK: tlm.weight @blk.0.attn_norm : tensor<64xf32>{{$}}
  tlm.weight @blk.0.attn_norm : tensor<64xf32>
  // CHECK: tlm.weight @blk.0.attn_q : tensor<64x64xf16>
  tlm.weight @blk.0.attn_q : tensor<64x64xf16>
  tlm.weight @blk.0.ffn_norm : tensor<64xf32>
  tlm.weight @blk.0.ffn_norm.bias : tensor<64xf32>
  tlm.weight @position_embd : tensor<512x64xf16>
  // CHECK: tlm.weight @blk.0.attn_k : tensor<32x64xf32> encoding(q8_0){{$}}
  tlm.weight @blk.0.attn_k : tensor<32x64xf32> encoding(q8_0)
  // CHECK: tlm.weight @blk.0.attn_v : tensor<32x64xf32> encoding(q4_0)
  tlm.weight @blk.0.attn_v : tensor<32x64xf32> encoding(q4_0)
  tlm.weight @blk.0.attn_k.bias : tensor<32xf32>
  tlm.weight @blk.0.attn_k_norm : tensor<8xf32>
  tlm.weight @blk.0.ffn_gate : tensor<172x64xbf16>
  tlm.weight @blk.0.ffn_up : tensor<172x64xf32>

  // CHECK-LABEL: func.func @graph
  // CHECK-SAME: (%[[TOK:.+]]: tensor<2xi32>, %[[POS:.+]]: index, %[[KC:.+]]: memref<5x512x32xf32>, %[[VC:.+]]: memref<5x512x32xf32>)
  func.func @graph(%tokens: tensor<2xi32>, %pos: index,
                   %kc: memref<5x512x32xf32>, %vc: memref<5x512x32xf32>) -> tensor<2x64xf32> {
    // CHECK: %[[E:.+]] = tlm.weight_ref @token_embd : tensor<512x64xf32>
    %e = tlm.weight_ref @token_embd : tensor<512x64xf32>
    // CHECK: %[[X:.+]] = tlm.embedding %[[TOK]], %[[E]] : tensor<2xi32>, tensor<512x64xf32> -> tensor<2x64xf32>
    %x = tlm.embedding %tokens, %e : tensor<2xi32>, tensor<512x64xf32> -> tensor<2x64xf32>
    %n = tlm.weight_ref @blk.0.attn_norm : tensor<64xf32>
    // CHECK: %[[H:.+]] = tlm.rms_norm %[[X]], %{{.+}} {eps = 9.99999974E-6 : f32} : tensor<2x64xf32>, tensor<64xf32>
    %h = tlm.rms_norm %x, %n {eps = 1.0e-5 : f32} : tensor<2x64xf32>, tensor<64xf32>
    %wq = tlm.weight_ref @blk.0.attn_q : tensor<64x64xf16>
    %wk = tlm.weight_ref @blk.0.attn_k : tensor<32x64xf32>
    %wv = tlm.weight_ref @blk.0.attn_v : tensor<32x64xf32>
    // CHECK: %[[Q:.+]] = tlm.linear %[[H]], %{{.+}} : tensor<2x64xf32>, tensor<64x64xf16> -> tensor<2x64xf32>
    %q = tlm.linear %h, %wq : tensor<2x64xf32>, tensor<64x64xf16> -> tensor<2x64xf32>
    %k = tlm.linear %h, %wk : tensor<2x64xf32>, tensor<32x64xf32> -> tensor<2x32xf32>
    %v = tlm.linear %h, %wv : tensor<2x64xf32>, tensor<32x64xf32> -> tensor<2x32xf32>
    // CHECK: %[[QR:.+]] = tlm.rope %[[Q]], %[[POS]] {head_dim = 8 : i64, style = #tlm.rope_style<adjacent>, theta = 1.000000e+04 : f32} : tensor<2x64xf32>
    %qr = tlm.rope %q, %pos {head_dim = 8 : i64, theta = 1.0e4 : f32, style = #tlm.rope_style<adjacent>} : tensor<2x64xf32>
    // CHECK: %[[KR:.+]] = tlm.rope %{{.+}}, %[[POS]] {head_dim = 8 : i64, style = #tlm.rope_style<rotate_half>, theta = 5.000000e+05 : f32} : tensor<2x32xf32>
    %kr = tlm.rope %k, %pos {head_dim = 8 : i64, theta = 5.0e5 : f32, style = #tlm.rope_style<rotate_half>} : tensor<2x32xf32>
    // Qwen-style variants: a projection bias, a per-head norm (the weight is
    // one head wide), Llama-3's RoPE frequency factors.
    %bk = tlm.weight_ref @blk.0.attn_k.bias : tensor<32xf32>
    // CHECK: %[[KB:.+]] = tlm.add_bias %{{.+}}, %{{.+}} : tensor<2x32xf32>, tensor<32xf32>
    %kb = tlm.add_bias %k, %bk : tensor<2x32xf32>, tensor<32xf32>
    %nk = tlm.weight_ref @blk.0.attn_k_norm : tensor<8xf32>
    // CHECK: %[[KN:.+]] = tlm.rms_norm %[[KB]], %{{.+}} {eps = 9.99999997E-7 : f32} : tensor<2x32xf32>, tensor<8xf32>
    %kn = tlm.rms_norm %kb, %nk {eps = 1.0e-6 : f32} : tensor<2x32xf32>, tensor<8xf32>
    // CHECK: tlm.rope %[[KN]], %[[POS]] {freq_factors = array<f32: 1.000000e+00, 1.000000e+00, 2.500000e+00, 8.000000e+00>, head_dim = 8 : i64, style = #tlm.rope_style<adjacent>, theta = 5.000000e+05 : f32} : tensor<2x32xf32>
    %ks = tlm.rope %kn, %pos {head_dim = 8 : i64, theta = 5.0e5 : f32, style = #tlm.rope_style<adjacent>, freq_factors = array<f32: 1.0, 1.0, 2.5, 8.0>} : tensor<2x32xf32>
    // CHECK: %[[A:.+]] = tlm.attention %[[QR]], %[[KR]], %{{.+}}, %[[KC]], %[[VC]], %[[POS]] {head_dim = 8 : i64, heads = 8 : i64, kv_heads = 4 : i64, layer = 0 : i64} : tensor<2x64xf32>, tensor<2x32xf32>, tensor<2x32xf32>, memref<5x512x32xf32>, memref<5x512x32xf32> -> tensor<2x64xf32>
    %a = tlm.attention %qr, %kr, %v, %kc, %vc, %pos {layer = 0 : i64, heads = 8 : i64, kv_heads = 4 : i64, head_dim = 8 : i64}
        : tensor<2x64xf32>, tensor<2x32xf32>, tensor<2x32xf32>, memref<5x512x32xf32>, memref<5x512x32xf32> -> tensor<2x64xf32>
    // A shared layer function's attention takes its cache layer as a value.
    // CHECK: tlm.attention %[[QR]], %[[KR]], %{{.+}}, %[[KC]], %[[VC]], %[[POS]] layer %[[POS]] {head_dim = 8 : i64, heads = 8 : i64, kv_heads = 4 : i64, layer = 0 : i64}
    %a2 = tlm.attention %qr, %kr, %v, %kc, %vc, %pos layer %pos {layer = 0 : i64, heads = 8 : i64, kv_heads = 4 : i64, head_dim = 8 : i64}
        : tensor<2x64xf32>, tensor<2x32xf32>, tensor<2x32xf32>, memref<5x512x32xf32>, memref<5x512x32xf32> -> tensor<2x64xf32>
    // CHECK: %[[R:.+]] = tlm.add %[[X]], %[[A]] : tensor<2x64xf32>
    %r = tlm.add %x, %a : tensor<2x64xf32>
    %wg = tlm.weight_ref @blk.0.ffn_gate : tensor<172x64xbf16>
    %wu = tlm.weight_ref @blk.0.ffn_up : tensor<172x64xf32>
    %g = tlm.linear %r, %wg : tensor<2x64xf32>, tensor<172x64xbf16> -> tensor<2x172xf32>
    %u = tlm.linear %r, %wu : tensor<2x64xf32>, tensor<172x64xf32> -> tensor<2x172xf32>
    // CHECK: %[[S:.+]] = tlm.silu %{{.+}} : tensor<2x172xf32>
    %s = tlm.silu %g : tensor<2x172xf32>
    // CHECK: tlm.swiglu %{{.+}}, %{{.+}} : tensor<2x172xf32>
    %sw = tlm.swiglu %g, %u : tensor<2x172xf32>
    // Gemma's variants: GeGLU, a scaled stream, a windowed and rescaled
    // attention.
    // CHECK: tlm.geglu %{{.+}}, %{{.+}} : tensor<2x172xf32>
    %gg = tlm.geglu %g, %u : tensor<2x172xf32>
    // CHECK: tlm.scale %[[X]] {factor = 8.000000e+00 : f32} : tensor<2x64xf32>
    %xs = tlm.scale %x {factor = 8.0 : f32} : tensor<2x64xf32>
    // CHECK: tlm.attention %[[QR]], %[[KR]], %{{.+}}, %[[KC]], %[[VC]], %[[POS]] {head_dim = 8 : i64, heads = 8 : i64, kv_heads = 4 : i64, layer = 1 : i64, scale = 2.500000e-01 : f32, softcap = 5.000000e+01 : f32, window = 128 : i64}
    %aw = tlm.attention %qr, %kr, %v, %kc, %vc, %pos {layer = 1 : i64, heads = 8 : i64, kv_heads = 4 : i64, head_dim = 8 : i64, window = 128 : i64, scale = 0.25 : f32, softcap = 50.0 : f32}
        : tensor<2x64xf32>, tensor<2x32xf32>, tensor<2x32xf32>, memref<5x512x32xf32>, memref<5x512x32xf32> -> tensor<2x64xf32>
    // CHECK: tlm.softcap %[[X]] {cap = 3.000000e+01 : f32} : tensor<2x64xf32>
    %xc = tlm.softcap %x {cap = 30.0 : f32} : tensor<2x64xf32>
    // GPT-2's: LayerNorm, learned positions, GELU.
    %lw = tlm.weight_ref @blk.0.ffn_norm : tensor<64xf32>
    %lb = tlm.weight_ref @blk.0.ffn_norm.bias : tensor<64xf32>
    // CHECK: tlm.layer_norm %[[X]], %{{.+}}, %{{.+}} {eps = 9.99999974E-6 : f32} : tensor<2x64xf32>, tensor<64xf32>, tensor<64xf32>
    %ln = tlm.layer_norm %x, %lw, %lb {eps = 1.0e-5 : f32} : tensor<2x64xf32>, tensor<64xf32>, tensor<64xf32>
    %wpe = tlm.weight_ref @position_embd : tensor<512x64xf16>
    // CHECK: tlm.add_positions %[[X]], %{{.+}}, %[[POS]] : tensor<2x64xf32>, tensor<512x64xf16>
    %xp = tlm.add_positions %x, %wpe, %pos : tensor<2x64xf32>, tensor<512x64xf16>
    // CHECK: tlm.gelu %{{.+}} : tensor<2x172xf32>
    %ge = tlm.gelu %g : tensor<2x172xf32>
    // CHECK: return %[[R]]
    return %r : tensor<2x64xf32>
  }
}

{-#
  dialect_resources: {
    builtin: {
      tiny_norm: "0x040000000000803F0000803F0000803F0000803F",
      tiny_q8: "0x010000000038000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F"
    }
  }
#-}
