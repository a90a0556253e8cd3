// RUN: tlmc-opt %s --compress-prune-heads=per-group=1 | tlmc-opt | %FileCheck %s --check-prefix=HEADS
// RUN: tlmc-opt %s --compress-prune-heads=kv-heads=1 | tlmc-opt | %FileCheck %s --check-prefix=KV
// RUN: tlmc-opt %s --compress-prune-heads="kv-heads=1 per-group=1" | tlmc-opt | %FileCheck %s --check-prefix=BOTH
// RUN: tlmc-opt %s --compress-prune-heads | %FileCheck %s --check-prefix=NONE
// RUN: not tlmc-opt %s --compress-prune-heads=per-group=2 2>&1 | %FileCheck %s --check-prefix=BAD-GROUP
// RUN: not tlmc-opt %s --compress-prune-heads=kv-heads=2 2>&1 | %FileCheck %s --check-prefix=BAD-KV

// Four query heads (head_dim 2) in two KV groups, {0, 1} and {2, 3}. Each
// head's rows of Wq hold one value q_h = 1, 2, 2, 3 and its columns of Wo
// one value o_h = 1, 2, 1.5, 1, so the importance ||Wq rows|| * ||Wo cols||
// is 16 x (1, 4, 3, 3); KV group 0 sums to 5, group 1 to 6. KV head g's
// rows of Wk hold 10 + g, of Wv 20 + g.

// per-group=1: head 0 goes from group 0; heads 2 and 3 tie, the later goes.
// The caches and the K/V projections are untouched.
// HEADS: tlm.weight @wq : tensor<4x8xf32> = dense_resource<wq.pruned> : tensor<4x8xf32> {compress.float_bytes = 256 : i64}
// HEADS: tlm.weight @wk : tensor<4x8xf32> = dense_resource<wk> : tensor<4x8xf32>
// HEADS: tlm.weight @wo : tensor<8x4xf32> = dense_resource<wo.pruned> : tensor<8x4xf32> {compress.float_bytes = 256 : i64}
// HEADS: func.func @f(%{{.+}}: tensor<1x8xf32>, %{{.+}}: index, %{{.+}}: memref<1x8x4xf32>, %{{.+}}: memref<1x8x4xf32>) -> tensor<1x8xf32>
// HEADS: %[[Q:.+]] = tlm.linear %{{.+}}, %{{.+}} : tensor<1x8xf32>, tensor<4x8xf32> -> tensor<1x4xf32>
// HEADS: %[[R:.+]] = tlm.rope %[[Q]], %{{.+}} {{.*}} : tensor<1x4xf32>
// HEADS: %[[A:.+]] = tlm.attention %[[R]], {{.*}} {head_dim = 2 : i64, heads = 2 : i64, kv_heads = 2 : i64, layer = 0 : i64} : tensor<1x4xf32>, tensor<1x4xf32>, tensor<1x4xf32>, memref<1x8x4xf32>, memref<1x8x4xf32> -> tensor<1x4xf32>
// HEADS: tlm.linear %[[A]], %{{.+}} : tensor<1x4xf32>, tensor<8x4xf32> -> tensor<1x8xf32>
// Heads 1 and 2 of Wq (values 2, 2) and of Wo (2, 1.5 in every row):
// HEADS: wq.pruned: "0x010000000000004000000040000000400000004000000040000000400000004000000040000000400000004000000040000000400000004000000040000000400000004000000040000000400000004000000040000000400000004000000040000000400000004000000040000000400000004000000040000000400000004000000040"
// HEADS: wo.pruned: "0x0100000000000040000000400000C03F0000C03F00000040000000400000C03F0000C03F00000040000000400000C03F0000C03F00000040000000400000C03F0000C03F00000040000000400000C03F0000C03F00000040000000400000C03F0000C03F00000040000000400000C03F0000C03F00000040000000400000C03F0000C03F"

