// RUN: tlmc-opt %s --tlm-parallelize-rows=min-work=1024 --split-input-file --verify-diagnostics | %FileCheck %s

// Layer functions (tlm-share-layers) take (weights, arena, ..., ctx) too:
// their products become kernels of the same signature as the entry
// points', called through the same parallel-for.

#x = affine_map<(t, n, k) -> (t, k)>
#w = affine_map<(t, n, k) -> (n, k)>
#y = affine_map<(t, n, k) -> (t, n)>

// CHECK-LABEL: func.func private @layer0
// CHECK-SAME: (%[[W:.+]]: memref<8192xi8>, %[[A:.+]]: memref<1024xi8>, %{{.+}}: index, %[[CTX:.+]]: !llvm.ptr)
// CHECK: %[[K:.+]] = constant @layer0_rows0
// CHECK: call @tlmrt_parallel_for(%[[CTX]], %[[K]], %[[W]], %[[A]], %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}})
func.func private @layer0(%w: memref<8192xi8>, %arena: memref<1024xi8>, %layer: index, %ctx: !llvm.ptr) attributes {tlmc.layer = 0 : i64} {
  %c0 = arith.constant 0 : index
  %c256 = arith.constant 256 : index
  %x = memref.view %arena[%c0][] : memref<1024xi8> to memref<1x64xf32>
  %big = memref.view %w[%c0][] : memref<8192xi8> to memref<32x64xf32>
  %y = memref.view %arena[%c256][] : memref<1024xi8> to memref<1x32xf32>
  linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %big : memref<1x64xf32>, memref<32x64xf32>) outs(%y : memref<1x32xf32>) attrs = {tlmc.parallel_rows} {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  return
}
// CHECK-LABEL: func.func private @layer0_rows0
// CHECK-SAME: (%{{.+}}: memref<8192xi8>, %{{.+}}: memref<1024xi8>, %{{.+}}: index, %{{.+}}: index, %{{.+}}: index, %{{.+}}: index)

// -----

// A product large enough to thread that reads a buffer a kernel cannot
// rebuild (here an argument, not a planned view) stays inline, with a
// warning: the planned pipeline never makes one, so it is a lost thread.

#x = affine_map<(t, n, k) -> (t, k)>
#w = affine_map<(t, n, k) -> (n, k)>
#y = affine_map<(t, n, k) -> (t, n)>

// CHECK-LABEL: func.func private @layer0
// CHECK-NOT: tlmrt_parallel_for
// CHECK: linalg.generic
func.func private @layer0(%w: memref<8192xi8>, %arena: memref<1024xi8>, %x: memref<1x64xf32>, %ctx: !llvm.ptr) attributes {tlmc.layer = 0 : i64} {
  %c0 = arith.constant 0 : index
  %c256 = arith.constant 256 : index
  %big = memref.view %w[%c0][] : memref<8192xi8> to memref<32x64xf32>
  %y = memref.view %arena[%c256][] : memref<1024xi8> to memref<1x32xf32>
  // expected-warning @+1 {{tlm-parallelize-rows: a product of 2048 multiply-adds stays on one thread: it reads a buffer that is not a planned view}}
  linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %big : memref<1x64xf32>, memref<32x64xf32>) outs(%y : memref<1x32xf32>) attrs = {tlmc.parallel_rows} {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  return
}
