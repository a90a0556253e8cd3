// RUN: tlmc-opt %s --tlm-parallelize-rows --split-input-file --verify-diagnostics | %FileCheck %s

// A loop marked tlmc.parallel_loop (attention's heads) becomes a kernel over
// a range of its iterations. The layer's cache argument, which its one
// caller passes as the arena view at 512, is rebuilt as that view; the
// position and the layer index are handed over as the kernel's scalars
// (in the order the body first reads them).

// CHECK-LABEL: func.func @m_decode
// CHECK: call @layer0
func.func @m_decode(%w: memref<8192xi8>, %arena: memref<4096xi8>,
                    %tokens: memref<1xi32>, %pos: index,
                    %logits: memref<1x4xf32>, %ctx: !llvm.ptr) {
  %c512 = arith.constant 512 : index
  %c1 = arith.constant 1 : index
  %cache = memref.view %arena[%c512][] : memref<4096xi8> to memref<2x8x16xf32>
  func.call @layer0(%w, %arena, %pos, %cache, %c1, %ctx) : (memref<8192xi8>, memref<4096xi8>, index, memref<2x8x16xf32>, index, !llvm.ptr) -> ()
  return
}

// CHECK-LABEL: func.func private @layer0
// CHECK-SAME: (%[[W:.+]]: memref<8192xi8>, %[[A:.+]]: memref<4096xi8>, %[[POS:.+]]: index, %{{.+}}: memref<2x8x16xf32>, %[[LAYER:.+]]: index, %[[CTX:.+]]: !llvm.ptr)
// CHECK-NOT: scf.for
// CHECK: %[[K:.+]] = constant @layer0_loop0
// CHECK: %[[N:.+]] = arith.constant 4 : index
// CHECK: %[[G:.+]] = arith.constant 1 : index
// CHECK: call @tlmrt_parallel_for(%[[CTX]], %[[K]], %[[W]], %[[A]], %[[N]], %[[G]], %[[LAYER]], %[[POS]])
func.func private @layer0(%w: memref<8192xi8>, %arena: memref<4096xi8>, %pos: index, %cache: memref<2x8x16xf32>, %layer: index, %ctx: !llvm.ptr) attributes {tlmc.layer = 0 : i64} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %out = memref.view %arena[%c0][] : memref<4096xi8> to memref<4x16xf32>
  scf.for %h = %c0 to %c4 step %c1 {
    %v = memref.load %cache[%layer, %pos, %h] : memref<2x8x16xf32>
    memref.store %v, %out[%h, %c0] : memref<4x16xf32>
  } {tlmc.parallel_loop}
  return
}
// CHECK-LABEL: func.func private @layer0_loop0
// CHECK-SAME: (%{{.+}}: memref<8192xi8>, %[[KA:.+]]: memref<4096xi8>, %[[B:.+]]: index, %[[E:.+]]: index, %[[KLAYER:.+]]: index, %[[KPOS:.+]]: index)
// CHECK-DAG: %[[C512:.+]] = arith.constant 512 : index
// CHECK-DAG: %[[CACHE:.+]] = memref.view %[[KA]][%[[C512]]][] : memref<4096xi8> to memref<2x8x16xf32>
// CHECK-DAG: %[[OUT:.+]] = memref.view %[[KA]]
// CHECK: scf.for %[[H:.+]] = %[[B]] to %[[E]]
// CHECK: memref.load %[[CACHE]][%[[KLAYER]], %[[KPOS]], %[[H]]]
// CHECK: memref.store %{{.+}}, %[[OUT]][%[[H]], %{{.+}}]

// -----

// A decode's heads loop reads `pos + 1` and a reshaped cache, both computed
// before the loop (CSE shares them with the cache append). The kernel
// computes them again from what it can rebuild, so the position and the
// layer index still fit its two scalars.

func.func @m_decode(%w: memref<8192xi8>, %arena: memref<4096xi8>,
                    %tokens: memref<1xi32>, %pos: index,
                    %logits: memref<1x4xf32>, %ctx: !llvm.ptr) {
  %c512 = arith.constant 512 : index
  %c1 = arith.constant 1 : index
  %cache = memref.view %arena[%c512][] : memref<4096xi8> to memref<2x8x16xf32>
  func.call @layer0(%w, %arena, %pos, %cache, %c1, %ctx) : (memref<8192xi8>, memref<4096xi8>, index, memref<2x8x16xf32>, index, !llvm.ptr) -> ()
  return
}

// CHECK-LABEL: func.func private @layer0
// CHECK-SAME: (%{{.+}}: memref<8192xi8>, %{{.+}}: memref<4096xi8>, %[[POS:.+]]: index, %{{.+}}: memref<2x8x16xf32>, %[[LAYER:.+]]: index, %[[CTX:.+]]: !llvm.ptr)
// CHECK: call @tlmrt_parallel_for(%[[CTX]], %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %[[POS]], %[[LAYER]])
func.func private @layer0(%w: memref<8192xi8>, %arena: memref<4096xi8>, %pos: index, %cache: memref<2x8x16xf32>, %layer: index, %ctx: !llvm.ptr) attributes {tlmc.layer = 0 : i64} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %out = memref.view %arena[%c0][] : memref<4096xi8> to memref<4x16xf32>
  %next = arith.addi %pos, %c1 : index
  %flat = memref.collapse_shape %cache [[0, 1, 2]] : memref<2x8x16xf32> into memref<256xf32>
  scf.for %h = %c0 to %c4 step %c1 {
    %i = arith.muli %next, %h : index
    %j = arith.addi %i, %layer : index
    %v = memref.load %flat[%j] : memref<256xf32>
    memref.store %v, %out[%h, %c0] : memref<4x16xf32>
  } {tlmc.parallel_loop}
  return
}
// CHECK-LABEL: func.func private @layer0_loop0
// CHECK-SAME: (%{{.+}}: memref<8192xi8>, %[[KA:.+]]: memref<4096xi8>, %[[B:.+]]: index, %[[E:.+]]: index, %[[KPOS:.+]]: index, %[[KLAYER:.+]]: index)
// CHECK-DAG: %[[CACHE:.+]] = memref.view %[[KA]][%{{.+}}][] : memref<4096xi8> to memref<2x8x16xf32>
// CHECK-DAG: %[[NEXT:.+]] = arith.addi %[[KPOS]], %{{.+}} : index
// CHECK-DAG: %[[FLAT:.+]] = memref.collapse_shape %[[CACHE]]
// CHECK: scf.for %[[H:.+]] = %[[B]] to %[[E]]
// CHECK: %[[I:.+]] = arith.muli %[[NEXT]], %[[H]]
// CHECK: %[[J:.+]] = arith.addi %[[I]], %[[KLAYER]]
// CHECK: memref.load %[[FLAT]][%[[J]]]

