// RUN: tlmc-opt %s --compress-lowrank=energy=0.999 | tlmc-opt | %FileCheck %s
// RUN: tlmc-opt %s --compress-lowrank=ratio=0.9 | %FileCheck %s --check-prefix=RATIO
// RUN: tlmc-opt %s --compress-lowrank="energy=0.999 keep=w" | %FileCheck %s --check-prefix=KEEP

// @w (8x8) is a sum of two outer products: rank 2. Keeping 99.9% of the
// energy finds rank 2 exactly (2 x 16 parameters < 64) with ~0 error, and
// the linear becomes two linears through the rank.

// CHECK-DAG: tlm.weight @w.v : tensor<2x8xf32> = dense_resource<w.v> : tensor<2x8xf32> {compress.float_bytes = 0 : i64, compress.rank = 2 : i64}
// CHECK-DAG: tlm.weight @w.u : tensor<8x2xf32> = dense_resource<w.u> : tensor<8x2xf32> {compress.float_bytes = 256 : i64, compress.rank = 2 : i64, compress.relative_error = {{[0-9.]+}}E-{{[6-9]|[1-9][0-9]}} : f64}
// CHECK-LABEL: func.func @f
// CHECK: %[[V:.+]] = tlm.weight_ref @w.v : tensor<2x8xf32>
// CHECK: %[[U:.+]] = tlm.weight_ref @w.u : tensor<8x2xf32>
// CHECK: %[[T:.+]] = tlm.linear %{{.+}}, %[[V]] : tensor<1x8xf32>, tensor<2x8xf32> -> tensor<1x2xf32>
// CHECK: tlm.linear %[[T]], %[[U]] : tensor<1x2xf32>, tensor<8x2xf32> -> tensor<1x8xf32>
// CHECK-NOT: tlm.weight @w :

// At most 90% of the parameters: rank floor(0.9 * 64 / 16) = 3.
// RATIO: tlm.weight @w.v : tensor<3x8xf32>

// KEEP: tlm.weight @w : tensor<8x8xf32>
// KEEP-NOT: @w.u

module {
  tlm.weight @w : tensor<8x8xf32> = dense_resource<w> : tensor<8x8xf32>
  func.func @f(%x: tensor<1x8xf32>) -> tensor<1x8xf32> {
    %w = tlm.weight_ref @w : tensor<8x8xf32>
    %y = tlm.linear %x, %w : tensor<1x8xf32>, tensor<8x8xf32> -> tensor<1x8xf32>
    return %y : tensor<1x8xf32>
  }
}

{-#
  dialect_resources: { builtin: { w: "0x040000009A99193FCDCC4CBFCDCC0C3F9A9919409A99193FCDCC4CBFCDCC0C3F3333B33F6666663FCDCC0CC0CDCC4C3E666666409A991940333333BF9A99D93F66664640CDCCCC3F333333C06666863FCDCCCC40666626406666E6BF33330340CDCC8C403333F33F666686C03333333F3333F340CDCC8C409A99D9BFCDCC4C403333C340CDCC2C40333393C0CDCCEC3FCDCC2C4166668640666646C0666656409A99E94033333340CDCCCCC06666663F333333419A99D9409A9919C0CDCC9C403333134133336340CDCCDCC03333F33F333363419A99D9409A9969C0CDCCA4403333274100008040000000C1000000400000804100000041000080C00000C04000004041" } }
#-}