// kv-heads=1: KV group 0 (heads 0 and 1) goes; Wk and Wv keep KV head 1,
// Wq and Wo heads 2 and 3, and both caches narrow to one KV head's width,
// in the function's signature too.
// KV: tlm.weight @wq : tensor<4x8xf32> = dense_resource<wq.pruned>
// KV: tlm.weight @wk : tensor<2x8xf32> = dense_resource<wk.pruned> : tensor<2x8xf32> {compress.float_bytes = 128 : i64}
// KV: tlm.weight @wv : tensor<2x8xf32> = dense_resource<wv.pruned> : tensor<2x8xf32> {compress.float_bytes = 128 : i64}
// KV: tlm.weight @wo : tensor<8x4xf32> = dense_resource<wo.pruned>
// KV: func.func @f(%{{.+}}: tensor<1x8xf32>, %{{.+}}: index, %[[KC:.+]]: memref<1x8x2xf32>, %[[VC:.+]]: memref<1x8x2xf32>) -> tensor<1x8xf32>
// KV: %[[K:.+]] = tlm.linear %{{.+}}, %{{.+}} : tensor<1x8xf32>, tensor<2x8xf32> -> tensor<1x2xf32>
// KV: tlm.rope %[[K]], %{{.+}} {{.*}} : tensor<1x2xf32>
// KV: tlm.linear %{{.+}}, %{{.+}} : tensor<1x8xf32>, tensor<2x8xf32> -> tensor<1x2xf32>
// KV: tlm.attention {{.*}}, %[[KC]], %[[VC]], %{{.+}} {head_dim = 2 : i64, heads = 2 : i64, kv_heads = 1 : i64, layer = 0 : i64} : tensor<1x4xf32>, tensor<1x2xf32>, tensor<1x2xf32>, memref<1x8x2xf32>, memref<1x8x2xf32> -> tensor<1x4xf32>
// KV: wq.pruned: "0x010000000000004000000040000000400000004000000040000000400000004000000040000000400000004000000040000000400000004000000040000000400000004000004040000040400000404000004040000040400000404000004040000040400000404000004040000040400000404000004040000040400000404000004040"
// KV: wk.pruned: "0x0100000000003041000030410000304100003041000030410000304100003041000030410000304100003041000030410000304100003041000030410000304100003041"
// KV: wv.pruned: "0x010000000000A8410000A8410000A8410000A8410000A8410000A8410000A8410000A8410000A8410000A8410000A8410000A8410000A8410000A8410000A8410000A841"
// KV: wo.pruned: "0x010000000000C03F0000C03F0000803F0000803F0000C03F0000C03F0000803F0000803F0000C03F0000C03F0000803F0000803F0000C03F0000C03F0000803F0000803F0000C03F0000C03F0000803F0000803F0000C03F0000C03F0000803F0000803F0000C03F0000C03F0000803F0000803F0000C03F0000C03F0000803F0000803F"

// Both: KV group 1 stays, and of its tied heads 2 and 3, head 2.
// BOTH: tlm.attention {{.*}} {head_dim = 2 : i64, heads = 1 : i64, kv_heads = 1 : i64, layer = 0 : i64} : tensor<1x2xf32>, tensor<1x2xf32>, tensor<1x2xf32>, memref<1x8x2xf32>, memref<1x8x2xf32> -> tensor<1x2xf32>
// BOTH: wq.pruned: "0x0100000000000040000000400000004000000040000000400000004000000040000000400000004000000040000000400000004000000040000000400000004000000040"
// BOTH: wo.pruned: "0x010000000000C03F0000C03F0000C03F0000C03F0000C03F0000C03F0000C03F0000C03F0000C03F0000C03F0000C03F0000C03F0000C03F0000C03F0000C03F0000C03F"

// With no options the pass changes nothing.
// NONE: tlm.attention {{.*}} {head_dim = 2 : i64, heads = 4 : i64, kv_heads = 2 : i64, layer = 0 : i64}
// NONE-NOT: pruned

// BAD-GROUP: per-group must be in [0, 1] for groups of 2 heads
// BAD-KV: kv-heads must be in [0, 1] for 2 KV heads