// -----

// Two callers passing the cache at different offsets (as a layer's input
// and output are): the kernel finds it from its byte offset in the arena,
// which the call hands over as a scalar after the position.

func.func @m_decode(%w: memref<8192xi8>, %arena: memref<4096xi8>,
                    %tokens: memref<1xi32>, %pos: index,
                    %logits: memref<1x4xf32>, %ctx: !llvm.ptr) {
  %c512 = arith.constant 512 : index
  %c1024 = arith.constant 1024 : index
  %a = memref.view %arena[%c512][] : memref<4096xi8> to memref<2x8x16xf32>
  %b = memref.view %arena[%c1024][] : memref<4096xi8> to memref<2x8x16xf32>
  func.call @layer0(%w, %arena, %pos, %a, %ctx) : (memref<8192xi8>, memref<4096xi8>, index, memref<2x8x16xf32>, !llvm.ptr) -> ()
  func.call @layer0(%w, %arena, %pos, %b, %ctx) : (memref<8192xi8>, memref<4096xi8>, index, memref<2x8x16xf32>, !llvm.ptr) -> ()
  return
}

// CHECK-LABEL: func.func private @layer0
// CHECK-SAME: (%{{.+}}: memref<8192xi8>, %[[ARENA:.+]]: memref<4096xi8>, %[[POS:.+]]: index, %[[CACHE:.+]]: memref<2x8x16xf32>, %[[CTX:.+]]: !llvm.ptr)
// CHECK: %[[BASE:.+]] = memref.extract_aligned_pointer_as_index %[[ARENA]]
// CHECK: %[[AT:.+]] = memref.extract_aligned_pointer_as_index %[[CACHE]]
// CHECK: %[[OFFSET:.+]] = arith.subi %[[AT]], %[[BASE]] : index
// CHECK: call @tlmrt_parallel_for(%[[CTX]], %{{.+}}, %{{.+}}, %[[ARENA]], %{{.+}}, %{{.+}}, %[[POS]], %[[OFFSET]])
// CHECK-LABEL: func.func private @layer0_loop0
// CHECK-SAME: (%{{.+}}: memref<8192xi8>, %[[KA:.+]]: memref<4096xi8>, %{{.+}}: index, %{{.+}}: index, %[[KPOS:.+]]: index, %[[KAT:.+]]: index)
// CHECK: %[[KCACHE:.+]] = memref.view %[[KA]][%[[KAT]]][] : memref<4096xi8> to memref<2x8x16xf32>
// CHECK: memref.load %[[KCACHE]][%{{.+}}, %[[KPOS]], %{{.+}}]
func.func private @layer0(%w: memref<8192xi8>, %arena: memref<4096xi8>, %pos: index, %cache: memref<2x8x16xf32>, %ctx: !llvm.ptr) attributes {tlmc.layer = 0 : i64} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %out = memref.view %arena[%c0][] : memref<4096xi8> to memref<4x16xf32>
  scf.for %h = %c0 to %c4 step %c1 {
    %v = memref.load %cache[%c0, %pos, %h] : memref<2x8x16xf32>
    memref.store %v, %out[%h, %c0] : memref<4x16xf32>
  } {tlmc.parallel_loop}
  return
}

// -----

// A caller passing a buffer outside the arena: no kernel can rebuild it,
// so the loop stays on one thread, with a warning (a lost thread is a bug
// of the pipeline).

func.func @m_decode(%w: memref<8192xi8>, %arena: memref<4096xi8>,
                    %tokens: memref<1xi32>, %pos: index,
                    %logits: memref<1x4xf32>, %ctx: !llvm.ptr) {
  %a = memref.alloc() : memref<2x8x16xf32>
  func.call @layer0(%w, %arena, %pos, %a, %ctx) : (memref<8192xi8>, memref<4096xi8>, index, memref<2x8x16xf32>, !llvm.ptr) -> ()
  return
}

// CHECK-LABEL: func.func private @layer0
// CHECK-NOT: tlmrt_parallel_for
// CHECK: scf.for
func.func private @layer0(%w: memref<8192xi8>, %arena: memref<4096xi8>, %pos: index, %cache: memref<2x8x16xf32>, %ctx: !llvm.ptr) attributes {tlmc.layer = 0 : i64} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %out = memref.view %arena[%c0][] : memref<4096xi8> to memref<4x16xf32>
  // expected-warning @+1 {{a parallel loop stays on one thread: it reads a value a kernel cannot rebuild}}
  scf.for %h = %c0 to %c4 step %c1 {
    %v = memref.load %cache[%c0, %pos, %h] : memref<2x8x16xf32>
    memref.store %v, %out[%h, %c0] : memref<4x16xf32>
  } {tlmc.parallel_loop}
  return
}
