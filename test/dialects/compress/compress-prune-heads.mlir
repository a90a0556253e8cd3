// RUN: tlmc-opt %s --compress-prune-heads=per-group=1 | tlmc-opt | %FileCheck %s
// RUN: not tlmc-opt %s --compress-prune-heads=per-group=2 2>&1 | %FileCheck %s --check-prefix=BAD

// Four query heads in two KV groups, {0, 1} and {2, 3}; heads 1 and 2 carry
// the largest q rows and o columns, so one head per group goes: 0 and 3.
// Wq keeps rows 2..5, Wo columns 2..5; the cache is untouched.

// CHECK: tlm.weight @wq : tensor<4x8xf32> = dense_resource<wq.pruned> : tensor<4x8xf32> {compress.float_bytes = 256 : i64}
// CHECK: tlm.weight @wo : tensor<8x4xf32> = dense_resource<wo.pruned> : tensor<8x4xf32> {compress.float_bytes = 256 : i64}
// CHECK-LABEL: func.func @f
// CHECK: %[[Q:.+]] = tlm.linear %{{.+}}, %{{.+}} : tensor<1x8xf32>, tensor<4x8xf32> -> tensor<1x4xf32>
// CHECK: %[[R:.+]] = tlm.rope %[[Q]], %{{.+}} {{.*}} : tensor<1x4xf32>
// CHECK: %[[A:.+]] = tlm.attention %[[R]], {{.*}} {head_dim = 2 : i64, heads = 2 : i64, kv_heads = 2 : i64, layer = 0 : i64} : tensor<1x4xf32>, tensor<1x4xf32>, tensor<1x4xf32>, memref<1x8x4xf32>, memref<1x8x4xf32> -> tensor<1x4xf32>
// CHECK: tlm.linear %[[A]], %{{.+}} : tensor<1x4xf32>, tensor<8x4xf32> -> tensor<1x8xf32>

// Rows 2..5 of Wq (heads 1 and 2), in order:
// CHECK: wq.pruned: "0x0100000000000040000040400000803F00000040000040400000803F00000040000040400000803F00000040000040400000803F00000040000040400000803F000000400000C04000000040000080400000C04000000040000080400000C04000000040000080400000C04000000040000080400000C04000000040000080400000C040"

// BAD: per-group must be in [1, 1] for groups of 2 heads

module {
  tlm.weight @wq : tensor<8x8xf32> = dense_resource<wq> : tensor<8x8xf32>
  tlm.weight @wo : tensor<8x8xf32> = dense_resource<wo> : tensor<8x8xf32>
  func.func @f(%x: tensor<1x8xf32>, %k: tensor<1x4xf32>, %pos: index, %kc: memref<1x8x4xf32>, %vc: memref<1x8x4xf32>) -> tensor<1x8xf32> {
    %a = tlm.weight_ref @wq : tensor<8x8xf32>
    %q = tlm.linear %x, %a : tensor<1x8xf32>, tensor<8x8xf32> -> tensor<1x8xf32>
    %r = tlm.rope %q, %pos {head_dim = 2 : i64, theta = 1.0e4 : f32, style = #tlm.rope_style<adjacent>} : tensor<1x8xf32>
    %att = tlm.attention %r, %k, %k, %kc, %vc, %pos {layer = 0 : i64, heads = 4 : i64, kv_heads = 2 : i64, head_dim = 2 : i64}
        : tensor<1x8xf32>, tensor<1x4xf32>, tensor<1x4xf32>, memref<1x8x4xf32>, memref<1x8x4xf32> -> tensor<1x8xf32>
    %b = tlm.weight_ref @wo : tensor<8x8xf32>
    %y = tlm.linear %att, %b : tensor<1x8xf32>, tensor<8x8xf32> -> tensor<1x8xf32>
    return %y : tensor<1x8xf32>
  }
}

{-#
  dialect_resources: { builtin: { wq: "0x04000000CDCCCC3DCDCC4C3E9A99993ECDCCCC3DCDCC4C3E9A99993ECDCCCC3DCDCC4C3E9A99993ECDCCCC3DCDCC4C3E9A99993ECDCCCC3DCDCC4C3E9A99993ECDCCCC3D00000040000040400000803F00000040000040400000803F00000040000040400000803F00000040000040400000803F00000040000040400000803F000000400000C04000000040000080400000C04000000040000080400000C04000000040000080400000C04000000040000080400000C04000000040000080400000C040CDCC4C3ECDCCCC3E9A99193FCDCC4C3ECDCCCC3E9A99193FCDCC4C3ECDCCCC3E9A99193FCDCC4C3ECDCCCC3E9A99193FCDCC4C3ECDCCCC3E9A99193FCDCC4C3E", wo: "0x04000000CDCCCC3DCDCC4C3E00004040000080400000204100000040CDCCCC3E9A99193FCDCCCC3E0000003F0000803F000000400000C040000000410000803FCDCC4C3ECDCC4C3E9A99993E000080400000A04000000040000080409A99193FCDCC4C3F0000003FCDCCCC3D00000040000040400000004100002041CDCC4C3ECDCCCC3E9A99993ECDCCCC3E0000A0400000803F000080400000C040CDCC4C3F0000803FCDCCCC3DCDCC4C3E00004040000080400000204100000040CDCCCC3E9A99193FCDCCCC3E0000003F0000803F000000400000C040000000410000803FCDCC4C3ECDCC4C3E9A99993E000080400000A04000000040000080409A99193FCDCC4C3F" } }
#-}
