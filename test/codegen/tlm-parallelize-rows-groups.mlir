// RUN: tlmc-opt %s --tlm-parallelize-rows=min-work=1024 --split-input-file | %FileCheck %s

// Products that read the same input (a layer's q, k and v) become one
// kernel over their output features one after another (32 + 16 + 16), run
// where the last of them was; the zero-fill and copy between them touch
// only their own outputs' initial values, which the later products do not
// read, so the first product may wait for them. Each product computes the
// part of [begin, end) that falls in its own features.

#x = affine_map<(t, n, k) -> (t, k)>
#w = affine_map<(t, n, k) -> (n, k)>
#y = affine_map<(t, n, k) -> (t, n)>

// CHECK-LABEL: func.func @m_decode
// CHECK: linalg.fill
// CHECK-NEXT: memref.copy
// CHECK-NEXT: %[[K:.+]] = constant @m_decode_rows0
// CHECK-NEXT: %[[N:.+]] = arith.constant 64 : index
// CHECK: call @tlmrt_parallel_for(%{{.+}}, %[[K]], %{{.+}}, %{{.+}}, %[[N]],
// CHECK-NOT: linalg.generic
// CHECK: return
func.func @m_decode(%w: memref<8192xi8>, %arena: memref<2048xi8>,
                    %tokens: memref<1xi32>, %pos: index,
                    %logits: memref<1x4xf32>, %ctx: !llvm.ptr) {
  %c0 = arith.constant 0 : index
  %c256 = arith.constant 256 : index
  %c384 = arith.constant 384 : index
  %c448 = arith.constant 448 : index
  %c4096 = arith.constant 4096 : index
  %c6144 = arith.constant 6144 : index
  %zero = arith.constant 0.0 : f32
  %x = memref.view %arena[%c0][] : memref<2048xi8> to memref<1x64xf32>
  %wq = memref.view %w[%c0][] : memref<8192xi8> to memref<32x64xf32>
  %wk = memref.view %w[%c4096][] : memref<8192xi8> to memref<16x64xf32>
  %wv = memref.view %w[%c6144][] : memref<8192xi8> to memref<16x64xf32>
  %q = memref.view %arena[%c256][] : memref<2048xi8> to memref<1x32xf32>
  %k = memref.view %arena[%c384][] : memref<2048xi8> to memref<1x16xf32>
  %v = memref.view %arena[%c448][] : memref<2048xi8> to memref<1x16xf32>
  linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %wq : memref<1x64xf32>, memref<32x64xf32>) outs(%q : memref<1x32xf32>) attrs = {tlmc.parallel_rows} {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  linalg.fill ins(%zero : f32) outs(%v : memref<1x16xf32>)
  memref.copy %v, %k : memref<1x16xf32> to memref<1x16xf32>
  linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %wk : memref<1x64xf32>, memref<16x64xf32>) outs(%k : memref<1x16xf32>) attrs = {tlmc.parallel_rows} {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %wv : memref<1x64xf32>, memref<16x64xf32>) outs(%v : memref<1x16xf32>) attrs = {tlmc.parallel_rows} {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  return
}

// The kernel: product i gets [max(begin, first_i), min(end, first_i + n_i))
// shifted to its own features, when not empty.
// CHECK-LABEL: func.func private @m_decode_rows0
// CHECK-SAME: (%{{.+}}: memref<8192xi8>, %{{.+}}: memref<2048xi8>, %[[B:.+]]: index, %[[E:.+]]: index, %{{.+}}: index, %{{.+}}: index)
// CHECK: %[[LO0:.+]] = arith.maxsi %[[B]], %{{.+}}
// CHECK: %[[HI0:.+]] = arith.minsi %[[E]], %{{.+}}
// CHECK: %[[SOME0:.+]] = arith.cmpi slt, %[[LO0]], %[[HI0]]
// CHECK: scf.if %[[SOME0]] {
// CHECK: linalg.generic {{.*}} outs(%{{.+}} : memref<1x?xf32, strided<[32, 1], offset: ?>>)
// CHECK: %[[C32:.+]] = arith.constant 32 : index
// CHECK: %[[LO1:.+]] = arith.maxsi %[[B]], %[[C32]]
// CHECK: %[[HI1:.+]] = arith.minsi %[[E]], %{{.+}}
// CHECK: scf.if
// CHECK: %[[OWN1:.+]] = arith.subi %[[LO1]], %{{.+}}
// CHECK: %[[COUNT1:.+]] = arith.subi %[[HI1]], %[[LO1]]
// CHECK: memref.subview %{{.+}}[%[[OWN1]], 0] [%[[COUNT1]], 64] [1, 1] : memref<16x64xf32>
// CHECK: linalg.generic {{.*}} outs(%{{.+}} : memref<1x?xf32, strided<[16, 1], offset: ?>>)
// CHECK: arith.constant 48 : index
// CHECK: scf.if
// CHECK: linalg.generic {{.*}} outs(%{{.+}} : memref<1x?xf32, strided<[16, 1], offset: ?>>)

