// RUN: tlmc-opt %s --tlm-parallelize-rows=min-work=1024 | %FileCheck %s

// A product of 32x64 multiply-adds is outlined into a kernel over output
// features [begin, end) and handed to the runtime's parallel-for; the 4x64
// one (on another input, so not joined to it: see
// tlm-parallelize-rows-groups.mlir) is below min-work and stays inline.

#x = affine_map<(t, n, k) -> (t, k)>
#w = affine_map<(t, n, k) -> (n, k)>
#y = affine_map<(t, n, k) -> (t, n)>

// The runtime's entry point, declared once for all kernels of the module.
// CHECK: func.func private @tlmrt_parallel_for(!llvm.ptr, (memref<8192xi8>, memref<1024xi8>, index, index, index, index) -> (), memref<8192xi8>, memref<1024xi8>, index, index, index, index)

// CHECK-LABEL: func.func @m_decode
// CHECK-SAME: (%[[W:.+]]: memref<8192xi8>, %[[A:.+]]: memref<1024xi8>, %{{.+}}: memref<1xi32>, %{{.+}}: index, %{{.+}}: memref<1x4xf32>, %[[CTX:.+]]: !llvm.ptr)
func.func @m_decode(%w: memref<8192xi8>, %arena: memref<1024xi8>,
                    %tokens: memref<1xi32>, %pos: index,
                    %logits: memref<1x4xf32>, %ctx: !llvm.ptr) {
  %c0 = arith.constant 0 : index
  %c256 = arith.constant 256 : index
  %c512 = arith.constant 512 : index
  %x = memref.view %arena[%c0][] : memref<1024xi8> to memref<1x64xf32>
  %big = memref.view %w[%c0][] : memref<8192xi8> to memref<32x64xf32>
  %small = memref.view %w[%c512][] : memref<8192xi8> to memref<4x64xf32>
  %y = memref.view %arena[%c256][] : memref<1024xi8> to memref<1x32xf32>
  %z = memref.view %arena[%c512][] : memref<1024xi8> to memref<1x4xf32>
  %c768 = arith.constant 768 : index
  %x2 = memref.view %arena[%c768][] : memref<1024xi8> to memref<1x64xf32>
  // CHECK: %[[K:.+]] = constant @m_decode_rows0 : (memref<8192xi8>, memref<1024xi8>, index, index, index, index) -> ()
  // CHECK: %[[N:.+]] = arith.constant 32 : index
  // CHECK: %[[G:.+]] = arith.constant 1 : index
  // CHECK: %[[Z0:.+]] = arith.constant 0 : index
  // CHECK: %[[Z1:.+]] = arith.constant 0 : index
  // CHECK: call @tlmrt_parallel_for(%[[CTX]], %[[K]], %[[W]], %[[A]], %[[N]], %[[G]], %[[Z0]], %[[Z1]])
  linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %big : memref<1x64xf32>, memref<32x64xf32>) outs(%y : memref<1x32xf32>) attrs = {tlmc.parallel_rows} {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  // CHECK: linalg.generic
  // CHECK-SAME: ins(%{{.+}}, %{{.+}} : memref<1x64xf32>, memref<4x64xf32>)
  linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x2, %small : memref<1x64xf32>, memref<4x64xf32>) outs(%z : memref<1x4xf32>) attrs = {tlmc.parallel_rows} {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  return
}

