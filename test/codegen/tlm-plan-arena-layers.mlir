// RUN: tlmc-opt %s --tlm-plan-arena=symbol-prefix=m_ | %FileCheck %s

// A layer function's buffers share one region right after the caches (128
// bytes here); the entry point's own buffers, live across the calls, come
// after it. The layer function takes the arena second and the pool last,
// and its calls pass both on.

// CHECK-LABEL: func.func @m_decode
// CHECK-SAME: (%[[W:.+]]: memref<64xi8>, %[[A:.+]]: memref<320xi8>, %{{.+}}: memref<1xi32>, %{{.+}}: index, %{{.+}}: memref<1x4xf32>, %[[CTX:.+]]: !llvm.ptr)
func.func @decode(%w: memref<64xi8>, %tokens: memref<1xi32>, %pos: index,
                  %kc: memref<1x4x2xf32>, %vc: memref<1x4x2xf32>,
                  %logits: memref<1x4xf32>) {
  // CHECK: %[[C192:.+]] = arith.constant 192 : index
  // CHECK: %[[X:.+]] = memref.view %[[A]][%[[C192]]][] : memref<320xi8> to memref<1x4xf32>
  // CHECK: call @layer0(%[[W]], %[[A]], %[[X]], %[[CTX]])
  %x = memref.alloc() : memref<1x4xf32>
  call @layer0(%w, %x) : (memref<64xi8>, memref<1x4xf32>) -> ()
  memref.copy %x, %logits : memref<1x4xf32> to memref<1x4xf32>
  // %x is read after the copy: it keeps its own bytes (no forwarding).
  %v = memref.load %x[%pos, %pos] : memref<1x4xf32>
  memref.store %v, %vc[%pos, %pos, %pos] : memref<1x4x2xf32>
  return
}

// CHECK-LABEL: func.func private @layer0
// CHECK-SAME: (%{{.+}}: memref<64xi8>, %[[LA:.+]]: memref<320xi8>, %[[OUT:.+]]: memref<1x4xf32>, %{{.+}}: !llvm.ptr)
// CHECK: %[[C128:.+]] = arith.constant 128 : index
// CHECK: %[[T:.+]] = memref.view %[[LA]][%[[C128]]][] : memref<320xi8> to memref<1x8xf32>
// CHECK-NOT: memref.alloc
func.func private @layer0(%w: memref<64xi8>, %out: memref<1x4xf32>) attributes {tlmc.layer = 0 : i64} {
  %cst = arith.constant 1.0 : f32
  %t = memref.alloc() : memref<1x8xf32>
  linalg.fill ins(%cst : f32) outs(%t : memref<1x8xf32>)
  %s = memref.subview %t[0, 0] [1, 4] [1, 1] : memref<1x8xf32> to memref<1x4xf32, strided<[8, 1]>>
  memref.copy %s, %out : memref<1x4xf32, strided<[8, 1]>> to memref<1x4xf32>
  memref.dealloc %t : memref<1x8xf32>
  return
}
