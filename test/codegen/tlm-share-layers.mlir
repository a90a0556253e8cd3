// RUN: tlmc-opt %s --tlm-share-layers --split-input-file --verify-diagnostics | %FileCheck %s

// Two layers of the same shape share one function: its arguments are the
// values the layer reads, in order of first use, then the layer index (attention reads the cache at it), the weights keep layer
// 0's names, and each call says whose weights it computes with. The
// embedding and the head stay in the entry point.

module {
  tlm.weight @token_embd : tensor<16x8xf32>
  tlm.weight @blk.0.attn_norm : tensor<8xf32>
  tlm.weight @blk.0.attn_q : tensor<8x8xf32>
  tlm.weight @blk.0.attn_k : tensor<4x8xf32>
  tlm.weight @blk.1.attn_norm : tensor<8xf32>
  tlm.weight @blk.1.attn_q : tensor<8x8xf32>
  tlm.weight @blk.1.attn_k : tensor<4x8xf32>
  tlm.weight @output_norm : tensor<8xf32>

  // CHECK-LABEL: func.func @decode
  // CHECK-SAME: (%[[T:.+]]: tensor<1xi32>, %[[P:.+]]: index, %[[KC:.+]]: memref<2x4x4xf32>, %[[VC:.+]]: memref<2x4x4xf32>)
  func.func @decode(%t: tensor<1xi32>, %pos: index, %kc: memref<2x4x4xf32>, %vc: memref<2x4x4xf32>) -> tensor<1x16xf32> {
    // CHECK: %[[X0:.+]] = tlm.embedding
    %e = tlm.weight_ref @token_embd : tensor<16x8xf32>
    %x0 = tlm.embedding %t, %e : tensor<1xi32>, tensor<16x8xf32> -> tensor<1x8xf32>
    // CHECK: %[[L0:.+]] = arith.constant 0 : index
    // CHECK: %[[X1:.+]] = call @layer0(%[[X0]], %[[KC]], %[[VC]], %[[P]], %[[L0]]) {tlmc.layer = 0 : i64}
    %n0 = tlm.weight_ref @blk.0.attn_norm : tensor<8xf32>
    %h0 = tlm.rms_norm %x0, %n0 {eps = 1.0e-5 : f32} : tensor<1x8xf32>, tensor<8xf32>
    %q0w = tlm.weight_ref @blk.0.attn_q : tensor<8x8xf32>
    %q0 = tlm.linear %h0, %q0w : tensor<1x8xf32>, tensor<8x8xf32> -> tensor<1x8xf32>
    %k0w = tlm.weight_ref @blk.0.attn_k : tensor<4x8xf32>
    %k0 = tlm.linear %h0, %k0w : tensor<1x8xf32>, tensor<4x8xf32> -> tensor<1x4xf32>
    %a0 = tlm.attention %q0, %k0, %k0, %kc, %vc, %pos {layer = 0 : i64, heads = 2 : i64, kv_heads = 1 : i64, head_dim = 4 : i64}
        : tensor<1x8xf32>, tensor<1x4xf32>, tensor<1x4xf32>, memref<2x4x4xf32>, memref<2x4x4xf32> -> tensor<1x8xf32>
    %x1 = tlm.add %x0, %a0 : tensor<1x8xf32>
    // CHECK: %[[L1:.+]] = arith.constant 1 : index
    // CHECK: %[[X2:.+]] = call @layer0(%[[X1]], %[[KC]], %[[VC]], %[[P]], %[[L1]]) {tlmc.layer = 1 : i64}
    %n1 = tlm.weight_ref @blk.1.attn_norm : tensor<8xf32>
    %h1 = tlm.rms_norm %x1, %n1 {eps = 1.0e-5 : f32} : tensor<1x8xf32>, tensor<8xf32>
    %q1w = tlm.weight_ref @blk.1.attn_q : tensor<8x8xf32>
    %q1 = tlm.linear %h1, %q1w : tensor<1x8xf32>, tensor<8x8xf32> -> tensor<1x8xf32>
    %k1w = tlm.weight_ref @blk.1.attn_k : tensor<4x8xf32>
    %k1 = tlm.linear %h1, %k1w : tensor<1x8xf32>, tensor<4x8xf32> -> tensor<1x4xf32>
    %a1 = tlm.attention %q1, %k1, %k1, %kc, %vc, %pos {layer = 1 : i64, heads = 2 : i64, kv_heads = 1 : i64, head_dim = 4 : i64}
        : tensor<1x8xf32>, tensor<1x4xf32>, tensor<1x4xf32>, memref<2x4x4xf32>, memref<2x4x4xf32> -> tensor<1x8xf32>
    %x2 = tlm.add %x1, %a1 : tensor<1x8xf32>
    // CHECK: tlm.rms_norm %[[X2]]
    // CHECK: tlm.linear
    %on = tlm.weight_ref @output_norm : tensor<8xf32>
    %hf = tlm.rms_norm %x2, %on {eps = 1.0e-5 : f32} : tensor<1x8xf32>, tensor<8xf32>
    %logits = tlm.linear %hf, %e : tensor<1x8xf32>, tensor<16x8xf32> -> tensor<1x16xf32>
    return %logits : tensor<1x16xf32>
  }

  // CHECK-LABEL: func.func private @layer0
  // CHECK-SAME: (%[[X:.+]]: tensor<1x8xf32>, %[[LKC:.+]]: memref<2x4x4xf32>, %[[LVC:.+]]: memref<2x4x4xf32>, %[[LP:.+]]: index, %[[LAYER:.+]]: index) -> tensor<1x8xf32>
  // CHECK-SAME: attributes {tlmc.layer = 0 : i64, tlmc.no_inline}
  // CHECK: tlm.weight_ref @blk.0.attn_norm
  // CHECK: tlm.weight_ref @blk.0.attn_q
  // CHECK: tlm.attention %{{.+}}, %{{.+}}, %{{.+}}, %[[LKC]], %[[LVC]], %[[LP]] layer %[[LAYER]] {{{.*}}layer = 0 : i64
  // CHECK: %[[R:.+]] = tlm.add %[[X]]
  // CHECK: return %[[R]]
  // CHECK-NOT: func.func private @layer1
}

