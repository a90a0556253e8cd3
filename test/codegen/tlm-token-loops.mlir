// RUN: tlmc-opt %s --split-input-file --tlm-token-loops=min-work=64 | %FileCheck %s

// A norm over 8 tokens (fill, sum of squares, scaling with weights read
// whole, the token's row index used in the body) becomes one loop over the
// tokens, each op on its token's row; the product after it ends the run.
#rows = affine_map<(t, j) -> (t, j)>
#row = affine_map<(t, j) -> (t)>
#col = affine_map<(t, j) -> (j)>
// CHECK-LABEL: func.func @norm
func.func @norm(%w: memref<4096xi8>, %arena: memref<4096xi8>,
                %tokens: memref<8xi32>, %pos: index,
                %logits: memref<8x4xf32>, %ctx: !llvm.ptr) {
  %c0 = arith.constant 0 : index
  %c256 = arith.constant 256 : index
  %c512 = arith.constant 512 : index
  %c1024 = arith.constant 1024 : index
  %zero = arith.constant 0.0 : f32
  %x = memref.view %arena[%c0][] : memref<4096xi8> to memref<8x16xf32>
  %ss = memref.view %arena[%c512][] : memref<4096xi8> to memref<8xf32>
  %y = memref.view %arena[%c1024][] : memref<4096xi8> to memref<8x16xf32>
  %g = memref.view %w[%c0][] : memref<4096xi8> to memref<16xf32>
  %c2048 = arith.constant 2048 : index
  %p = memref.view %arena[%c2048][] : memref<4096xi8> to memref<8x8xf32>
  // CHECK: scf.for %[[T:.+]] = %{{.+}} to %{{.+}} step %{{.+}} {
  // CHECK: %[[SS:.+]] = memref.subview %{{.+}}[%[[T]]] [1] [1] : memref<8xf32> to memref<1xf32, strided<[1], offset: ?>>
  // CHECK: linalg.fill ins(%{{.+}} : f32) outs(%[[SS]] : memref<1xf32, strided<[1], offset: ?>>)
  // CHECK: %[[XT:.+]] = memref.subview %{{.+}}[%[[T]], 0] [1, 16] [1, 1] : memref<8x16xf32> to memref<1x16xf32, strided<[16, 1], offset: ?>>
  // CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "reduction"]{{.*}} ins(%[[XT]] : {{.*}}) outs(%{{.+}} : memref<1xf32, strided<[1], offset: ?>>)
  // CHECK: linalg.generic {{.*}} ins(%{{.+}}, %{{.+}}, %{{.+}} : memref<1x16xf32, strided<[16, 1], offset: ?>>, memref<1xf32, strided<[1], offset: ?>>, memref<16xf32>)
  // CHECK: arith.index_cast %[[T]]
  // CHECK: } {tlmc.parallel_loop}
  // CHECK-NEXT: linalg.generic {{.*}}tlmc.parallel_rows
  linalg.fill ins(%zero : f32) outs(%ss : memref<8xf32>)
  linalg.generic {indexing_maps = [#rows, #row], iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<8x16xf32>) outs(%ss : memref<8xf32>) {
  ^bb0(%in: f32, %acc: f32):
    %sq = arith.mulf %in, %in : f32
    %s = arith.addf %acc, %sq : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [#rows, #row, #col, #rows], iterator_types = ["parallel", "parallel"]}
      ins(%x, %ss, %g : memref<8x16xf32>, memref<8xf32>, memref<16xf32>) outs(%y : memref<8x16xf32>) {
  ^bb0(%in: f32, %s: f32, %gw: f32, %out: f32):
    %t = linalg.index 0 : index
    %ti = arith.index_cast %t : index to i64
    %tf = arith.sitofp %ti : i64 to f32
    %a = arith.mulf %in, %s : f32
    %b = arith.mulf %a, %gw : f32
    %c = arith.addf %b, %tf : f32
    linalg.yield %c : f32
  }
  linalg.generic {indexing_maps = [affine_map<(t, n, k) -> (t, k)>, affine_map<(t, n, k) -> (n, k)>, affine_map<(t, n, k) -> (t, n)>], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%y, %y : memref<8x16xf32>, memref<8x16xf32>) outs(%p : memref<8x8xf32>) attrs = {tlmc.parallel_rows} {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// A buffer one op writes that the next reads whole (rows of other tokens)
// ends the run: the reader starts a loop of its own, after the writers'.
#rows = affine_map<(t, j) -> (t, j)>
#whole = affine_map<(t, j) -> (j, j)>
// CHECK-LABEL: func.func @whole_read
func.func @whole_read(%w: memref<4096xi8>, %arena: memref<4096xi8>,
                      %tokens: memref<8xi32>, %pos: index,
                      %logits: memref<8x4xf32>, %ctx: !llvm.ptr) {
  %c0 = arith.constant 0 : index
  %c1024 = arith.constant 1024 : index
  %c2048 = arith.constant 2048 : index
  %one = arith.constant 1.0 : f32
  %x = memref.view %arena[%c0][] : memref<4096xi8> to memref<8x8xf32>
  %y = memref.view %arena[%c1024][] : memref<4096xi8> to memref<8x8xf32>
  %z = memref.view %arena[%c2048][] : memref<4096xi8> to memref<8x8xf32>
  // CHECK: scf.for
  // CHECK: linalg.fill
  // CHECK: linalg.fill
  // CHECK-NEXT: } {tlmc.parallel_loop}
  // CHECK: scf.for
  // CHECK-NEXT: memref.subview
  // CHECK-NEXT: linalg.generic {{.*}} ins(%{{.+}} : memref<8x8xf32>) outs(%{{.+}} : memref<1x8xf32, strided<[8, 1], offset: ?>>)
  linalg.fill ins(%one : f32) outs(%x : memref<8x8xf32>)
  linalg.fill ins(%one : f32) outs(%y : memref<8x8xf32>)
  linalg.generic {indexing_maps = [#whole, #rows], iterator_types = ["parallel", "parallel"]}
      ins(%x : memref<8x8xf32>) outs(%z : memref<8x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  }
  return
}

// -----

// Two views that overlap in the arena without being the same buffer end
// the run between them (a row of one is not a row of the other).
// CHECK-LABEL: func.func @overlap
func.func @overlap(%w: memref<4096xi8>, %arena: memref<4096xi8>,
                   %tokens: memref<8xi32>, %pos: index,
                   %logits: memref<8x4xf32>, %ctx: !llvm.ptr) {
  %c0 = arith.constant 0 : index
  %c256 = arith.constant 256 : index
  %c1024 = arith.constant 1024 : index
  %one = arith.constant 1.0 : f32
  %a = memref.view %arena[%c0][] : memref<4096xi8> to memref<8x16xf32>
  %b = memref.view %arena[%c1024][] : memref<4096xi8> to memref<8x16xf32>
  %c = memref.view %arena[%c256][] : memref<4096xi8> to memref<8x16xf32>
  // CHECK: scf.for
  // CHECK-COUNT-2: linalg.fill
  // CHECK: } {tlmc.parallel_loop}
  // CHECK: scf.for
  // CHECK-NEXT: memref.subview %{{.+}}[%{{.+}}, 0] [1, 16] [1, 1]
  // CHECK-NEXT: linalg.fill
  // CHECK-NEXT: } {tlmc.parallel_loop}
  linalg.fill ins(%one : f32) outs(%a : memref<8x16xf32>)
  linalg.fill ins(%one : f32) outs(%b : memref<8x16xf32>)
  linalg.fill ins(%one : f32) outs(%c : memref<8x16xf32>)
  return
}

// -----

// A decode step (one token) is left as it is, and so is a run below
// min-work.
// CHECK-LABEL: func.func @decode
// CHECK-NOT: scf.for
func.func @decode(%w: memref<4096xi8>, %arena: memref<4096xi8>,
                  %tokens: memref<1xi32>, %pos: index,
                  %logits: memref<1x4xf32>, %ctx: !llvm.ptr) {
  %c0 = arith.constant 0 : index
  %one = arith.constant 1.0 : f32
  %a = memref.view %arena[%c0][] : memref<4096xi8> to memref<1x512xf32>
  linalg.fill ins(%one : f32) outs(%a : memref<1x512xf32>)
  return
}
// CHECK-LABEL: func.func @small
// CHECK-NOT: scf.for
func.func @small(%w: memref<4096xi8>, %arena: memref<4096xi8>,
                 %tokens: memref<8xi32>, %pos: index,
                 %logits: memref<8x4xf32>, %ctx: !llvm.ptr) {
  %c0 = arith.constant 0 : index
  %one = arith.constant 1.0 : f32
  %a = memref.view %arena[%c0][] : memref<4096xi8> to memref<8x4xf32>
  linalg.fill ins(%one : f32) outs(%a : memref<8x4xf32>)
  return
}

// -----

// Work weighs each transcendental of an element as 16 more: an exp over
// 8 x 4 elements (32 x 17 = 544) reaches min-work 64 where the same
// elements added (32) do not.
#rows = affine_map<(t, j) -> (t, j)>
// CHECK-LABEL: func.func @exp
// CHECK: scf.for
// CHECK: math.exp
// CHECK: } {tlmc.parallel_loop}
func.func @exp(%w: memref<4096xi8>, %arena: memref<4096xi8>,
               %tokens: memref<8xi32>, %pos: index,
               %logits: memref<8x4xf32>, %ctx: !llvm.ptr) {
  %c0 = arith.constant 0 : index
  %c512 = arith.constant 512 : index
  %x = memref.view %arena[%c0][] : memref<4096xi8> to memref<8x4xf32>
  %y = memref.view %arena[%c512][] : memref<4096xi8> to memref<8x4xf32>
  linalg.generic {indexing_maps = [#rows, #rows], iterator_types = ["parallel", "parallel"]}
      ins(%x : memref<8x4xf32>) outs(%y : memref<8x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %e = math.exp %in : f32
    linalg.yield %e : f32
  }
  return
}
// CHECK-LABEL: func.func @add
// CHECK-NOT: scf.for
func.func @add(%w: memref<4096xi8>, %arena: memref<4096xi8>,
               %tokens: memref<8xi32>, %pos: index,
               %logits: memref<8x4xf32>, %ctx: !llvm.ptr) {
  %c0 = arith.constant 0 : index
  %c512 = arith.constant 512 : index
  %x = memref.view %arena[%c0][] : memref<4096xi8> to memref<8x4xf32>
  %y = memref.view %arena[%c512][] : memref<4096xi8> to memref<8x4xf32>
  linalg.generic {indexing_maps = [#rows, #rows], iterator_types = ["parallel", "parallel"]}
      ins(%x : memref<8x4xf32>) outs(%y : memref<8x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %s = arith.addf %in, %in : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// An elementwise op right after a product that reads its output (SwiGLU
// after up, a residual add after down) is the product's epilogue: it runs
// in the product's job on each thread's features (tlm-parallelize-rows),
// so no loop over tokens takes it. The scaling after it still forms one.

#x = affine_map<(t, n, k) -> (t, k)>
#w = affine_map<(t, n, k) -> (n, k)>
#y = affine_map<(t, n, k) -> (t, n)>
#e = affine_map<(t, n) -> (t, n)>

// CHECK-LABEL: func.func @m_prefill
// CHECK: linalg.generic {{.*}}tlmc.parallel_rows
// CHECK-NEXT: ^bb0
// CHECK: linalg.yield
// CHECK-NEXT: }
// CHECK-NEXT: linalg.generic {{.*}} ins(%{{.+}}, %{{.+}} : memref<8x16xf32>, memref<8x16xf32>) outs(%{{.+}} : memref<8x16xf32>)
// CHECK: math.exp
// CHECK: scf.for
// CHECK: tlmc.parallel_loop
func.func @m_prefill(%w: memref<4096xi8>, %arena: memref<4096xi8>,
                     %tokens: memref<8xi32>, %pos: index,
                     %logits: memref<8x4xf32>, %ctx: !llvm.ptr) {
  %c0 = arith.constant 0 : index
  %c512 = arith.constant 512 : index
  %c1024 = arith.constant 1024 : index
  %c1536 = arith.constant 1536 : index
  %one = arith.constant 1.0 : f32
  %x = memref.view %arena[%c0][] : memref<4096xi8> to memref<8x16xf32>
  %wu = memref.view %w[%c0][] : memref<4096xi8> to memref<16x16xf32>
  %u = memref.view %arena[%c512][] : memref<4096xi8> to memref<8x16xf32>
  %h = memref.view %arena[%c1024][] : memref<4096xi8> to memref<8x16xf32>
  %s = memref.view %arena[%c1536][] : memref<4096xi8> to memref<8x16xf32>
  linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %wu : memref<8x16xf32>, memref<16x16xf32>) outs(%u : memref<8x16xf32>) attrs = {tlmc.parallel_rows} {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %r = arith.addf %acc, %m : f32
    linalg.yield %r : f32
  }
  linalg.generic {indexing_maps = [#e, #e, #e], iterator_types = ["parallel", "parallel"]}
      ins(%u, %x : memref<8x16xf32>, memref<8x16xf32>) outs(%h : memref<8x16xf32>) {
  ^bb0(%up: f32, %gate: f32, %o: f32):
    %n = arith.negf %gate : f32
    %e = math.exp %n : f32
    %d = arith.addf %e, %one : f32
    %silu = arith.divf %gate, %d : f32
    %r = arith.mulf %silu, %up : f32
    linalg.yield %r : f32
  }
  linalg.generic {indexing_maps = [#e, #e], iterator_types = ["parallel", "parallel"]}
      ins(%h : memref<8x16xf32>) outs(%s : memref<8x16xf32>) {
  ^bb0(%a: f32, %o: f32):
    %e = math.exp %a : f32
    linalg.yield %e : f32
  }
  return
}

// -----

// A layer's norm of its input, an argument the callers pass as different
// arena views (layer 0's input is layer 1's output's place): grouped, since
// the buffers it writes overlap none of the places the input may be.
// Another run whose output may be where the input is stays as it is.
#rows = affine_map<(t, j) -> (t, j)>
#row = affine_map<(t, j) -> (t)>

func.func @m_prefill(%w: memref<4096xi8>, %arena: memref<4096xi8>,
                     %tokens: memref<8xi32>, %pos: index,
                     %logits: memref<8x4xf32>, %ctx: !llvm.ptr) {
  %c0 = arith.constant 0 : index
  %c512 = arith.constant 512 : index
  %a = memref.view %arena[%c0][] : memref<4096xi8> to memref<8x16xf32>
  %b = memref.view %arena[%c512][] : memref<4096xi8> to memref<8x16xf32>
  func.call @layer0(%w, %arena, %a, %ctx) : (memref<4096xi8>, memref<4096xi8>, memref<8x16xf32>, !llvm.ptr) -> ()
  func.call @layer0(%w, %arena, %b, %ctx) : (memref<4096xi8>, memref<4096xi8>, memref<8x16xf32>, !llvm.ptr) -> ()
  return
}

// CHECK-LABEL: func.func private @layer0
// CHECK-SAME: (%{{.+}}: memref<4096xi8>, %{{.+}}: memref<4096xi8>, %[[IN:.+]]: memref<8x16xf32>, %{{.+}}: !llvm.ptr)
// CHECK: scf.for %[[T:.+]] = %{{.+}} to %{{.+}} step %{{.+}} {
// CHECK: memref.subview %[[IN]][%[[T]], 0] [1, 16] [1, 1]
// CHECK: } {tlmc.parallel_loop}
// CHECK-NOT: scf.for
func.func private @layer0(%w: memref<4096xi8>, %arena: memref<4096xi8>, %in: memref<8x16xf32>, %ctx: !llvm.ptr) attributes {tlmc.layer = 0 : i64} {
  %c1024 = arith.constant 1024 : index
  %c2048 = arith.constant 2048 : index
  %c256 = arith.constant 256 : index
  %zero = arith.constant 0.0 : f32
  %ss = memref.view %arena[%c2048][] : memref<4096xi8> to memref<8xf32>
  linalg.fill ins(%zero : f32) outs(%ss : memref<8xf32>)
  linalg.generic {indexing_maps = [#rows, #row], iterator_types = ["parallel", "reduction"]}
      ins(%in : memref<8x16xf32>) outs(%ss : memref<8xf32>) {
  ^bb0(%x: f32, %acc: f32):
    %sq = arith.mulf %x, %x : f32
    %s = arith.addf %acc, %sq : f32
    linalg.yield %s : f32
  }
  %y = memref.view %arena[%c1024][] : memref<4096xi8> to memref<8x16xf32>
  linalg.generic {indexing_maps = [#rows, #row, #rows], iterator_types = ["parallel", "parallel"]}
      ins(%in, %ss : memref<8x16xf32>, memref<8xf32>) outs(%y : memref<8x16xf32>) {
  ^bb0(%x: f32, %s: f32, %out: f32):
    %r = arith.mulf %x, %s : f32
    linalg.yield %r : f32
  }
  // Written at 256, inside the input's place at 0 in the first call: a row
  // of it is another token's row of the input.
  %z = memref.view %arena[%c256][] : memref<4096xi8> to memref<8x16xf32>
  %h = memref.view %arena[%c1024][] : memref<4096xi8> to memref<8x16xf32>
  linalg.generic {indexing_maps = [#rows, #rows, #rows], iterator_types = ["parallel", "parallel"]}
      ins(%in, %h : memref<8x16xf32>, memref<8x16xf32>) outs(%z : memref<8x16xf32>) {
  ^bb0(%x: f32, %v: f32, %out: f32):
    %r = arith.addf %x, %v : f32
    linalg.yield %r : f32
  }
  return
}
