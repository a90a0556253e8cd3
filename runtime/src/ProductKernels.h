//===- ProductKernels.h - hand-written products compiled code calls ---*- C -*-===//
//
// Micro-kernels the compiler selects per target (tlm-use-ukernels) and calls
// by name from the generated object; the runtime library carries them. Each
// computes output rows [0, rows) of y = x * W^T for `tokens` input rows:
//
//   x        tokens x columns f32, row r at x + r * xStride
//   blocks   GGUF blocks of the first output row to compute (row after row,
//            columns / 32 blocks each), exactly as in the model file
//   y        tokens x rows f32, token t's outputs at y + t * yStride
//
// The caller splits output rows across threads; each call quantizes the
// inputs it reads to int8 itself (once per call, shared by all its rows):
// per 32 columns, scale max|x| / 127 rounded to f16, values x * 127 / max|x|
// rounded to nearest even (llama.cpp's q8_0 inputs).
// A row's result does not depend on how rows or tokens were split, so
// outputs are identical for any thread count and between prefill and
// decode.
//
// codegen/Transforms/UseUKernels.cpp emits the calls (and, with
// codegen/Target/GGMLPanels.cpp, reads TLMRT_UK_MAX_COLUMNS from here).
//
//===----------------------------------------------------------------------===//

#ifndef TLMRT_PRODUCTKERNELS_H
#define TLMRT_PRODUCTKERNELS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Every kernel's signature (the layout of x, blocks and y above).
typedef void tlmrt_product_kernel(const float *x, int64_t xStride,
                                  int64_t tokens, const uint8_t *blocks,
                                  int64_t rows, int64_t columns, float *y,
                                  int64_t yStride);

/// The widest `columns` the int8 kernels take (their quantized inputs live
/// on the stack, 2 bytes per column per token).
#define TLMRT_UK_MAX_COLUMNS 32768

#if defined(__x86_64__)
/// GGUF Q8_0 / Q4_0 weights times int8-quantized inputs with AVX-512 VNNI
/// (vpdpbusd); needs AVX512F/BW/VL/VNNI and F16C.
tlmrt_product_kernel tlmrt_uk_q8_0_avx512vnni;
tlmrt_product_kernel tlmrt_uk_q4_0_avx512vnni;
/// f16 or f32 weights (`blocks`: the first row's `columns` values, rows
/// contiguous), f32 inputs and sums, no quantization; columns a multiple of
/// 16. Needs AVX512F and F16C.
tlmrt_product_kernel tlmrt_uk_f16_avx512;
tlmrt_product_kernel tlmrt_uk_f32_avx512;
/// f16, bf16 or f32 weights packed in 16-row panels
/// (codegen/Target/FloatPanels.h): rows and `blocks` start at a multiple of
/// 16 rows; any column count. Needs AVX512F and F16C.
tlmrt_product_kernel tlmrt_uk_f16x16_avx512;
tlmrt_product_kernel tlmrt_uk_bf16x16_avx512;
tlmrt_product_kernel tlmrt_uk_f32x16_avx512;
/// The same without the decode stream's software prefetch (every panel
/// kernel has such a `_hwprefetch` twin): for CPUs whose hardware
/// prefetchers stream faster alone (codegen's prefersHardwarePrefetch).
/// Bitwise the same outputs.
tlmrt_product_kernel tlmrt_uk_f16x16_avx512_hwprefetch;
tlmrt_product_kernel tlmrt_uk_bf16x16_avx512_hwprefetch;
tlmrt_product_kernel tlmrt_uk_f32x16_avx512_hwprefetch;

/// The same products on weights codegen packed in 16-row panels
/// (codegen/Target/GGMLPanels.h): rows and `blocks` start at a multiple of
/// 16 rows. The _amx kernels compute whole 16-token tiles with AMX tiles
/// (and need AMX-INT8 besides the VNNI kernels' features), the rest with
/// VNNI.
tlmrt_product_kernel tlmrt_uk_q8_0x16_avx512vnni;
tlmrt_product_kernel tlmrt_uk_q4_0x16_avx512vnni;
tlmrt_product_kernel tlmrt_uk_q8_0x16_amx;
tlmrt_product_kernel tlmrt_uk_q4_0x16_amx;
/// The float kernels above on CPUs with AVX2, FMA and F16C but no AVX-512
/// (the panel ones bitwise the AVX-512 ones' outputs).
tlmrt_product_kernel tlmrt_uk_f16_avx2;
tlmrt_product_kernel tlmrt_uk_f32_avx2;
tlmrt_product_kernel tlmrt_uk_f16x16_avx2;
tlmrt_product_kernel tlmrt_uk_bf16x16_avx2;
tlmrt_product_kernel tlmrt_uk_f32x16_avx2;
tlmrt_product_kernel tlmrt_uk_f16x16_avx2_hwprefetch;
tlmrt_product_kernel tlmrt_uk_bf16x16_avx2_hwprefetch;
tlmrt_product_kernel tlmrt_uk_f32x16_avx2_hwprefetch;
/// The GGUF panels on those CPUs (vpmaddubsw and vpmaddwd on 256-bit
/// registers), bitwise the VNNI kernels' outputs.
tlmrt_product_kernel tlmrt_uk_q8_0x16_avx2;
tlmrt_product_kernel tlmrt_uk_q4_0x16_avx2;
/// Their `_hwprefetch` twins (see tlmrt_uk_f16x16_avx512_hwprefetch).
tlmrt_product_kernel tlmrt_uk_q8_0x16_avx2_hwprefetch;
tlmrt_product_kernel tlmrt_uk_q4_0x16_avx2_hwprefetch;
tlmrt_product_kernel tlmrt_uk_q8_0x16_avx512vnni_hwprefetch;
tlmrt_product_kernel tlmrt_uk_q4_0x16_avx512vnni_hwprefetch;
tlmrt_product_kernel tlmrt_uk_q8_0x16_amx_hwprefetch;
tlmrt_product_kernel tlmrt_uk_q4_0x16_amx_hwprefetch;
#endif

#if defined(__aarch64__)
/// GGUF Q8_0 / Q4_0 weights times int8-quantized inputs with the Armv8.2
/// dot product (sdot); needs the dotprod extension.
tlmrt_product_kernel tlmrt_uk_q8_0_neondot;
tlmrt_product_kernel tlmrt_uk_q4_0_neondot;
/// The same with the Armv8.6 int8 matrix multiply (smmla) for pairs of rows
/// and tokens (prefill); bitwise the same results. Needs dotprod and i8mm.
tlmrt_product_kernel tlmrt_uk_q8_0_neoni8mm;
tlmrt_product_kernel tlmrt_uk_q4_0_neoni8mm;
#endif

#ifdef __cplusplus
}
#endif

#endif // TLMRT_PRODUCTKERNELS_H