// -----

// Layers whose weights differ in type get functions of their own.

module {
  tlm.weight @blk.0.attn_q : tensor<8x8xf32>
  tlm.weight @blk.1.attn_q : tensor<8x8xf16>
  tlm.weight @blk.2.attn_q : tensor<8x8xf32>

  // CHECK-LABEL: func.func @step
  // CHECK: call @layer0({{.*}}) {tlmc.layer = 0 : i64}
  // CHECK: call @layer1({{.*}}) {tlmc.layer = 1 : i64}
  // CHECK: call @layer0({{.*}}) {tlmc.layer = 2 : i64}
  func.func @step(%x: tensor<1x8xf32>) -> tensor<1x8xf32> {
    %w0 = tlm.weight_ref @blk.0.attn_q : tensor<8x8xf32>
    %y0 = tlm.linear %x, %w0 : tensor<1x8xf32>, tensor<8x8xf32> -> tensor<1x8xf32>
    %w1 = tlm.weight_ref @blk.1.attn_q : tensor<8x8xf16>
    %y1 = tlm.linear %y0, %w1 : tensor<1x8xf32>, tensor<8x8xf16> -> tensor<1x8xf32>
    %w2 = tlm.weight_ref @blk.2.attn_q : tensor<8x8xf32>
    %y2 = tlm.linear %y1, %w2 : tensor<1x8xf32>, tensor<8x8xf32> -> tensor<1x8xf32>
    return %y2 : tensor<1x8xf32>
  }
  // CHECK: func.func private @layer0({{.*}}) -> tensor<1x8xf32> attributes {tlmc.layer = 0 : i64
  // CHECK: func.func private @layer1({{.*}}) -> tensor<1x8xf32> attributes {tlmc.layer = 1 : i64
  // CHECK: tlm.weight_ref @blk.1.attn_q : tensor<8x8xf16>
}

// -----

// Layers whose ops read alike but whose quantized weights are stored
// differently (int8 in layer 0, int4 in groups of 4 in layers 1 and 2:
// mixed precision) get functions of their own: the code reads the storage.

module {
  compress.quantized_weight @blk.0.attn_q : tensor<4x8xf32> {bits = 8 : i64, group_size = 8 : i64, symmetric = true} values = dense_resource<v0> : tensor<4x8xi8> scales = dense_resource<s0> : tensor<4x1xf32>
  compress.quantized_weight @blk.1.attn_q : tensor<4x8xf32> {bits = 4 : i64, group_size = 4 : i64, symmetric = true} values = dense_resource<v1> : tensor<4x4xi8> scales = dense_resource<s1> : tensor<4x2xf32>
  compress.quantized_weight @blk.2.attn_q : tensor<4x8xf32> {bits = 4 : i64, group_size = 4 : i64, symmetric = true} values = dense_resource<v2> : tensor<4x4xi8> scales = dense_resource<s2> : tensor<4x2xf32>

  // CHECK-LABEL: func.func @mixed
  // CHECK: call @layer0({{.*}}) {tlmc.layer = 0 : i64}
  // CHECK: call @layer1({{.*}}) {tlmc.layer = 1 : i64}
  // CHECK: call @layer1({{.*}}) {tlmc.layer = 2 : i64}
  func.func @mixed(%x: tensor<1x8xf32>) -> tensor<1x4xf32> {
    %y0 = compress.quantized_linear %x, @blk.0.attn_q : tensor<1x8xf32> -> tensor<1x4xf32>
    %y1 = compress.quantized_linear %x, @blk.1.attn_q : tensor<1x8xf32> -> tensor<1x4xf32>
    %s = arith.addf %y0, %y1 : tensor<1x4xf32>
    %y2 = compress.quantized_linear %x, @blk.2.attn_q : tensor<1x8xf32> -> tensor<1x4xf32>
    %r = arith.addf %s, %y2 : tensor<1x4xf32>
    return %r : tensor<1x4xf32>
  }
}

// -----

// Layers whose ops interleave cannot be outlined one by one: the entry
// point stays as it is, with a warning (correct, only larger).

module {
  tlm.weight @blk.0.attn_q : tensor<8x8xf32>
  tlm.weight @blk.1.attn_q : tensor<8x8xf32>

  // CHECK-LABEL: func.func @interleaved
  // CHECK-NOT: call
  // expected-warning @+1 {{tlm-share-layers: the layers' ops are interleaved; every layer stays inline}}
  func.func @interleaved(%x: tensor<1x8xf32>) -> tensor<1x8xf32> {
    %w0 = tlm.weight_ref @blk.0.attn_q : tensor<8x8xf32>
    %w1 = tlm.weight_ref @blk.1.attn_q : tensor<8x8xf32>
    %y0 = tlm.linear %x, %w0 : tensor<1x8xf32>, tensor<8x8xf32> -> tensor<1x8xf32>
    %y1 = tlm.linear %y0, %w1 : tensor<1x8xf32>, tensor<8x8xf32> -> tensor<1x8xf32>
    return %y1 : tensor<1x8xf32>
  }
}
