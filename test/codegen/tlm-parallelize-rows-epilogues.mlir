// RUN: tlmc-opt %s --tlm-parallelize-rows=min-work=1024 --split-input-file | %FileCheck %s

// A residual add right after a layer's product runs in the product's job:
// each range adds the features it just computed, 16 at a time, so the job
// is split at multiples of 16. The add reads the layer's input and its
// result is copied to the layer's output: both are arguments the callers
// pass as different arena views, so the call hands the kernel their byte
// offsets in the arena (%s0, %s1), and the add writes the output directly
// (the copy goes).

#x = affine_map<(t, n, k) -> (t, k)>
#w = affine_map<(t, n, k) -> (n, k)>
#y = affine_map<(t, n, k) -> (t, n)>
#e = affine_map<(t, n) -> (t, n)>

// CHECK-LABEL: func.func private @layer0
// CHECK-SAME: (%[[W:.+]]: memref<8192xi8>, %[[A:.+]]: memref<1024xi8>, %[[IN:.+]]: memref<1x32xf32>, %[[OUT:.+]]: memref<1x32xf32>, %[[CTX:.+]]: !llvm.ptr)
// CHECK: %[[BASE:.+]] = memref.extract_aligned_pointer_as_index %[[A]]
// CHECK: %[[INP:.+]] = memref.extract_aligned_pointer_as_index %[[IN]]
// CHECK: %[[INOFF:.+]] = arith.subi %[[INP]], %[[BASE]]
// CHECK: %[[OUTP:.+]] = memref.extract_aligned_pointer_as_index %[[OUT]]
// CHECK: %[[OUTOFF:.+]] = arith.subi %[[OUTP]], %[[BASE]]
// CHECK: %[[K:.+]] = constant @layer0_rows0
// CHECK: %[[N:.+]] = arith.constant 32 : index
// CHECK: %[[G:.+]] = arith.constant 16 : index
// CHECK: call @tlmrt_parallel_for(%[[CTX]], %[[K]], %[[W]], %[[A]], %[[N]], %[[G]], %[[INOFF]], %[[OUTOFF]])
// CHECK-NOT: linalg.generic
// CHECK-NOT: memref.copy
// CHECK: return
func.func private @layer0(%w: memref<8192xi8>, %arena: memref<1024xi8>, %in: memref<1x32xf32>, %out: memref<1x32xf32>, %ctx: !llvm.ptr) attributes {tlmc.layer = 0 : i64} {
  %c0 = arith.constant 0 : index
  %c256 = arith.constant 256 : index
  %c384 = arith.constant 384 : index
  %x = memref.view %arena[%c0][] : memref<1024xi8> to memref<1x64xf32>
  %wo = memref.view %w[%c0][] : memref<8192xi8> to memref<32x64xf32>
  %y = memref.view %arena[%c256][] : memref<1024xi8> to memref<1x32xf32>
  %sum = memref.view %arena[%c384][] : memref<1024xi8> to memref<1x32xf32>
  linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %wo : memref<1x64xf32>, memref<32x64xf32>) outs(%y : memref<1x32xf32>) attrs = {tlmc.parallel_rows} {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [#e, #e, #e], iterator_types = ["parallel", "parallel"]}
      ins(%in, %y : memref<1x32xf32>, memref<1x32xf32>) outs(%sum : memref<1x32xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %s = arith.addf %a, %b : f32
    linalg.yield %s : f32
  }
  memref.copy %sum, %out : memref<1x32xf32> to memref<1x32xf32>
  return
}
// The kernel: the product on [begin, end), then the add on the same
// features, its input and output rebuilt from the offsets.
// CHECK-LABEL: func.func private @layer0_rows0
// CHECK-SAME: (%{{.+}}: memref<8192xi8>, %[[KA:[a-z0-9_]+]]: memref<1024xi8>, %[[B:[a-z0-9_]+]]: index, %[[E:[a-z0-9_]+]]: index, %[[S0:[a-z0-9_]+]]: index, %[[S1:[a-z0-9_]+]]: index)
// CHECK: linalg.generic {{.*}} outs(%{{.+}} : memref<1x?xf32, strided<[32, 1], offset: ?>>)
// CHECK-DAG: %[[KIN:.+]] = memref.view %[[KA]][%[[S0]]][] : memref<1024xi8> to memref<1x32xf32>
// CHECK-DAG: %[[KOUT:.+]] = memref.view %[[KA]][%[[S1]]][] : memref<1024xi8> to memref<1x32xf32>
// CHECK: scf.for %[[C:.+]] = %[[B]] to %[[E]] step %{{.+}} {
// CHECK-DAG: memref.subview %[[KIN]][0, %[[C]]] [1, 16] [1, 1]
// CHECK-DAG: memref.subview %[[KOUT]][0, %[[C]]] [1, 16] [1, 1]
// CHECK: linalg.generic
// CHECK: arith.addf

func.func @m_decode(%w: memref<8192xi8>, %arena: memref<1024xi8>, %tokens: memref<1xi32>, %pos: index, %logits: memref<1x4xf32>, %ctx: !llvm.ptr) {
  %c512 = arith.constant 512 : index
  %c640 = arith.constant 640 : index
  %c768 = arith.constant 768 : index
  %a = memref.view %arena[%c512][] : memref<1024xi8> to memref<1x32xf32>
  %b = memref.view %arena[%c640][] : memref<1024xi8> to memref<1x32xf32>
  %c = memref.view %arena[%c768][] : memref<1024xi8> to memref<1x32xf32>
  call @layer0(%w, %arena, %a, %b, %ctx) : (memref<8192xi8>, memref<1024xi8>, memref<1x32xf32>, memref<1x32xf32>, !llvm.ptr) -> ()
  call @layer0(%w, %arena, %b, %c, %ctx) : (memref<8192xi8>, memref<1024xi8>, memref<1x32xf32>, memref<1x32xf32>, !llvm.ptr) -> ()
  return
}

// -----

// SwiGLU after gate and up (one job: they read the same input) reads both
// outputs: the job runs over their 32 common features, each range
// computing its part of gate, then of up, then of SwiGLU (in place in
// gate's output), so a thread reads only what it wrote.

#x = affine_map<(t, n, k) -> (t, k)>
#w = affine_map<(t, n, k) -> (n, k)>
#y = affine_map<(t, n, k) -> (t, n)>
#e = affine_map<(t, n) -> (t, n)>

// CHECK-LABEL: func.func @m_decode
// CHECK: %[[K:.+]] = constant @m_decode_rows0
// CHECK: %[[N:.+]] = arith.constant 32 : index
// CHECK: %[[G:.+]] = arith.constant 16 : index
// CHECK: call @tlmrt_parallel_for(%{{.+}}, %[[K]], %{{.+}}, %{{.+}}, %[[N]], %[[G]],
// CHECK-NOT: linalg.generic
// CHECK: return
// CHECK-LABEL: func.func private @m_decode_rows0
// CHECK-SAME: (%{{.+}}: memref<8192xi8>, %{{.+}}: memref<1024xi8>, %[[B:[a-z0-9_]+]]: index, %[[E:[a-z0-9_]+]]: index,
// CHECK: %[[COUNT:.+]] = arith.subi %[[E]], %[[B]]
// CHECK: memref.subview %{{.+}}[%[[B]], 0] [%[[COUNT]], 64] [1, 1] : memref<32x64xf32>
// CHECK: linalg.generic
// CHECK: memref.subview %{{.+}}[%[[B]], 0] [%[[COUNT]], 64] [1, 1] : memref<32x64xf32>
// CHECK: linalg.generic
// CHECK-NOT: scf.if
// CHECK: scf.for %{{.+}} = %[[B]] to %[[E]] step
// CHECK: math.exp
func.func @m_decode(%w: memref<8192xi8>, %arena: memref<1024xi8>,
                    %tokens: memref<1xi32>, %pos: index,
                    %logits: memref<1x4xf32>, %ctx: !llvm.ptr) {
  %c0 = arith.constant 0 : index
  %c256 = arith.constant 256 : index
  %c384 = arith.constant 384 : index
  %c4096 = arith.constant 4096 : index
  %one = arith.constant 1.0 : f32
  %x = memref.view %arena[%c0][] : memref<1024xi8> to memref<1x64xf32>
  %wg = memref.view %w[%c0][] : memref<8192xi8> to memref<32x64xf32>
  %wu = memref.view %w[%c4096][] : memref<8192xi8> to memref<32x64xf32>
  %g = memref.view %arena[%c256][] : memref<1024xi8> to memref<1x32xf32>
  %u = memref.view %arena[%c384][] : memref<1024xi8> to memref<1x32xf32>
  linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %wg : memref<1x64xf32>, memref<32x64xf32>) outs(%g : memref<1x32xf32>) attrs = {tlmc.parallel_rows} {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %wu : memref<1x64xf32>, memref<32x64xf32>) outs(%u : memref<1x32xf32>) attrs = {tlmc.parallel_rows} {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [#e, #e, #e], iterator_types = ["parallel", "parallel"]}
      ins(%u, %g : memref<1x32xf32>, memref<1x32xf32>) outs(%g : memref<1x32xf32>) {
  ^bb0(%up: f32, %gate: f32, %o: f32):
    %n = arith.negf %gate : f32
    %e = math.exp %n : f32
    %d = arith.addf %e, %one : f32
    %silu = arith.divf %gate, %d : f32
    %h = arith.mulf %silu, %up : f32
    linalg.yield %h : f32
  }
  return
}

// -----

// An elementwise op after a product that writes the buffer the product
// reads (its input, in place) is no epilogue: a range would overwrite
// inputs another thread's range still reads. It stays after the job.

#x = affine_map<(t, n, k) -> (t, k)>
#w = affine_map<(t, n, k) -> (n, k)>
#y = affine_map<(t, n, k) -> (t, n)>
#e = affine_map<(t, n) -> (t, n)>

// CHECK-LABEL: func.func @m_decode
// CHECK: call @tlmrt_parallel_for(%{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %[[G:.+]],
// CHECK: linalg.generic
// CHECK: return
// CHECK-LABEL: func.func private @m_decode_rows0
// CHECK-NOT: scf.for
// CHECK: return
func.func @m_decode(%w: memref<8192xi8>, %arena: memref<1024xi8>,
                    %tokens: memref<1xi32>, %pos: index,
                    %logits: memref<1x4xf32>, %ctx: !llvm.ptr) {
  %c0 = arith.constant 0 : index
  %c256 = arith.constant 256 : index
  %x = memref.view %arena[%c0][] : memref<1024xi8> to memref<1x32xf32>
  %wq = memref.view %w[%c0][] : memref<8192xi8> to memref<32x32xf32>
  %y = memref.view %arena[%c256][] : memref<1024xi8> to memref<1x32xf32>
  linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %wq : memref<1x32xf32>, memref<32x32xf32>) outs(%y : memref<1x32xf32>) attrs = {tlmc.parallel_rows} {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [#e, #e, #e], iterator_types = ["parallel", "parallel"]}
      ins(%x, %y : memref<1x32xf32>, memref<1x32xf32>) outs(%x : memref<1x32xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %s = arith.addf %a, %b : f32
    linalg.yield %s : f32
  }
  return
}
