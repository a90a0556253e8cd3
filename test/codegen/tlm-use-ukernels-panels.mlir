// RUN: tlmc-opt %s --tlm-use-ukernels=isa=amx --split-input-file | %FileCheck %s --check-prefix=AMX
// RUN: tlmc-opt %s --tlm-use-ukernels=isa=avx512vnni --split-input-file | %FileCheck %s --check-prefix=VNNI
// RUN: tlmc-opt %s --tlm-use-ukernels="isa=avx512vnni hardware-prefetch=true" --split-input-file | %FileCheck %s --check-prefix=HWPF
// RUN: not tlmc-opt %s --tlm-use-ukernels=isa=avx512 --split-input-file 2>&1 | %FileCheck %s --check-prefix=NONE
// RUN: not tlmc-opt %s --tlm-use-ukernels --split-input-file 2>&1 | %FileCheck %s --check-prefix=NOISA

// A product on Q8_0 blocks packed in 16-row panels (codegen/Target/
// GGMLPanels.h) calls the AMX kernel where the target has AMX-INT8 and the
// VNNI one otherwise; the weights start at row `begin`'s panel (begin x 2
// blocks x 34 bytes: a panel is as many bytes as its rows' blocks). The
// generated body reads the file's layout, not the panels, so a target
// without int8 kernels is an error rather than a wrong product. A CPU that
// streams decode's weights faster on its hardware prefetchers alone
// (hardware-prefetch) calls the kernel's `_hwprefetch` twin.

#id = affine_map<(d0, d1) -> (d0, d1)>

