// RUN: tlmc-opt %s --split-input-file --compress-prune-ffn=ratio=0.5 | tlmc-opt --split-input-file | %FileCheck %s

// Channels 1 and 3 carry the largest gate/up rows and down columns; pruning
// half keeps them (in order) and every shape in both functions follows.

// CHECK: tlm.weight @gate : tensor<2x2xf32> = dense_resource<gate.pruned> : tensor<2x2xf32> {compress.float_bytes = 32 : i64}
// CHECK: tlm.weight @up : tensor<2x2xf32> = dense_resource<up.pruned> : tensor<2x2xf32> {compress.float_bytes = 32 : i64}
// CHECK: tlm.weight @down : tensor<2x2xf32> = dense_resource<down.pruned> : tensor<2x2xf32> {compress.float_bytes = 32 : i64}
// CHECK-LABEL: func.func @decode
// CHECK: tlm.linear %{{.+}}, %{{.+}} : tensor<1x2xf32>, tensor<2x2xf32> -> tensor<1x2xf32>
// CHECK: tlm.swiglu %{{.+}}, %{{.+}} : tensor<1x2xf32>
// CHECK-LABEL: func.func @prefill
// CHECK: tlm.swiglu %{{.+}}, %{{.+}} : tensor<4x2xf32>
// CHECK: tlm.linear %{{.+}}, %{{.+}} : tensor<4x2xf32>, tensor<2x2xf32> -> tensor<4x2xf32>
// Gate rows 1 and 3 (2.0, 3.0); down keeps columns 1 and 3 of each row.
// CHECK: gate.pruned: "0x0100000000000040000000400000404000004040"
// CHECK: down.pruned: "0x0100000000000040000040400000004000004040"
module {
  tlm.weight @gate : tensor<4x2xf32> = dense_resource<gate> : tensor<4x2xf32>
  tlm.weight @up : tensor<4x2xf32> = dense_resource<up> : tensor<4x2xf32>
  tlm.weight @down : tensor<2x4xf32> = dense_resource<down> : tensor<2x4xf32>
  func.func @decode(%x: tensor<1x2xf32>) -> tensor<1x2xf32> {
    %g = tlm.weight_ref @gate : tensor<4x2xf32>
    %u = tlm.weight_ref @up : tensor<4x2xf32>
    %d = tlm.weight_ref @down : tensor<2x4xf32>
    %a = tlm.linear %x, %g : tensor<1x2xf32>, tensor<4x2xf32> -> tensor<1x4xf32>
    %b = tlm.linear %x, %u : tensor<1x2xf32>, tensor<4x2xf32> -> tensor<1x4xf32>
    %s = tlm.swiglu %a, %b : tensor<1x4xf32>
    %y = tlm.linear %s, %d : tensor<1x4xf32>, tensor<2x4xf32> -> tensor<1x2xf32>
    return %y : tensor<1x2xf32>
  }
  func.func @prefill(%x: tensor<4x2xf32>) -> tensor<4x2xf32> {
    %g = tlm.weight_ref @gate : tensor<4x2xf32>
    %u = tlm.weight_ref @up : tensor<4x2xf32>
    %d = tlm.weight_ref @down : tensor<2x4xf32>
    %a = tlm.linear %x, %g : tensor<4x2xf32>, tensor<4x2xf32> -> tensor<4x4xf32>
    %b = tlm.linear %x, %u : tensor<4x2xf32>, tensor<4x2xf32> -> tensor<4x4xf32>
    %s = tlm.swiglu %a, %b : tensor<4x4xf32>
    %y = tlm.linear %s, %d : tensor<4x4xf32>, tensor<2x4xf32> -> tensor<4x2xf32>
    return %y : tensor<4x2xf32>
  }
}