module {
  tlm.weight @wq : tensor<8x8xf32> = dense_resource<wq> : tensor<8x8xf32>
  tlm.weight @wk : tensor<4x8xf32> = dense_resource<wk> : tensor<4x8xf32>
  tlm.weight @wv : tensor<4x8xf32> = dense_resource<wv> : tensor<4x8xf32>
  tlm.weight @wo : tensor<8x8xf32> = dense_resource<wo> : tensor<8x8xf32>
  func.func @f(%x: tensor<1x8xf32>, %pos: index, %kc: memref<1x8x4xf32>, %vc: memref<1x8x4xf32>) -> tensor<1x8xf32> {
    %wq = tlm.weight_ref @wq : tensor<8x8xf32>
    %q = tlm.linear %x, %wq : tensor<1x8xf32>, tensor<8x8xf32> -> tensor<1x8xf32>
    %rq = tlm.rope %q, %pos {head_dim = 2 : i64, theta = 1.0e4 : f32, style = #tlm.rope_style<adjacent>} : tensor<1x8xf32>
    %wk = tlm.weight_ref @wk : tensor<4x8xf32>
    %k = tlm.linear %x, %wk : tensor<1x8xf32>, tensor<4x8xf32> -> tensor<1x4xf32>
    %rk = tlm.rope %k, %pos {head_dim = 2 : i64, theta = 1.0e4 : f32, style = #tlm.rope_style<adjacent>} : tensor<1x4xf32>
    %wv = tlm.weight_ref @wv : tensor<4x8xf32>
    %v = tlm.linear %x, %wv : tensor<1x8xf32>, tensor<4x8xf32> -> tensor<1x4xf32>
    %att = tlm.attention %rq, %rk, %v, %kc, %vc, %pos {layer = 0 : i64, heads = 4 : i64, kv_heads = 2 : i64, head_dim = 2 : i64}
        : tensor<1x8xf32>, tensor<1x4xf32>, tensor<1x4xf32>, memref<1x8x4xf32>, memref<1x8x4xf32> -> tensor<1x8xf32>
    %wo = tlm.weight_ref @wo : tensor<8x8xf32>
    %y = tlm.linear %att, %wo : tensor<1x8xf32>, tensor<8x8xf32> -> tensor<1x8xf32>
    return %y : tensor<1x8xf32>
  }
}

{-#
  dialect_resources: { builtin: { wq: "0x040000000000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F000000400000004000000040000000400000004000000040000000400000004000000040000000400000004000000040000000400000004000000040000000400000004000000040000000400000004000000040000000400000004000000040000000400000004000000040000000400000004000000040000000400000004000004040000040400000404000004040000040400000404000004040000040400000404000004040000040400000404000004040000040400000404000004040", wk: "0x040000000000204100002041000020410000204100002041000020410000204100002041000020410000204100002041000020410000204100002041000020410000204100003041000030410000304100003041000030410000304100003041000030410000304100003041000030410000304100003041000030410000304100003041", wv: "0x040000000000A0410000A0410000A0410000A0410000A0410000A0410000A0410000A0410000A0410000A0410000A0410000A0410000A0410000A0410000A0410000A0410000A8410000A8410000A8410000A8410000A8410000A8410000A8410000A8410000A8410000A8410000A8410000A8410000A8410000A8410000A8410000A841", wo: "0x040000000000803F0000803F00000040000000400000C03F0000C03F0000803F0000803F0000803F0000803F00000040000000400000C03F0000C03F0000803F0000803F0000803F0000803F00000040000000400000C03F0000C03F0000803F0000803F0000803F0000803F00000040000000400000C03F0000C03F0000803F0000803F0000803F0000803F00000040000000400000C03F0000C03F0000803F0000803F0000803F0000803F00000040000000400000C03F0000C03F0000803F0000803F0000803F0000803F00000040000000400000C03F0000C03F0000803F0000803F0000803F0000803F00000040000000400000C03F0000C03F0000803F0000803F" } }
#-}
