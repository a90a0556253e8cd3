// RUN: tlmc-opt %s --convert-tlm-to-linalg | %FileCheck %s

// A quantized linear reads its integers, scales and zero points from the
// weights buffer and dequantizes in the reduction body; int4 values are
// read at k floordiv 2 and scales at k floordiv group_size (ragged last
// group of 8 for rows of 40).

// CHECK-DAG: #[[$X:.+]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG: #[[$Q:.+]] = affine_map<(d0, d1, d2) -> (d1, d2 floordiv 2)>
// CHECK-DAG: #[[$S:.+]] = affine_map<(d0, d1, d2) -> (d1, d2 floordiv 32)>
// CHECK-DAG: #[[$Y:.+]] = affine_map<(d0, d1, d2) -> (d0, d1)>
module {
  compress.quantized_weight @w : tensor<4x40xf32> {bits = 4 : i64, group_size = 32 : i64, symmetric = false} values = dense_resource<v> : tensor<4x20xi8> scales = dense_resource<s> : tensor<4x2xf32> zero_points = dense_resource<z> : tensor<4x2xi8>
  // CHECK-LABEL: func.func @f
  // CHECK-SAME: (%[[W:.+]]: memref<256xi8>,
  func.func @f(%x: tensor<1x40xf32>) -> tensor<1x4xf32> {
    // CHECK-DAG: memref.view %[[W]][%{{.+}}][] : memref<256xi8> to memref<4x20xi8>
    // CHECK-DAG: memref.view %[[W]][%{{.+}}][] : memref<256xi8> to memref<4x2xf32>
    // CHECK-DAG: memref.view %[[W]][%{{.+}}][] : memref<256xi8> to memref<4x2xi8>
    // CHECK: linalg.generic {indexing_maps = [#[[$X]], #[[$Q]], #[[$S]], #[[$S]], #[[$Y]]]
    // CHECK-SAME: tlmc.parallel_rows
    // CHECK: linalg.index 2
    // CHECK: arith.shrui
    // CHECK: arith.andi
    // CHECK: arith.subi
    // CHECK: arith.sitofp
    %y = compress.quantized_linear %x, @w : tensor<1x40xf32> -> tensor<1x4xf32>
    return %y : tensor<1x4xf32>
  }
}
// CHECK-NOT: compress.
