// RUN: tlmc-opt %s --tlm-plan-arena=symbol-prefix=m_ --cse | %FileCheck %s

// The caches go first (64-byte aligned: 32 -> 64 bytes each), buffers are
// placed first-fit by live range (%c reuses %a's bytes, %b stays apart),
// the logits are staged at the end of the arena and copied out, and the
// function takes the C ABI (weights, arena, tokens, pos, logits, ctx).

// CHECK-LABEL: func.func @m_decode
// CHECK-SAME: (%[[W:.+]]: memref<64xi8>, %[[A:.+]]: memref<320xi8>, %[[T:.+]]: memref<1xi32>, %[[P:.+]]: index, %[[L:.+]]: memref<1x4xf32>, %[[CTX:.+]]: !llvm.ptr)
// CHECK-SAME: attributes {tlmc.arena_bytes = 320 : i64}
func.func @decode(%w: memref<64xi8>, %tokens: memref<1xi32>, %pos: index,
                  %kc: memref<1x4x2xf32>, %vc: memref<1x4x2xf32>,
                  %logits: memref<1x4xf32>) {
  // CHECK: memref.view %[[A]][%{{.+}}][] : memref<320xi8> to memref<1x4x2xf32>
  // CHECK: %[[C64:.+]] = arith.constant 64 : index
  // CHECK: memref.view %[[A]][%[[C64]]][] : memref<320xi8> to memref<1x4x2xf32>
  // CHECK: %[[C256:.+]] = arith.constant 256 : index
  // CHECK: %[[STAGED:.+]] = memref.view %[[A]][%[[C256]]][] : memref<320xi8> to memref<1x4xf32>
  %cst = arith.constant 1.0 : f32
  // CHECK: %[[C128:.+]] = arith.constant 128 : index
  // CHECK: %[[BA:.+]] = memref.view %[[A]][%[[C128]]][] : memref<320xi8> to memref<1x8xf32>
  // CHECK: linalg.fill {{.*}} outs(%[[BA]] : memref<1x8xf32>)
  %a = memref.alloc() : memref<1x8xf32>
  linalg.fill ins(%cst : f32) outs(%a : memref<1x8xf32>)
  // CHECK: %[[C192:.+]] = arith.constant 192 : index
  // CHECK: %[[BB:.+]] = memref.view %[[A]][%[[C192]]][] : memref<320xi8> to memref<1x8xf32>
  // CHECK: memref.copy %[[BA]], %[[BB]]
  %b = memref.alloc() : memref<1x8xf32>
  memref.copy %a, %b : memref<1x8xf32> to memref<1x8xf32>
  // %c starts after %a's last use: it gets %a's bytes (CSE then folds the
  // identical view into %a's).
  // CHECK: memref.copy %[[BB]], %[[BA]]
  %c = memref.alloc() : memref<1x8xf32>
  memref.copy %b, %c : memref<1x8xf32> to memref<1x8xf32>
  %sub = memref.subview %c[0, 0] [1, 4] [1, 1] : memref<1x8xf32> to memref<1x4xf32, strided<[8, 1]>>
  memref.copy %sub, %logits : memref<1x4xf32, strided<[8, 1]>> to memref<1x4xf32>
  %x = memref.load %kc[%pos, %pos, %pos] : memref<1x4x2xf32>
  memref.store %x, %vc[%pos, %pos, %pos] : memref<1x4x2xf32>
  // CHECK: memref.copy %{{.+}}, %[[STAGED]]
  // CHECK: memref.copy %[[STAGED]], %[[L]] : memref<1x4xf32> to memref<1x4xf32>
  // CHECK-NEXT: return
  // CHECK-NOT: memref.alloc
  return
}

// Logits computed in a buffer of their own and copied into the argument as
// that buffer's last use: the ops write the staged logits instead, and the
// one copy left is the staged logits out.
// CHECK-LABEL: func.func @m_forwarded
// CHECK-SAME: (%{{.+}}: memref<64xi8>, %[[A:.+]]: memref<320xi8>, %{{.+}}: memref<1xi32>, %{{.+}}: index, %[[L:.+]]: memref<1x4xf32>, %{{.+}}: !llvm.ptr)
func.func @forwarded(%w: memref<64xi8>, %tokens: memref<1xi32>, %pos: index,
                     %kc: memref<1x4x2xf32>, %vc: memref<1x4x2xf32>,
                     %logits: memref<1x4xf32>) {
  %cst = arith.constant 1.0 : f32
  // CHECK: %[[STAGED:.+]] = memref.view %[[A]][%{{.+}}][] : memref<320xi8> to memref<1x4xf32>
  // CHECK: linalg.fill {{.*}} outs(%[[STAGED]] : memref<1x4xf32>)
  // CHECK-NEXT: memref.copy %[[STAGED]], %[[L]] : memref<1x4xf32> to memref<1x4xf32>
  // CHECK-NEXT: return
  %a = memref.alloc() {alignment = 64 : i64} : memref<1x4xf32>
  linalg.fill ins(%cst : f32) outs(%a : memref<1x4xf32>)
  memref.copy %a, %logits : memref<1x4xf32> to memref<1x4xf32>
  return
}
