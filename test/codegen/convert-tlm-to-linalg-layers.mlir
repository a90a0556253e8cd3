// RUN: tlmc-opt %s --convert-tlm-to-linalg --split-input-file --verify-diagnostics | %FileCheck %s

// A layer function (tlm-share-layers) reads its weights relative to its
// layer's first weight; each call passes the weights buffer advanced to its
// own layer's first weight. Layout: @norm at 0, blk.0 at 64, blk.1 at 320.

module attributes {tlm.config = #tlm.config<arch = "llama", vocab = 16, dim = 8, ffn_dim = 12, layers = 2, heads = 2, kv_heads = 1, head_dim = 4, context_length = 32, rope_theta = 1.0e4 : f32, rope_style = adjacent, norm_eps = 1.0e-5 : f32, tied_embeddings = true, bos = 1, eos = 2>} {
  tlm.weight @norm : tensor<8xf32>
  tlm.weight @blk.0.attn_q : tensor<8x8xf32>
  tlm.weight @blk.1.attn_q : tensor<8x8xf32>

  // CHECK-LABEL: func.func @step
  // CHECK-SAME: (%[[W:.+]]: memref<576xi8>, %[[X:.+]]: tensor<1x8xf32>)
  // CHECK-DAG: %[[C64:.+]] = arith.constant 64 : index
  // CHECK-DAG: %[[C320:.+]] = arith.constant 320 : index
  // CHECK: %[[W0:.+]] = memref.view %[[W]][%[[C64]]][] : memref<576xi8> to memref<576xi8>
  // CHECK: %[[Y0:.+]] = call @layer0(%[[W0]], %[[X]], %{{.+}}) {tlmc.layer = 0 : i64}
  // CHECK: %[[W1:.+]] = memref.view %[[W]][%[[C320]]][] : memref<576xi8> to memref<576xi8>
  // CHECK: call @layer0(%[[W1]], %[[Y0]], %{{.+}}) {tlmc.layer = 1 : i64}
  func.func @step(%x: tensor<1x8xf32>) -> tensor<1x8xf32> {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %y0 = call @layer0(%x, %c0) {tlmc.layer = 0 : i64} : (tensor<1x8xf32>, index) -> tensor<1x8xf32>
    %y1 = call @layer0(%y0, %c1) {tlmc.layer = 1 : i64} : (tensor<1x8xf32>, index) -> tensor<1x8xf32>
    return %y1 : tensor<1x8xf32>
  }

  // CHECK-LABEL: func.func private @layer0
  // CHECK-SAME: (%[[LW:.+]]: memref<576xi8>, %{{.+}}: tensor<1x8xf32>, %{{.+}}: index)
  // CHECK: %[[C0:.+]] = arith.constant 0 : index
  // CHECK: memref.view %[[LW]][%[[C0]]][] : memref<576xi8> to memref<8x8xf32>
  func.func private @layer0(%x: tensor<1x8xf32>, %layer: index) -> tensor<1x8xf32> attributes {tlmc.layer = 0 : i64} {
    %w = tlm.weight_ref @blk.0.attn_q : tensor<8x8xf32>
    %y = tlm.linear %x, %w : tensor<1x8xf32>, tensor<8x8xf32> -> tensor<1x8xf32>
    return %y : tensor<1x8xf32>
  }
}

// -----

// A layer laid out differently cannot run the other layer's code.

module attributes {tlm.config = #tlm.config<arch = "llama", vocab = 16, dim = 8, ffn_dim = 12, layers = 2, heads = 2, kv_heads = 1, head_dim = 4, context_length = 32, rope_theta = 1.0e4 : f32, rope_style = adjacent, norm_eps = 1.0e-5 : f32, tied_embeddings = true, bos = 1, eos = 2>} {
  tlm.weight @blk.0.attn_q : tensor<8x8xf32>
  tlm.weight @blk.1.attn_q : tensor<8x8xf16>

  func.func @step(%x: tensor<1x8xf32>) -> tensor<1x8xf32> {
    %c1 = arith.constant 1 : index
    // expected-error @+1 {{layer 1 does not store 'blk.0.attn_q' as layer 0 does; it cannot share its code}}
    %y = call @layer0(%x, %c1) {tlmc.layer = 1 : i64} : (tensor<1x8xf32>, index) -> tensor<1x8xf32>
    return %y : tensor<1x8xf32>
  }
  func.func private @layer0(%x: tensor<1x8xf32>, %layer: index) -> tensor<1x8xf32> attributes {tlmc.layer = 0 : i64} {
    %w = tlm.weight_ref @blk.0.attn_q : tensor<8x8xf32>
    %y = tlm.linear %x, %w : tensor<1x8xf32>, tensor<8x8xf32> -> tensor<1x8xf32>
    return %y : tensor<1x8xf32>
  }
}
