// RUN: tlmc-opt %s --convert-tlm-to-linalg -split-input-file | %FileCheck %s

// Packed int4 of an even width is read in the split-nibble layout
// (codegen/Target/SplitNibbles.h): per group of 32 features (with its zero
// point), whole chunks of 16 bytes whose low nibbles are features j and
// high nibbles j + 16, as vectors; the group's sum is scaled once. The last 8 features
// of a row of 40 are a short chunk: 4 bytes, features j and j + 4, in the
// last group (ragged, scale 1).
module {
  compress.quantized_weight @w : tensor<4x40xf32> {bits = 4 : i64, group_size = 32 : i64, symmetric = false} values = dense_resource<v> : tensor<4x20xi8> scales = dense_resource<s> : tensor<4x2xf32> zero_points = dense_resource<z> : tensor<4x2xi8>
  // CHECK-LABEL: func.func @f
  // CHECK-SAME: (%[[W:.+]]: memref<256xi8>, %[[X:.+]]: tensor<1x40xf32>)
  func.func @f(%x: tensor<1x40xf32>) -> tensor<1x4xf32> {
    // CHECK-DAG: %[[Q:.+]] = memref.view %[[W]][%{{.+}}][] : memref<256xi8> to memref<4x20xi8>
    // CHECK-DAG: %[[S:.+]] = memref.view %[[W]][%{{.+}}][] : memref<256xi8> to memref<4x2xf32>
    // CHECK-DAG: %[[Z:.+]] = memref.view %[[W]][%{{.+}}][] : memref<256xi8> to memref<4x2xi8>
    // CHECK: linalg.generic
    // CHECK-SAME: tlmc.parallel_rows, tlmc.parallel_work = 160 : i64
    // CHECK-DAG: %[[XB:.+]] = bufferization.to_buffer %[[X]] read_only
    // CHECK-DAG: %[[N:.+]] = linalg.index 1
    // CHECK: scf.for %[[G:.+]] = {{.*}} iter_args(%[[TOTAL:.+]] = %{{.+}}) -> (f32)
    // CHECK:   %[[ZP:.+]] = memref.load %[[Z]][%[[N]], %[[G]]] : memref<4x2xi8>
    // CHECK:   %[[ZI:.+]] = arith.extui %[[ZP]] : i8 to i32
    // CHECK:   %[[ZV:.+]] = vector.broadcast %[[ZI]] : i32 to vector<16xi32>
    // CHECK:   %[[SUMV:.+]] = scf.for {{.*}} iter_args(%[[VACC:.+]] = %{{.+}}) -> (vector<16xf32>)
    // CHECK:     %[[BYTES:.+]] = vector.load %[[Q]][%[[N]], %{{.+}}] : memref<4x20xi8>, vector<16xi8>
    // CHECK:     %[[B32:.+]] = arith.extui %[[BYTES]] : vector<16xi8> to vector<16xi32>
    // CHECK:     %[[LO:.+]] = arith.andi %[[B32]], %{{.+}} : vector<16xi32>
    // CHECK:     %[[LOZ:.+]] = arith.subi %[[LO]], %[[ZV]] : vector<16xi32>
    // CHECK:     %[[LOF:.+]] = arith.sitofp %[[LOZ]] : vector<16xi32> to vector<16xf32>
    // CHECK:     %[[HI:.+]] = arith.shrui %[[B32]], %{{.+}} : vector<16xi32>
    // CHECK:     %[[HIZ:.+]] = arith.subi %[[HI]], %[[ZV]] : vector<16xi32>
    // CHECK:     %[[HIF:.+]] = arith.sitofp %[[HIZ]] : vector<16xi32> to vector<16xf32>
    // CHECK:     %[[XLO:.+]] = vector.load %[[XB]][%{{.+}}, %[[AT:.+]]] : memref<1x40xf32>, vector<16xf32>
    // CHECK:     %[[AT16:.+]] = arith.addi %[[AT]], %{{.+}} : index
    // CHECK:     %[[XHI:.+]] = vector.load %[[XB]][%{{.+}}, %[[AT16]]] : memref<1x40xf32>, vector<16xf32>
    // CHECK:     %[[F1:.+]] = vector.fma %[[LOF]], %[[XLO]], %[[VACC]] : vector<16xf32>
    // CHECK:     vector.fma %[[HIF]], %[[XHI]], %[[F1]] : vector<16xf32>
    // CHECK:   vector.reduction <add>, %[[SUMV]] fastmath<reassoc> : vector<16xf32> into f32
    // CHECK:   %[[SCALE:.+]] = memref.load %[[S]][%[[N]], %[[G]]] : memref<4x2xf32>
    // CHECK:   arith.mulf %{{.+}}, %[[SCALE]] fastmath<reassoc,contract> : f32
    // The short chunk: 4 bytes from byte 16, in group 1.
    // CHECK: memref.load %[[Z]][%[[N]], %[[C1:.+]]] : memref<4x2xi8>
    // CHECK: scf.for %[[TJ:.+]] = %{{.+}} to %[[C4:.+]] step {{.*}} -> (f32)
    // CHECK:   memref.load %[[Q]][%[[N]], %{{.+}}] : memref<4x20xi8>
    // CHECK: memref.load %[[S]][%[[N]], %[[C1]]] : memref<4x2xf32>
    %y = compress.quantized_linear %x, @w : tensor<1x40xf32> -> tensor<1x4xf32>
    return %y : tensor<1x4xf32>
  }
}

