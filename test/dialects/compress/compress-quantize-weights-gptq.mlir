// RUN: tlmc-opt %s --compress-quantize-weights="bits=4 group-size=4 method=gptq damping=0.01" | %FileCheck %s
// RUN: tlmc-opt %s --compress-quantize-weights="bits=4 group-size=4" | %FileCheck %s --check-prefix=RTN
// RUN: not tlmc-opt %s --compress-quantize-weights="method=best" 2>&1 | %FileCheck %s --check-prefix=METHOD

// With a Hessian (sum of x x^T over calibration inputs; here x0 and x1
// move together), GPTQ pushes each column's rounding error onto the later
// columns. Row 0 is [0.55, 0.512, -0.9, 0] with step 0.1125: x0 rounds up
// by 0.0125, so GPTQ lowers w1 to ~0.4999 and rounds it to 4 where round
// to nearest gives 5 (first byte 0xCD vs 0xDD). Without method=gptq the
// Hessian is ignored.

// CHECK: compress.quantized_weight @w : tensor<2x4xf32> {bits = 4 : i64,
// CHECK-SAME: values = dense_resource<w.values> : tensor<2x2xi8>
// CHECK: w.values: "0x01000000CD
// RTN: w.values: "0x01000000DD

// METHOD: method must be rtn or gptq

module {
  tlm.weight @w : tensor<2x4xf32> = dense_resource<w> : tensor<2x4xf32> {compress.hessian = dense_resource<h> : tensor<4x4xf64>}
  func.func @f(%x: tensor<1x4xf32>) -> tensor<1x2xf32> {
    %w = tlm.weight_ref @w : tensor<2x4xf32>
    %y = tlm.linear %x, %w : tensor<1x4xf32>, tensor<2x4xf32> -> tensor<1x2xf32>
    return %y : tensor<1x2xf32>
  }
}

{-#
  dialect_resources: { builtin: { w: "0x04000000CDCC0C3F6F12033F666666BF000000009A9919BFCDCC4C3FCDCCCC3D9A9999BE", h: "0x0800000000000000000010403333333333330F40000000000000000000000000000000003333333333330F4000000000000010400000000000000000000000000000000000000000000000000000000000000000000000000000F03F0000000000000000000000000000000000000000000000000000000000000000000000000000F03F" } }
#-}