{-#
  dialect_resources: {
    builtin: {
      gate: "0x04000000CDCCCC3DCDCCCC3D0000004000000040CDCC4C3ECDCC4C3E0000404000004040",
      up: "0x04000000CDCCCC3DCDCCCC3D0000004000000040CDCC4C3ECDCC4C3E0000404000004040",
      down: "0x04000000CDCCCC3D00000040CDCC4C3E00004040CDCCCC3D00000040CDCC4C3E00004040"
    }
  }
#-}

// -----

// An f16 block stays f16: the kept values are its own, exactly.
// CHECK-LABEL: tlm.weight @gate16 : tensor<2x2xf16> = dense_resource<gate16.pruned> : tensor<2x2xf16> {compress.float_bytes = 16 : i64}
// CHECK: tlm.weight @down16 : tensor<2x2xf16>
// CHECK: tlm.linear %{{.+}}, %{{.+}} : tensor<1x2xf32>, tensor<2x2xf16> -> tensor<1x2xf32>
// CHECK: gate16.pruned: "0x010000000040004000420042"
module {
  tlm.weight @gate16 : tensor<4x2xf16> = dense_resource<gate16> : tensor<4x2xf16>
  tlm.weight @up16 : tensor<4x2xf16> = dense_resource<up16> : tensor<4x2xf16>
  tlm.weight @down16 : tensor<2x4xf16> = dense_resource<down16> : tensor<2x4xf16>
  func.func @decode(%x: tensor<1x2xf32>) -> tensor<1x2xf32> {
    %g = tlm.weight_ref @gate16 : tensor<4x2xf16>
    %u = tlm.weight_ref @up16 : tensor<4x2xf16>
    %d = tlm.weight_ref @down16 : tensor<2x4xf16>
    %a = tlm.linear %x, %g : tensor<1x2xf32>, tensor<4x2xf16> -> tensor<1x4xf32>
    %b = tlm.linear %x, %u : tensor<1x2xf32>, tensor<4x2xf16> -> tensor<1x4xf32>
    %s = tlm.swiglu %a, %b : tensor<1x4xf32>
    %y = tlm.linear %s, %d : tensor<1x4xf32>, tensor<2x4xf16> -> tensor<1x2xf32>
    return %y : tensor<1x2xf32>
  }
}

{-#
  dialect_resources: {
    builtin: {
      gate16: "0x02000000662E662E004000406632663200420042",
      up16: "0x02000000662E662E004000406632663200420042",
      down16: "0x02000000662E004066320042662E004066320042"
    }
  }
#-}

// -----

// A GeGLU block (Gemma's) prunes as a SwiGLU one: the activation is
// elementwise too, and follows the narrower type.
// CHECK-LABEL: tlm.weight @ggate : tensor<2x2xf32>
// CHECK: tlm.weight @gdown : tensor<2x2xf32>
// CHECK: tlm.geglu %{{.+}}, %{{.+}} : tensor<1x2xf32>
// CHECK: tlm.linear %{{.+}}, %{{.+}} : tensor<1x2xf32>, tensor<2x2xf32> -> tensor<1x2xf32>
module {
  tlm.weight @ggate : tensor<4x2xf32> = dense_resource<ggate> : tensor<4x2xf32>
  tlm.weight @gup : tensor<4x2xf32> = dense_resource<gup> : tensor<4x2xf32>
  tlm.weight @gdown : tensor<2x4xf32> = dense_resource<gdown> : tensor<2x4xf32>
  func.func @decode(%x: tensor<1x2xf32>) -> tensor<1x2xf32> {
    %g = tlm.weight_ref @ggate : tensor<4x2xf32>
    %u = tlm.weight_ref @gup : tensor<4x2xf32>
    %d = tlm.weight_ref @gdown : tensor<2x4xf32>
    %a = tlm.linear %x, %g : tensor<1x2xf32>, tensor<4x2xf32> -> tensor<1x4xf32>
    %b = tlm.linear %x, %u : tensor<1x2xf32>, tensor<4x2xf32> -> tensor<1x4xf32>
    %s = tlm.geglu %a, %b : tensor<1x4xf32>
    %y = tlm.linear %s, %d : tensor<1x4xf32>, tensor<2x4xf32> -> tensor<1x2xf32>
    return %y : tensor<1x2xf32>
  }
}

{-#
  dialect_resources: {
    builtin: {
      ggate: "0x04000000CDCCCC3DCDCCCC3D0000004000000040CDCC4C3ECDCC4C3E0000404000004040",
      gup: "0x04000000CDCCCC3DCDCCCC3D0000004000000040CDCC4C3ECDCC4C3E0000404000004040",
      gdown: "0x04000000CDCCCC3D00000040CDCC4C3E00004040CDCCCC3D00000040CDCC4C3E00004040"
    }
  }
#-}
