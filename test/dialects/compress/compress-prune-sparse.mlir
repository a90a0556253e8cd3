// RUN: tlmc-opt %s --compress-prune-sparse="mode=nm n=2 m=4" | tlmc-opt | %FileCheck %s
// RUN: tlmc-opt %s --compress-prune-sparse="mode=unstructured sparsity=0.75" | %FileCheck %s --check-prefix=UNSTRUCTURED
// RUN: tlmc-opt %s --compress-prune-sparse="mode=nm n=2 m=4" --convert-tlm-to-linalg | %FileCheck %s --check-prefix=LOWERED
// RUN: not tlmc-opt %s --compress-prune-sparse="mode=nm n=4 m=4" 2>&1 | %FileCheck %s --check-prefix=BAD

// @w rows [0.1, -0.9, 0.3, 0.05] and [0.7, 0.2, -0.6, 0]: 2:4 keeps the two
// largest magnitudes of each group of four, in column order.

// CHECK: compress.sparse_weight @w : tensor<2x4xf32> {compress.float_bytes = 32 : i64, compress.relative_error = {{.+}} : f64} values = dense_resource<w.values> : tensor<4xf32> columns = dense_resource<w.columns> : tensor<4xi16> row_offsets = dense_resource<w.row_offsets> : tensor<3xi32>
// An f16 weight keeps f32 values (they are what the sparse product reads).
// CHECK: compress.sparse_weight @h : tensor<2x4xf32> {compress.float_bytes = 16 : i64
// CHECK-LABEL: func.func @f
// CHECK: compress.sparse_linear %{{.+}}, @w : tensor<1x4xf32> -> tensor<1x2xf32>
// Values -0.9, 0.3 | 0.7, -0.6 at columns 1, 2 | 0, 2; rows at 0, 2, 4.
// CHECK: w.values: "0x01000000666666BF9A99993E3333333F9A9919BF"
// CHECK: w.columns: "0x010000000100020000000200"
// CHECK: w.row_offsets: "0x01000000000000000200000004000000"

// 75% of the matrix goes: the two largest values stay, one per row.
// UNSTRUCTURED: values = dense_resource<w.values> : tensor<2xf32>

// Only stored values are visited: a loop over each row's offsets.
// LOWERED: linalg.generic {{.*}}tlmc.parallel_rows, tlmc.parallel_work = 4 : i64
// LOWERED: scf.for
// LOWERED: tensor.extract

// BAD: expected mode=unstructured with 0 < sparsity < 1, or mode=nm with 0 < n < m

module {
  tlm.weight @w : tensor<2x4xf32> = dense_resource<w> : tensor<2x4xf32>
  tlm.weight @h : tensor<2x4xf16> = dense_resource<h> : tensor<2x4xf16>
  func.func @f(%x: tensor<1x4xf32>) -> tensor<1x2xf32> {
    %w = tlm.weight_ref @w : tensor<2x4xf32>
    %y = tlm.linear %x, %w : tensor<1x4xf32>, tensor<2x4xf32> -> tensor<1x2xf32>
    return %y : tensor<1x2xf32>
  }
  func.func @g(%x: tensor<1x4xf32>) -> tensor<1x2xf32> {
    %h = tlm.weight_ref @h : tensor<2x4xf16>
    %y = tlm.linear %x, %h : tensor<1x4xf32>, tensor<2x4xf16> -> tensor<1x2xf32>
    return %y : tensor<1x2xf32>
  }
}

{-#
  dialect_resources: { builtin: { w: "0x04000000CDCCCC3D666666BF9A99993ECDCC4C3D3333333FCDCC4C3E9A9919BF00000000", h: "0x02000000662E33BBCD34662A9A396632CDB80000" } }
#-}