// AMX: func.func private @tlmrt_uk_q8_0x16_amx(!llvm.ptr, i64, i64, !llvm.ptr, i64, i64, !llvm.ptr, i64)
// AMX-LABEL: func.func @panels
// AMX: %[[C68:.+]] = arith.constant 68 : index
// AMX: arith.muli %{{.+}}, %[[C68]]
// AMX: call @tlmrt_uk_q8_0x16_amx(
// AMX-NOT: linalg.generic
// VNNI: call @tlmrt_uk_q8_0x16_avx512vnni(
// VNNI-NOT: linalg.generic
// HWPF: call @tlmrt_uk_q8_0x16_avx512vnni_hwprefetch(
// HWPF-NOT: linalg.generic
// NONE: weights packed in panels need a runtime kernel, and none takes this product (the instruction set has none)
func.func @panels(%w: memref<2048xi8>, %arena: memref<4096xi8>, %begin: index, %end: index) {
  %c0 = arith.constant 0 : index
  %c512 = arith.constant 512 : index
  %x = memref.view %arena[%c0][] : memref<4096xi8> to memref<2x64xf32>
  %y0 = memref.view %arena[%c512][] : memref<4096xi8> to memref<2x32xf32>
  %blocks = memref.view %w[%c0][] : memref<2048xi8> to memref<2176xi8>
  %count = arith.subi %end, %begin : index
  %y = memref.subview %y0[0, %begin] [2, %count] [1, 1] : memref<2x32xf32> to memref<2x?xf32, strided<[32, 1], offset: ?>>
  linalg.generic {indexing_maps = [#id], iterator_types = ["parallel", "parallel"]}
      outs(%y : memref<2x?xf32, strided<[32, 1], offset: ?>>) attrs = {tlmc.ukernel = "q8_0x16"} {
  ^bb0(%out: f32):
    %t = linalg.index 0 : index
    %scale = vector.load %blocks[%c0] {tlmc.ukernel_weights} : memref<2176xi8>, vector<2xi8>
    %in = vector.load %x[%t, %c0] {tlmc.ukernel_input} : memref<2x64xf32>, vector<16xf32>
    %s = vector.reduction <add>, %in : vector<16xf32> into f32
    linalg.yield %s : f32
  }
  return
}

// -----

// f16 weights packed in 16-row panels (codegen/Target/FloatPanels.h) call
// the panel kernel on any AVX-512 level, with the weights narrowed to the
// thread's rows as for the row kernels; with no kernels at all it is an
// error.

#x = affine_map<(t, n, k) -> (t, k)>
#w = affine_map<(t, n, k) -> (n, k)>
#y = affine_map<(t, n, k) -> (t, n)>

// AMX-LABEL: func.func @f16panels
// AMX: call @tlmrt_uk_f16x16_avx512(
// AMX-NOT: linalg.generic
// NONE-LABEL: func.func @f16panels
// NONE: call @tlmrt_uk_f16x16_avx512(
// HWPF-LABEL: func.func @f16panels
// HWPF: call @tlmrt_uk_f16x16_avx512_hwprefetch(
// One error for the Q8_0 panels above, one for these.
// NOISA: weights packed in panels need a runtime kernel, and none takes this product (the instruction set has none)
// NOISA: weights packed in panels need a runtime kernel, and none takes this product (the instruction set has none)
func.func @f16panels(%w: memref<4096xi8>, %arena: memref<1024xi8>, %begin: index, %end: index) {
  %c0 = arith.constant 0 : index
  %c256 = arith.constant 256 : index
  %x = memref.view %arena[%c0][] : memref<1024xi8> to memref<2x40xf32>
  %y0 = memref.view %arena[%c256][] : memref<1024xi8> to memref<2x32xf32>
  %all = memref.view %w[%c0][] : memref<4096xi8> to memref<32x40xf16>
  %count = arith.subi %end, %begin : index
  %rows = memref.subview %all[%begin, 0] [%count, 40] [1, 1] : memref<32x40xf16> to memref<?x40xf16, strided<[40, 1], offset: ?>>
  %y = memref.subview %y0[0, %begin] [2, %count] [1, 1] : memref<2x32xf32> to memref<2x?xf32, strided<[32, 1], offset: ?>>
  linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %rows : memref<2x40xf32>, memref<?x40xf16, strided<[40, 1], offset: ?>>)
      outs(%y : memref<2x?xf32, strided<[32, 1], offset: ?>>) attrs = {tlmc.ukernel = "f16x16"} {
  ^bb0(%a: f32, %b: f16, %acc: f32):
    %bf = arith.extf %b : f16 to f32
    %m = arith.mulf %a, %bf : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// bf16 and f32 weights in panels call their own kernels the same way, the
// weights narrowed to the thread's rows (2 and 4 bytes a value).

#x = affine_map<(t, n, k) -> (t, k)>
#w = affine_map<(t, n, k) -> (n, k)>
#y = affine_map<(t, n, k) -> (t, n)>

// AMX-LABEL: func.func @bf16panels
// AMX: call @tlmrt_uk_bf16x16_avx512(
// AMX-NOT: linalg.generic
// NONE-LABEL: func.func @bf16panels
// NONE: call @tlmrt_uk_bf16x16_avx512(
// HWPF-LABEL: func.func @bf16panels
// HWPF: call @tlmrt_uk_bf16x16_avx512_hwprefetch(
// NOISA: weights packed in panels need a runtime kernel, and none takes this product (the instruction set has none)
func.func @bf16panels(%w: memref<4096xi8>, %arena: memref<1024xi8>, %begin: index, %end: index) {
  %c0 = arith.constant 0 : index
  %c256 = arith.constant 256 : index
  %x = memref.view %arena[%c0][] : memref<1024xi8> to memref<2x40xf32>
  %y0 = memref.view %arena[%c256][] : memref<1024xi8> to memref<2x32xf32>
  %all = memref.view %w[%c0][] : memref<4096xi8> to memref<32x40xbf16>
  %count = arith.subi %end, %begin : index
  %rows = memref.subview %all[%begin, 0] [%count, 40] [1, 1] : memref<32x40xbf16> to memref<?x40xbf16, strided<[40, 1], offset: ?>>
  %y = memref.subview %y0[0, %begin] [2, %count] [1, 1] : memref<2x32xf32> to memref<2x?xf32, strided<[32, 1], offset: ?>>
  linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %rows : memref<2x40xf32>, memref<?x40xbf16, strided<[40, 1], offset: ?>>)
      outs(%y : memref<2x?xf32, strided<[32, 1], offset: ?>>) attrs = {tlmc.ukernel = "bf16x16"} {
  ^bb0(%a: f32, %b: bf16, %acc: f32):
    %bf = arith.extf %b : bf16 to f32
    %m = arith.mulf %a, %bf : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  return
}

// -----

#x = affine_map<(t, n, k) -> (t, k)>
#w = affine_map<(t, n, k) -> (n, k)>
#y = affine_map<(t, n, k) -> (t, n)>

// AMX-LABEL: func.func @f32panels
// AMX: %[[C4:.+]] = arith.constant 4 : index
// AMX: arith.muli %{{.+}}, %[[C4]]
// AMX: call @tlmrt_uk_f32x16_avx512(
// AMX-NOT: linalg.generic
// NONE-LABEL: func.func @f32panels
// NONE: call @tlmrt_uk_f32x16_avx512(
// HWPF-LABEL: func.func @f32panels
// HWPF: call @tlmrt_uk_f32x16_avx512_hwprefetch(
// NOISA: weights packed in panels need a runtime kernel, and none takes this product (the instruction set has none)
func.func @f32panels(%w: memref<8192xi8>, %arena: memref<1024xi8>, %begin: index, %end: index) {
  %c0 = arith.constant 0 : index
  %c256 = arith.constant 256 : index
  %x = memref.view %arena[%c0][] : memref<1024xi8> to memref<2x40xf32>
  %y0 = memref.view %arena[%c256][] : memref<1024xi8> to memref<2x32xf32>
  %all = memref.view %w[%c0][] : memref<8192xi8> to memref<32x40xf32>
  %count = arith.subi %end, %begin : index
  %rows = memref.subview %all[%begin, 0] [%count, 40] [1, 1] : memref<32x40xf32> to memref<?x40xf32, strided<[40, 1], offset: ?>>
  %y = memref.subview %y0[0, %begin] [2, %count] [1, 1] : memref<2x32xf32> to memref<2x?xf32, strided<[32, 1], offset: ?>>
  linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %rows : memref<2x40xf32>, memref<?x40xf32, strided<[40, 1], offset: ?>>)
      outs(%y : memref<2x?xf32, strided<[32, 1], offset: ?>>) attrs = {tlmc.ukernel = "f32x16"} {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  return
}
