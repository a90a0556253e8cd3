// RUN: not tlmc-opt %s --compress-quantize-weights="bits=4 group-size=4 method=gptq" 2>&1 | %FileCheck %s

// A calibration Hessian must be in x in for the weight it rides on.
// CHECK: error: 'tlm.weight' op compress.hessian must be tensor<4x4xf64>

module {
  tlm.weight @w : tensor<2x4xf32> = dense_resource<w> : tensor<2x4xf32> {compress.hessian = dense_resource<h2> : tensor<2x2xf64>}
  func.func @f(%x: tensor<1x4xf32>) -> tensor<1x2xf32> {
    %w = tlm.weight_ref @w : tensor<2x4xf32>
    %y = tlm.linear %x, %w : tensor<1x4xf32>, tensor<2x4xf32> -> tensor<1x2xf32>
    return %y : tensor<1x2xf32>
  }
}

{-#
  dialect_resources: { builtin: { w: "0x04000000CDCC0C3F6F12033F666666BF000000009A9919BFCDCC4C3FCDCCCC3D9A9999BE", h2: "0x08000000000000000000F03F00000000000000000000000000000000000000000000F03F" } }
#-}
