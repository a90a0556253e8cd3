// RUN: not tlmc-opt %s --compress-prune-heads=per-group=1 2>&1 | %FileCheck %s

// The keys come straight from an argument, not through a projection: the
// pass cannot tell which weights to shrink, so it refuses instead of
// leaving the attention half pruned.
// CHECK: error: compress-prune-heads: expected float tlm.linear projections q, k (through tlm.rope), v and o around the attention

module {
  tlm.weight @wq : tensor<8x8xf32> = dense_resource<w> : tensor<8x8xf32>
  func.func @f(%x: tensor<1x8xf32>, %k: tensor<1x4xf32>, %pos: index, %kc: memref<1x8x4xf32>, %vc: memref<1x8x4xf32>) -> tensor<1x8xf32> {
    %wq = tlm.weight_ref @wq : tensor<8x8xf32>
    %q = tlm.linear %x, %wq : tensor<1x8xf32>, tensor<8x8xf32> -> tensor<1x8xf32>
    %rq = tlm.rope %q, %pos {head_dim = 2 : i64, theta = 1.0e4 : f32, style = #tlm.rope_style<adjacent>} : tensor<1x8xf32>
    %att = tlm.attention %rq, %k, %k, %kc, %vc, %pos {layer = 0 : i64, heads = 4 : i64, kv_heads = 2 : i64, head_dim = 2 : i64}
        : tensor<1x8xf32>, tensor<1x4xf32>, tensor<1x4xf32>, memref<1x8x4xf32>, memref<1x8x4xf32> -> tensor<1x8xf32>
    return %att : tensor<1x8xf32>
  }
}

{-#
  dialect_resources: { builtin: { w: "0x0400000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000" } }
#-}
