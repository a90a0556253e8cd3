// RUN: tlmc-opt %s --tlm-use-ukernels=isa=avx512vnni | %FileCheck %s
// RUN: tlmc-opt %s --tlm-use-ukernels | %FileCheck %s --check-prefix=NONE
// RUN: not tlmc-opt %s --tlm-use-ukernels=isa=sse9 2>&1 | %FileCheck %s --check-prefix=BAD
// RUN: tlmc-opt %s --tlm-use-ukernels=isa=avx512 | %FileCheck %s --check-prefix=AVX512
// RUN: tlmc-opt %s --tlm-use-ukernels=isa=neondot | %FileCheck %s --check-prefix=NEON

// A thread kernel's Q8_0 product (output features [begin, end) of a 2x8
// output, 64 inputs) becomes one call of the runtime's kernel on raw
// pointers: inputs, their row stride, the token count, the weights from
// row `begin` on (begin x 2 blocks x 34 bytes), the row count, the width,
// the outputs from `begin`, their row stride. Without an instruction set
// the generated product stays.

#id = affine_map<(d0, d1) -> (d0, d1)>

// CHECK: func.func private @tlmrt_uk_q8_0_avx512vnni(!llvm.ptr, i64, i64, !llvm.ptr, i64, i64, !llvm.ptr, i64)
// CHECK-LABEL: func.func @rows
// CHECK-SAME: (%[[W:.+]]: memref<1024xi8>, %[[A:.+]]: memref<1024xi8>, %[[BEGIN:.+]]: index, %[[END:.+]]: index)
// CHECK: %[[XB:.+]], %[[XOFF:.+]], %[[XSIZES:.+]]:2, %[[XSTRIDES:.+]]:2 = memref.extract_strided_metadata %[[X:.+]] :
// CHECK: %[[YB:.+]], %[[YOFF:.+]], %[[YSIZES:.+]]:2, %[[YSTRIDES:.+]]:2 = memref.extract_strided_metadata %[[Y:.+]] :
// CHECK: %[[WB:.+]], %[[WOFF:.+]], %{{.+}}, %{{.+}} = memref.extract_strided_metadata %[[B:.+]] :
// CHECK: %[[FIRST:.+]] = arith.remui %[[YOFF]], %[[YSTRIDES]]#0
// CHECK: %[[C68:.+]] = arith.constant 68 : index
// CHECK: %[[ROWBYTES:.+]] = arith.muli %[[FIRST]], %[[C68]]
// CHECK: %[[WAT:.+]] = arith.addi %[[WOFF]], %[[ROWBYTES]]
// CHECK: memref.extract_aligned_pointer_as_index %[[X]]
// CHECK: llvm.inttoptr
// CHECK: memref.extract_aligned_pointer_as_index %[[B]]
// CHECK: llvm.inttoptr
// CHECK: %[[C64:.+]] = arith.constant 64 : i64
// CHECK: memref.extract_aligned_pointer_as_index %[[Y]]
// CHECK: %[[YP:.+]] = llvm.inttoptr
// CHECK: call @tlmrt_uk_q8_0_avx512vnni(%{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %[[C64]], %[[YP]], %{{.+}})
// CHECK-NOT: linalg.generic
// NONE: linalg.generic
// NONE-SAME: tlmc.ukernel = "q8_0"
// NONE-NOT: tlmrt_uk
// BAD: unknown instruction set 'sse9' (known: avx512, avx512vnni, amx, avx2-float, avx2, neondot, neoni8mm)
func.func @rows(%w: memref<1024xi8>, %arena: memref<1024xi8>, %begin: index, %end: index) {
  %c0 = arith.constant 0 : index
  %c2 = arith.constant 2 : index
  %c256 = arith.constant 256 : index
  %x = memref.view %arena[%c0][] : memref<1024xi8> to memref<2x64xf32>
  %y0 = memref.view %arena[%c256][] : memref<1024xi8> to memref<2x8xf32>
  %blocks = memref.view %w[%c0][] : memref<1024xi8> to memref<544xi8>
  %count = arith.subi %end, %begin : index
  %y = memref.subview %y0[0, %begin] [2, %count] [1, 1] : memref<2x8xf32> to memref<2x?xf32, strided<[8, 1], offset: ?>>
  linalg.generic {indexing_maps = [#id], iterator_types = ["parallel", "parallel"]}
      outs(%y : memref<2x?xf32, strided<[8, 1], offset: ?>>) attrs = {tlmc.ukernel = "q8_0"} {
  ^bb0(%out: f32):
    %t = linalg.index 0 : index
    %scale = vector.load %blocks[%c0] {tlmc.ukernel_weights} : memref<544xi8>, vector<2xi8>
    %in = vector.load %x[%t, %c0] {tlmc.ukernel_input} : memref<2x64xf32>, vector<16xf32>
    %s = vector.reduction <add>, %in : vector<16xf32> into f32
    linalg.yield %s : f32
  }
  return
}

// An f16 product (the tlm.linear lowering: inputs (t, k), weights (n, k)
// narrowed to the thread's rows) calls the float kernel with the weights'
// own offset; it needs AVX-512 but not VNNI, so at isa=avx512 the Q8_0
// product above stays generated and this one is a call.

#x = affine_map<(t, n, k) -> (t, k)>
#w = affine_map<(t, n, k) -> (n, k)>
#y = affine_map<(t, n, k) -> (t, n)>

// CHECK-LABEL: func.func @f16rows
// CHECK: memref.extract_strided_metadata %{{.+}} : memref<?x64xf16, strided<[64, 1], offset: ?>>
// CHECK: call @tlmrt_uk_f16_avx512
// CHECK-NOT: linalg.generic
// NONE-LABEL: func.func @f16rows
// NONE: linalg.generic
// AVX512-LABEL: func.func @rows
// AVX512: linalg.generic
// AVX512-SAME: tlmc.ukernel = "q8_0"
// AVX512-LABEL: func.func @f16rows
// AVX512: call @tlmrt_uk_f16_avx512

// AArch64's dot-product set has GGUF-block kernels and no float ones.
// NEON-LABEL: func.func @rows
// NEON: call @tlmrt_uk_q8_0_neondot
// NEON-LABEL: func.func @f16rows
// NEON: linalg.generic
// NEON-NOT: tlmrt_uk_f16
func.func @f16rows(%w: memref<1024xi8>, %arena: memref<1024xi8>, %begin: index, %end: index) {
  %c0 = arith.constant 0 : index
  %c256 = arith.constant 256 : index
  %x = memref.view %arena[%c0][] : memref<1024xi8> to memref<2x64xf32>
  %y0 = memref.view %arena[%c256][] : memref<1024xi8> to memref<2x4xf32>
  %all = memref.view %w[%c0][] : memref<1024xi8> to memref<4x64xf16>
  %count = arith.subi %end, %begin : index
  %rows = memref.subview %all[%begin, 0] [%count, 64] [1, 1] : memref<4x64xf16> to memref<?x64xf16, strided<[64, 1], offset: ?>>
  %y = memref.subview %y0[0, %begin] [2, %count] [1, 1] : memref<2x4xf32> to memref<2x?xf32, strided<[4, 1], offset: ?>>
  linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %rows : memref<2x64xf32>, memref<?x64xf16, strided<[64, 1], offset: ?>>)
      outs(%y : memref<2x?xf32, strided<[4, 1], offset: ?>>) attrs = {tlmc.ukernel = "f16"} {
  ^bb0(%a: f32, %b: f16, %acc: f32):
    %bf = arith.extf %b : f16 to f32
    %m = arith.mulf %a, %bf : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  return
}