// The kernel rebuilds the views from its own arguments and narrows the
// weight rows and output columns to [begin, end).
// CHECK-LABEL: func.func private @m_decode_rows0
// CHECK-SAME: (%[[KW:.+]]: memref<8192xi8>, %[[KA:.+]]: memref<1024xi8>, %[[B:.+]]: index, %[[E:.+]]: index, %{{.+}}: index, %{{.+}}: index)
// CHECK: %[[COUNT:.+]] = arith.subi %[[E]], %[[B]]
// CHECK: %[[KX:.+]] = memref.view %[[KA]]
// CHECK: %[[KWV:.+]] = memref.view %[[KW]]
// CHECK: %[[WS:.+]] = memref.subview %[[KWV]][%[[B]], 0] [%[[COUNT]], 64] [1, 1]
// CHECK: %[[KY:.+]] = memref.view %[[KA]]
// CHECK: %[[YS:.+]] = memref.subview %[[KY]][0, %[[B]]] [1, %[[COUNT]]] [1, 1]
// CHECK: linalg.generic {{.*}} ins(%[[KX]], %[[WS]] : {{.*}}) outs(%[[YS]] : {{.*}})

// A body that reads its output feature's index (a sparse block product
// indexes its weight rows with it) sees the same index in the kernel as
// inline: the kernel's iteration index plus begin.
// CHECK-LABEL: func.func @m_prefill
func.func @m_prefill(%w: memref<8192xi8>, %arena: memref<1024xi8>,
                     %tokens: memref<1xi32>, %pos: index,
                     %logits: memref<1x4xf32>, %ctx: !llvm.ptr) {
  %c0 = arith.constant 0 : index
  %c256 = arith.constant 256 : index
  %rows = memref.view %w[%c0][] : memref<8192xi8> to memref<32x64xf32>
  %y = memref.view %arena[%c256][] : memref<1024xi8> to memref<1x32xf32>
  // CHECK: call @tlmrt_parallel_for
  linalg.generic {indexing_maps = [affine_map<(t, n) -> (t, n)>], iterator_types = ["parallel", "parallel"]}
      outs(%y : memref<1x32xf32>) attrs = {tlmc.parallel_rows, tlmc.parallel_work = 2048 : i64} {
  ^bb0(%acc: f32):
    %n = linalg.index 1 : index
    %v = memref.load %rows[%n, %c0] : memref<32x64xf32>
    linalg.yield %v : f32
  }
  return
}
// CHECK-LABEL: func.func private @m_prefill_rows0
// CHECK-SAME: (%[[KW:.+]]: memref<8192xi8>, %{{.+}}: memref<1024xi8>, %[[B:.+]]: index, %{{.+}}: index, %{{.+}}: index, %{{.+}}: index)
// CHECK: %[[ROWS:.+]] = memref.view %[[KW]]
// CHECK: linalg.generic
// CHECK: %[[LOCAL:.+]] = linalg.index 1 : index
// CHECK: %[[ABS:.+]] = arith.addi %[[LOCAL]], %[[B]] : index
// CHECK: memref.load %[[ROWS]][%[[ABS]], %{{.+}}] : memref<32x64xf32>

// Weights packed in 16-row panels (a `*x16` runtime kernel's format) are
// split at multiples of 16 rows: the call's grain.
// CHECK-LABEL: func.func @m_panels
func.func @m_panels(%w: memref<8192xi8>, %arena: memref<1024xi8>,
                    %tokens: memref<1xi32>, %pos: index,
                    %logits: memref<1x4xf32>, %ctx: !llvm.ptr) {
  %c0 = arith.constant 0 : index
  %c256 = arith.constant 256 : index
  %x = memref.view %arena[%c0][] : memref<1024xi8> to memref<1x64xf32>
  %big = memref.view %w[%c0][] : memref<8192xi8> to memref<32x64xf32>
  %y = memref.view %arena[%c256][] : memref<1024xi8> to memref<1x32xf32>
  // CHECK: %[[N:.+]] = arith.constant 32 : index
  // CHECK: %[[G:.+]] = arith.constant 16 : index
  // CHECK: call @tlmrt_parallel_for(%{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %[[N]], %[[G]], %{{.+}}, %{{.+}})
  linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %big : memref<1x64xf32>, memref<32x64xf32>) outs(%y : memref<1x32xf32>) attrs = {tlmc.parallel_rows, tlmc.ukernel = "q8_0x16"} {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  return
}