// -----

// Packed int4 of an odd width stays in feature order and is dequantized in
// the reduction: values at k floordiv 2, scales at k floordiv group_size.
// CHECK-DAG: #[[$X:.+]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG: #[[$Q:.+]] = affine_map<(d0, d1, d2) -> (d1, d2 floordiv 2)>
// CHECK-DAG: #[[$S:.+]] = affine_map<(d0, d1, d2) -> (d1, d2 floordiv 32)>
// CHECK-DAG: #[[$Y:.+]] = affine_map<(d0, d1, d2) -> (d0, d1)>
module {
  compress.quantized_weight @wodd : tensor<4x39xf32> {bits = 4 : i64, group_size = 32 : i64, symmetric = true} values = dense_resource<v> : tensor<4x20xi8> scales = dense_resource<s> : tensor<4x2xf32>
  // CHECK-LABEL: func.func @odd
  func.func @odd(%x: tensor<1x39xf32>) -> tensor<1x4xf32> {
    // CHECK: linalg.generic {indexing_maps = [#[[$X]], #[[$Q]], #[[$S]], #[[$Y]]]
    // CHECK-SAME: tlmc.parallel_rows
    // CHECK: linalg.index 2
    // CHECK: arith.shrui
    // CHECK: arith.andi
    // CHECK: arith.subi
    // CHECK: arith.sitofp
    %y = compress.quantized_linear %x, @wodd : tensor<1x39xf32> -> tensor<1x4xf32>
    return %y : tensor<1x4xf32>
  }
}

// -----

// An int8 weight (one scale per row here: a group of all 40 features) is
// summed group by group in integers times inputs, and each group's sum is
// scaled once; the input is read as a buffer inside the body.
module {
  compress.quantized_weight @q8 : tensor<4x40xf32> {bits = 8 : i64, group_size = 40 : i64, symmetric = true} values = dense_resource<v8> : tensor<4x40xi8> scales = dense_resource<s8> : tensor<4x1xf32>
  // CHECK-LABEL: func.func @int8
  // CHECK-SAME: (%[[W8:.+]]: memref<{{[0-9]+}}xi8>, %[[X8:.+]]: tensor<1x40xf32>)
  func.func @int8(%x: tensor<1x40xf32>) -> tensor<1x4xf32> {
    // CHECK-DAG: %[[V8:.+]] = memref.view %[[W8]][%{{.+}}][] : memref<{{[0-9]+}}xi8> to memref<4x40xi8>
    // CHECK-DAG: %[[S8:.+]] = memref.view %[[W8]][%{{.+}}][] : memref<{{[0-9]+}}xi8> to memref<4x1xf32>
    // CHECK: linalg.generic
    // CHECK-SAME: tlmc.parallel_rows, tlmc.parallel_work = 160 : i64
    // CHECK-DAG: %[[XB8:.+]] = bufferization.to_buffer %[[X8]] read_only
    // CHECK-DAG: %[[N8:.+]] = linalg.index 1
    // CHECK: scf.for %[[G:.+]] = {{.*}} iter_args(%[[TOTAL:.+]] = %{{.+}}) -> (f32)
    // CHECK:   %[[SUM:.+]] = scf.for %[[K:.+]] = {{.*}} iter_args(%[[ACC:.+]] = %{{.+}}) -> (f32)
    // CHECK:     %[[Q:.+]] = memref.load %[[V8]][%[[N8]], %[[K]]] : memref<4x40xi8>
    // CHECK:     arith.extsi %[[Q]] : i8 to i32
    // CHECK:     arith.sitofp
    // CHECK:     memref.load %[[XB8]][%{{.+}}, %[[K]]] : memref<1x40xf32>
    // CHECK:     arith.mulf {{.*}} fastmath<reassoc,contract> : f32
    // CHECK:     arith.addf %[[ACC]], {{.*}} fastmath<reassoc,contract> : f32
    // CHECK:   %[[SCALE:.+]] = memref.load %[[S8]][%[[N8]], %[[G]]] : memref<4x1xf32>
    // CHECK:   %[[SCALED:.+]] = arith.mulf %[[SUM]], %[[SCALE]] fastmath<reassoc,contract> : f32
    // CHECK:   arith.addf %[[TOTAL]], %[[SCALED]] fastmath<reassoc,contract> : f32
    %y = compress.quantized_linear %x, @q8 : tensor<1x40xf32> -> tensor<1x4xf32>
    return %y : tensor<1x4xf32>
  }
}