// -----

// Between two products of one input, an op reads the first's output and
// writes the second's initial value: the first cannot wait for the second,
// so each gets its own kernel. The op, elementwise on q, runs in q's job as
// its epilogue (tlm-parallelize-rows-epilogues.mlir), 16 features at a
// time, before k's job starts.

#x = affine_map<(t, n, k) -> (t, k)>
#w = affine_map<(t, n, k) -> (n, k)>
#y = affine_map<(t, n, k) -> (t, n)>
#e = affine_map<(t, n) -> (t, n)>

// CHECK-LABEL: func.func @m_decode
// CHECK: %[[Q:.+]] = constant @m_decode_rows0
// CHECK: call @tlmrt_parallel_for(%{{.+}}, %[[Q]],
// CHECK-NOT: linalg.generic
// CHECK: %[[K:.+]] = constant @m_decode_rows1
// CHECK: call @tlmrt_parallel_for(%{{.+}}, %[[K]],
// CHECK-LABEL: func.func private @m_decode_rows1
// CHECK-LABEL: func.func private @m_decode_rows0
// CHECK: linalg.generic {{.*}} outs(%{{.+}} : memref<1x?xf32
// CHECK: scf.for %{{.+}} = %{{.+}} to %{{.+}} step %c16
// CHECK: linalg.generic {{.*}} ins(%{{.+}} : memref<1x16xf32, strided<[32, 1], offset: ?>>) outs(%{{.+}} : memref<1x16xf32, strided<[32, 1], offset: ?>>)
func.func @m_decode(%w: memref<8192xi8>, %arena: memref<2048xi8>,
                    %tokens: memref<1xi32>, %pos: index,
                    %logits: memref<1x4xf32>, %ctx: !llvm.ptr) {
  %c0 = arith.constant 0 : index
  %c256 = arith.constant 256 : index
  %c384 = arith.constant 384 : index
  %c4096 = arith.constant 4096 : index
  %x = memref.view %arena[%c0][] : memref<2048xi8> to memref<1x64xf32>
  %wq = memref.view %w[%c0][] : memref<8192xi8> to memref<32x64xf32>
  %wk = memref.view %w[%c4096][] : memref<8192xi8> to memref<32x64xf32>
  %q = memref.view %arena[%c256][] : memref<2048xi8> to memref<1x32xf32>
  %k = memref.view %arena[%c384][] : memref<2048xi8> to memref<1x32xf32>
  linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %wq : memref<1x64xf32>, memref<32x64xf32>) outs(%q : memref<1x32xf32>) attrs = {tlmc.parallel_rows} {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [#e, #e], iterator_types = ["parallel", "parallel"]}
      ins(%q : memref<1x32xf32>) outs(%k : memref<1x32xf32>) {
  ^bb0(%a: f32, %b: f32):
    linalg.yield %a : f32
  }
  linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %wk : memref<1x64xf32>, memref<32x64xf32>) outs(%k : memref<1x32xf32>) attrs = {tlmc.parallel_rows} {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// GGUF block products read their weights and activations in the body (no
// inputs): they join by the activations they load. Between them an op
// writes that activation buffer, so they may not share a job: each gets
// its own kernel, and the write stays between them.

#y = affine_map<(t, n) -> (t, n)>

// CHECK-LABEL: func.func @m_decode
// CHECK: call @tlmrt_parallel_for
// CHECK: linalg.fill
// CHECK: call @tlmrt_parallel_for
// CHECK-LABEL: func.func private @m_decode_rows1
// CHECK-LABEL: func.func private @m_decode_rows0
func.func @m_decode(%w: memref<8192xi8>, %arena: memref<2048xi8>,
                    %tokens: memref<1xi32>, %pos: index,
                    %logits: memref<1x4xf32>, %ctx: !llvm.ptr) {
  %c0 = arith.constant 0 : index
  %c256 = arith.constant 256 : index
  %c384 = arith.constant 384 : index
  %one = arith.constant 1.0 : f32
  %x = memref.view %arena[%c0][] : memref<2048xi8> to memref<1x64xf32>
  %wq = memref.view %w[%c0][] : memref<8192xi8> to memref<32x64xf32>
  %q = memref.view %arena[%c256][] : memref<2048xi8> to memref<1x32xf32>
  %k = memref.view %arena[%c384][] : memref<2048xi8> to memref<1x32xf32>
  linalg.generic {indexing_maps = [#y], iterator_types = ["parallel", "parallel"]}
      outs(%q : memref<1x32xf32>) attrs = {tlmc.parallel_rows, tlmc.parallel_work = 2048 : i64} {
  ^bb0(%acc: f32):
    %n = linalg.index 1 : index
    %a = memref.load %x[%c0, %n] : memref<1x64xf32>
    %b = memref.load %wq[%n, %c0] : memref<32x64xf32>
    %m = arith.mulf %a, %b : f32
    linalg.yield %m : f32
  }
  linalg.fill ins(%one : f32) outs(%x : memref<1x64xf32>)
  linalg.generic {indexing_maps = [#y], iterator_types = ["parallel", "parallel"]}
      outs(%k : memref<1x32xf32>) attrs = {tlmc.parallel_rows, tlmc.parallel_work = 2048 : i64} {
  ^bb0(%acc: f32):
    %n = linalg.index 1 : index
    %a = memref.load %x[%c0, %n] : memref<1x64xf32>
    %b = memref.load %wq[%n, %c0] : memref<32x64xf32>
    %m = arith.mulf %a, %b : f32
    linalg.yield %m : f32
  }
  return
}

// -----

// The same two block products with nothing between them share one kernel.

#y = affine_map<(t, n) -> (t, n)>

// CHECK-LABEL: func.func @m_decode
// CHECK: %[[N:.+]] = arith.constant 64 : index
// CHECK: call @tlmrt_parallel_for(%{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %[[N]],
// CHECK-NOT: call @tlmrt_parallel_for
// CHECK-LABEL: func.func private @m_decode_rows0
// CHECK: scf.if
// CHECK: scf.if
// CHECK-NOT: func.func private @m_decode_rows1
func.func @m_decode(%w: memref<8192xi8>, %arena: memref<2048xi8>,
                    %tokens: memref<1xi32>, %pos: index,
                    %logits: memref<1x4xf32>, %ctx: !llvm.ptr) {
  %c0 = arith.constant 0 : index
  %c256 = arith.constant 256 : index
  %c384 = arith.constant 384 : index
  %x = memref.view %arena[%c0][] : memref<2048xi8> to memref<1x64xf32>
  %wq = memref.view %w[%c0][] : memref<8192xi8> to memref<32x64xf32>
  %q = memref.view %arena[%c256][] : memref<2048xi8> to memref<1x32xf32>
  %k = memref.view %arena[%c384][] : memref<2048xi8> to memref<1x32xf32>
  linalg.generic {indexing_maps = [#y], iterator_types = ["parallel", "parallel"]}
      outs(%q : memref<1x32xf32>) attrs = {tlmc.parallel_rows, tlmc.parallel_work = 2048 : i64} {
  ^bb0(%acc: f32):
    %n = linalg.index 1 : index
    %a = memref.load %x[%c0, %n] : memref<1x64xf32>
    %b = memref.load %wq[%n, %c0] : memref<32x64xf32>
    %m = arith.mulf %a, %b : f32
    linalg.yield %m : f32
  }
  linalg.generic {indexing_maps = [#y], iterator_types = ["parallel", "parallel"]}
      outs(%k : memref<1x32xf32>) attrs = {tlmc.parallel_rows, tlmc.parallel_work = 2048 : i64} {
  ^bb0(%acc: f32):
    %n = linalg.index 1 : index
    %a = memref.load %x[%c0, %n] : memref<1x64xf32>
    %b = memref.load %wq[%n, %c0] : memref<32x64xf32>
    %m = arith.mulf %a, %b : f32
    linalg.yield %m : f32
  }
  return
}
