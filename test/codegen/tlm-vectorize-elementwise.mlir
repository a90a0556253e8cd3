// RUN: tlmc-opt %s --pass-pipeline='builtin.module(func.func(tlm-vectorize-elementwise))' | %FileCheck %s

// A norm's scaling (an element, a per-column weight, a per-row scalar)
// becomes a loop over rows around a loop over 16-column vectors running the
// same ops; what depends only on the row (the scalar and arith on it) is
// computed once per row before the columns loop and broadcast; a row width
// that is not a multiple of 16 keeps its generic.

#id = affine_map<(r, c) -> (r, c)>
#col = affine_map<(r, c) -> (c)>
#row = affine_map<(r, c) -> (r)>

// CHECK-LABEL: func.func @scale
// CHECK-SAME: (%[[X:.+]]: memref<2x32xf32>, %[[W:.+]]: memref<32xf32>, %[[S:.+]]: memref<2xf32>, %[[Y:.+]]: memref<2x32xf32>)
// CHECK: %[[TWO:.+]] = arith.constant 2.000000e+00 : f32
// CHECK: scf.for %[[R:.+]] = %{{.+}} to %{{.+}} step %{{.+}} {
// CHECK:   %[[SS:.+]] = memref.load %[[S]][%[[R]]] : memref<2xf32>
// CHECK:   %[[D:.+]] = arith.divf %[[SS]], %[[TWO]] : f32
// CHECK:   %[[DV:.+]] = vector.broadcast %[[D]] : f32 to vector<16xf32>
// CHECK:   scf.for %[[C:.+]] = %{{.+}} to %{{.+}} step %[[C16:.+]] {
// CHECK:     %[[XV:.+]] = vector.load %[[X]][%[[R]], %[[C]]] : memref<2x32xf32>, vector<16xf32>
// CHECK:     %[[WV:.+]] = vector.load %[[W]][%[[C]]] : memref<32xf32>, vector<16xf32>
// CHECK:     %[[M:.+]] = arith.mulf %[[XV]], %[[DV]] : vector<16xf32>
// CHECK:     %[[P:.+]] = arith.mulf %[[WV]], %[[M]] : vector<16xf32>
// CHECK:     vector.store %[[P]], %[[Y]][%[[R]], %[[C]]] : memref<2x32xf32>, vector<16xf32>
// CHECK-NOT: linalg.generic
func.func @scale(%x: memref<2x32xf32>, %w: memref<32xf32>, %s: memref<2xf32>, %y: memref<2x32xf32>) {
  %two = arith.constant 2.0 : f32
  linalg.generic {indexing_maps = [#id, #col, #row, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x, %w, %s : memref<2x32xf32>, memref<32xf32>, memref<2xf32>) outs(%y : memref<2x32xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32, %o: f32):
    %d = arith.divf %c, %two : f32
    %m = arith.mulf %a, %d : f32
    %p = arith.mulf %b, %m : f32
    linalg.yield %p : f32
  }
  return
}

// CHECK-LABEL: func.func @ragged
// CHECK: linalg.generic
func.func @ragged(%x: memref<2x20xf32>, %y: memref<2x20xf32>) {
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x : memref<2x20xf32>) outs(%y : memref<2x20xf32>) {
  ^bb0(%a: f32, %o: f32):
    %n = arith.negf %a : f32
    linalg.yield %n : f32
  }
  return
}
