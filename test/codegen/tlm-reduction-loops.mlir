// RUN: tlmc-opt %s --pass-pipeline='builtin.module(func.func(tlm-reduction-loops))' | %FileCheck %s

#x = affine_map<(t, n, k) -> (t, k)>
#w = affine_map<(t, n, k) -> (n, k)>
#y = affine_map<(t, n, k) -> (t, n)>

// A product: the sum over k is carried in a register (iter_args) between one
// load and one store of y[t, n], and the fast-math flags survive.
// CHECK-LABEL: func.func @product
// CHECK-SAME: (%[[X:.+]]: memref<2x8xf32>, %[[W:.+]]: memref<4x8xf32>, %[[Y:.+]]: memref<2x4xf32>)
// CHECK: scf.for %[[T:.+]] = %{{.+}} to %{{.+}} step
// CHECK: scf.for %[[N:.+]] = %{{.+}} to %{{.+}} step
// CHECK: %[[INIT:.+]] = memref.load %[[Y]][%{{.+}}, %{{.+}}] : memref<2x4xf32>
// CHECK: %[[SUM:.+]] = scf.for %[[K:.+]] = %{{.+}} to %{{.+}} step %{{.+}} iter_args(%[[ACC:.+]] = %[[INIT]]) -> (f32) {
// CHECK:   %[[XV:.+]] = memref.load %[[X]]
// CHECK:   %[[WV:.+]] = memref.load %[[W]]
// CHECK:   %[[P:.+]] = arith.mulf %[[XV]], %[[WV]] fastmath<reassoc,contract> : f32
// CHECK:   %[[S:.+]] = arith.addf %[[ACC]], %[[P]] fastmath<reassoc,contract> : f32
// CHECK:   scf.yield %[[S]] : f32
// CHECK: memref.store %[[SUM]], %[[Y]][%{{.+}}, %{{.+}}] : memref<2x4xf32>
// CHECK-NOT: linalg.generic
func.func @product(%x: memref<2x8xf32>, %w: memref<4x8xf32>, %y: memref<2x4xf32>) {
  linalg.generic {indexing_maps = [#x, #w, #y],
                  iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : memref<2x8xf32>, memref<4x8xf32>) outs(%y : memref<2x4xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %p = arith.mulf %a, %b fastmath<reassoc,contract> : f32
    %s = arith.addf %acc, %p fastmath<reassoc,contract> : f32
    linalg.yield %s : f32
  }
  return
}

// linalg.index reads the loop's induction variable; a map with floordiv
// (packed int4: two values per byte) becomes an affine.apply.
// CHECK-LABEL: func.func @indexed
// CHECK: scf.for %[[K:.+]] = {{.*}} iter_args
// CHECK: affine.apply #{{.+}}(%{{.+}}, %{{.+}}, %[[K]])
// CHECK: arith.index_cast %[[K]] : index to i32
func.func @indexed(%x: memref<1x8xf32>, %w: memref<4x4xi8>, %y: memref<1x4xf32>) {
  linalg.generic {indexing_maps = [affine_map<(t, n, k) -> (t, k)>,
                                   affine_map<(t, n, k) -> (n, k floordiv 2)>,
                                   affine_map<(t, n, k) -> (t, n)>],
                  iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : memref<1x8xf32>, memref<4x4xi8>) outs(%y : memref<1x4xf32>) {
  ^bb0(%a: f32, %b: i8, %acc: f32):
    %k = linalg.index 2 : index
    %ki = arith.index_cast %k : index to i32
    %bi = arith.extsi %b : i8 to i32
    %v = arith.addi %bi, %ki : i32
    %f = arith.sitofp %v : i32 to f32
    %p = arith.mulf %a, %f : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// Elementwise ops are left to the generic lowering.
// CHECK-LABEL: func.func @elementwise
// CHECK: linalg.generic
func.func @elementwise(%x: memref<8xf32>, %y: memref<8xf32>) {
  linalg.generic {indexing_maps = [affine_map<(i) -> (i)>, affine_map<(i) -> (i)>],
                  iterator_types = ["parallel"]}
      ins(%x : memref<8xf32>) outs(%y : memref<8xf32>) {
  ^bb0(%a: f32, %b: f32):
    linalg.yield %a : f32
  }
  return
}

// A reduction whose output depends on the reduced dimension is not a
// register sum: left alone.
// CHECK-LABEL: func.func @not_a_sum
// CHECK: linalg.generic
func.func @not_a_sum(%x: memref<4x8xf32>, %y: memref<4x8xf32>) {
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>],
                  iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<4x8xf32>) outs(%y : memref<4x8xf32>) {
  ^bb0(%a: f32, %b: f32):
    %s = arith.addf %a, %b : f32
    linalg.yield %s : f32
  }
  return
}