// -----

// A quantized table (a GGUF Q4_0 token_embd, f16 scales) is looked up row
// by row: each feature's nibble in the split layout, minus 8, times its
// group's scale widened from f16.
module {
  compress.quantized_weight @embd : tensor<4x64xf32> {bits = 4 : i64, group_size = 32 : i64, symmetric = true} values = dense_resource<ev> : tensor<4x32xi8> scales = dense_resource<es> : tensor<4x2xf16>
  // CHECK-LABEL: func.func @lookup
  // CHECK-SAME: (%[[W:.+]]: memref<{{[0-9]+}}xi8>, %[[T:.+]]: tensor<2xi32>)
  func.func @lookup(%t: tensor<2xi32>) -> tensor<2x64xf32> {
    // CHECK-DAG: %[[V:.+]] = memref.view %[[W]][%{{.+}}][] : memref<{{[0-9]+}}xi8> to memref<4x32xi8>
    // CHECK-DAG: %[[S:.+]] = memref.view %[[W]][%{{.+}}][] : memref<{{[0-9]+}}xi8> to memref<4x2xf16>
    // CHECK: linalg.generic {{.*}} ins(%[[T]] : tensor<2xi32>)
    // CHECK: %[[ROW:.+]] = arith.index_cast
    // CHECK: tensor.extract %{{.+}}[%[[ROW]], %{{.+}}] : tensor<4x32xi8>
    // CHECK: arith.select
    // CHECK: arith.subi
    // CHECK: %[[SCALE:.+]] = tensor.extract %{{.+}}[%[[ROW]], %{{.+}}] : tensor<4x2xf16>
    // CHECK: arith.extf %[[SCALE]] : f16 to f32
    // CHECK: arith.mulf
    %y = compress.quantized_embedding %t, @embd : tensor<2xi32> -> tensor<2x64xf32>
    return %y : tensor<2x64xf32>
  }
}

// -----

// GGUF Q8_0 blocks are read where the file put them: per 32 features, the
// f16 scale from the block's first two bytes, then two 16-byte loads of
// int8 against 2 x 16 inputs, FMAs into two accumulators, one sum per row.
// The product is marked for the runtime's kernels (tlm-use-ukernels), its
// weight and input loads too.
module {
  compress.quantized_weight @q8b : tensor<4x64xf32> {bits = 8 : i64, group_size = 32 : i64, symmetric = true, ggml_blocks} values = dense_resource<b8> : tensor<272xi8>
  // CHECK-LABEL: func.func @q8blocks
  // CHECK-SAME: (%[[W:.+]]: memref<{{[0-9]+}}xi8>, %{{.+}}: tensor<1x64xf32>)
  func.func @q8blocks(%x: tensor<1x64xf32>) -> tensor<1x4xf32> {
    // CHECK: %[[B:.+]] = memref.view %[[W]][%{{.+}}][] : memref<{{[0-9]+}}xi8> to memref<272xi8>
    // CHECK: linalg.generic
    // CHECK-SAME: tlmc.parallel_rows
    // CHECK-SAME: tlmc.ukernel = "q8_0"
    // CHECK: scf.for {{.*}} -> (vector<16xf32>, vector<16xf32>)
    // CHECK:   vector.load %[[B]][%{{.+}}] {tlmc.ukernel_weights} : memref<272xi8>, vector<2xi8>
    // CHECK:   vector.bitcast %{{.+}} : vector<2xi8> to vector<1xf16>
    // CHECK:   vector.load %[[B]][%{{.+}}] : memref<272xi8>, vector<16xi8>
    // CHECK:   arith.extsi %{{.+}} : vector<16xi8> to vector<16xi32>
    // CHECK:   vector.load %{{.+}} {tlmc.ukernel_input} : memref<1x64xf32>, vector<16xf32>
    // CHECK:   vector.fma
    // CHECK:   vector.fma
    // CHECK: vector.reduction <add>
    %y = compress.quantized_linear %x, @q8b : tensor<1x64xf32> -> tensor<1x4xf32>
    return %y : tensor<1x4xf32>
  }
  // A Q4_0 table's rows: each value's nibble from its block, minus 8, times
  // the scale assembled from the block's first two bytes.
  compress.quantized_weight @q4b : tensor<4x64xf32> {bits = 4 : i64, group_size = 32 : i64, symmetric = true, ggml_blocks} values = dense_resource<b4> : tensor<144xi8>
  // CHECK-LABEL: func.func @q4lookup
  func.func @q4lookup(%t: tensor<2xi32>) -> tensor<2x64xf32> {
    // CHECK: linalg.generic
    // CHECK: arith.bitcast %{{.+}} : i16 to f16
    // CHECK: arith.select
    // CHECK: arith.subi
    // CHECK: arith.mulf
    %y = compress.quantized_embedding %t, @q4b : tensor<2xi32> -> tensor<2x64xf32>
    return %y : tensor<2x64xf32>
  }
}
