// RUN: tlmc-opt %s --convert-tlm-to-linalg=sparse-blocks=1 | %FileCheck %s
// RUN: tlmc-opt %s --convert-tlm-to-linalg | %FileCheck %s --check-prefix=CSR

// With sparse-blocks, a sparse weight whose rows hold at most 16 values in
// every block of 32 input features is stored as blocks (values and in-block
// indices, 16 per block, zero padded) and multiplied by the AVX-512 permute
// kernel: the 40 features of @w make one full block and a tail of 8, whose
// inputs are read through a mask. @dense has a block of 20 values: it stays
// CSR. Without the option, both are CSR.

// CHECK-LABEL: func.func @blocks
// CHECK-SAME: (%[[W:.+]]: memref<{{[0-9]+}}xi8>, %[[X:.+]]: tensor<1x40xf32>)
// CHECK-DAG: %[[VALUES:.+]] = memref.view %[[W]][%{{.+}}][] : memref<{{[0-9]+}}xi8> to memref<4x32xf32>
// CHECK-DAG: %[[INDICES:.+]] = memref.view %[[W]][%{{.+}}][] : memref<{{[0-9]+}}xi8> to memref<4x32xi8>
// CHECK: linalg.generic {indexing_maps = [#{{.+}}], iterator_types = ["parallel", "parallel"]} outs(
// CHECK-SAME: tlmc.parallel_rows, tlmc.parallel_work = 80 : i64
// CHECK-DAG: %[[XB:.+]] = bufferization.to_buffer %[[X]] read_only
// CHECK-DAG: %[[N:.+]] = linalg.index 1
// CHECK: scf.for {{.*}} iter_args(%[[ACC:.+]] = %{{.+}}) -> (vector<16xf32>)
// CHECK:   vector.load %[[XB]][%{{.+}}, %{{.+}}] : memref<1x40xf32>, vector<16xf32>
// CHECK:   vector.load %[[XB]][%{{.+}}, %{{.+}}] : memref<1x40xf32>, vector<16xf32>
// CHECK:   %[[V:.+]] = vector.load %[[VALUES]][%[[N]], %{{.+}}] : memref<4x32xf32>, vector<16xf32>
// CHECK:   %[[I:.+]] = vector.load %[[INDICES]][%[[N]], %{{.+}}] : memref<4x32xi8>, vector<16xi8>
// CHECK:   %[[I32:.+]] = arith.extui %[[I]] : vector<16xi8> to vector<16xi32>
// CHECK:   %[[P:.+]] = llvm.call_intrinsic "llvm.x86.avx512.vpermi2var.ps.512"(%{{.+}}, %[[I32]], %{{.+}})
// CHECK:   vector.fma %[[V]], %[[P]], %[[ACC]] : vector<16xf32>
// The tail block: 8 inputs through a mask, the upper 16 are zeros.
// CHECK: %[[MASK:.+]] = vector.constant_mask [8] : vector<16xi1>
// CHECK: vector.maskedload %[[XB]][%{{.+}}, %{{.+}}], %[[MASK]], %[[ZERO:.+]] :
// CHECK: llvm.call_intrinsic "llvm.x86.avx512.vpermi2var.ps.512"(%{{.+}}, %{{.+}}, %[[ZERO]])
// CHECK: vector.reduction <add>, %{{.+}} fastmath<reassoc> : vector<16xf32> into f32

// CHECK-LABEL: func.func @dense
// CHECK-NOT: llvm.call_intrinsic
// CHECK: memref.view {{.*}} to memref<2xi32>
// CHECK: scf.for {{.*}} iter_args({{.*}}) -> (f32)

// CSR-LABEL: func.func @blocks
// CSR-NOT: llvm.call_intrinsic
// CSR: memref.view {{.*}} to memref<80xf32>
// CSR: memref.view {{.*}} to memref<80xi16>
// CSR-LABEL: func.func @dense

module {
  compress.sparse_weight @w : tensor<4x40xf32> values = dense_resource<v> : tensor<80xf32> columns = dense_resource<c> : tensor<80xi16> row_offsets = dense_resource<o> : tensor<5xi32>
  compress.sparse_weight @d : tensor<2x32xf32> values = dense_resource<v2> : tensor<24xf32> columns = dense_resource<c2> : tensor<24xi16> row_offsets = dense_resource<o2> : tensor<3xi32>
  func.func @blocks(%x: tensor<1x40xf32>) -> tensor<1x4xf32> {
    %y = compress.sparse_linear %x, @w : tensor<1x40xf32> -> tensor<1x4xf32>
    return %y : tensor<1x4xf32>
  }
  func.func @dense(%x: tensor<1x32xf32>) -> tensor<1x2xf32> {
    %y = compress.sparse_linear %x, @d : tensor<1x32xf32> -> tensor<1x2xf32>
    return %y : tensor<1x2xf32>
  }
}

{-#
  dialect_resources: { builtin: { v: "0x040000000000803F0000004000004040000080400000A0400000C0400000E0400000004100001041000020410000304100004041000050410000604100007041000080410000884100009041000098410000A0410000A8410000B0410000B8410000C0410000C8410000D0410000D8410000E0410000E8410000F0410000F84100000042000004420000084200000C4200001042000014420000184200001C4200002042000024420000284200002C4200003042000034420000384200003C4200004042000044420000484200004C4200005042000054420000584200005C4200006042000064420000684200006C4200007042000074420000784200007C42000080420000824200008442000086420000884200008A4200008C4200008E42000090420000924200009442000096420000984200009A4200009C4200009E420000A042", c: "0x04000000000002000400060008000A000C000E00100012001400160018001A001C001E002000220024002600010003000500070009000B000D000F00110013001500170019001B001D001F002100230025002700000002000400060008000A000C000E00100012001400160018001A001C001E002000220024002600010003000500070009000B000D000F00110013001500170019001B001D001F002100230025002700", o: "0x040000000000000014000000280000003C00000050000000", v2: "0x040000000000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F", c2: "0x0400000000000100020003000400050006000700080009000A000B000C000D000E000F0010001100120013000000010002000300", o2: "0x04000000000000001400000018000000" } }
#-}
