//===- QuantizeInputs.h - f32 inputs to int8, as llama.cpp's q8_0 -*- C++ -*-===//
//
// The int8 kernels quantize the inputs they read per 32-column block: scale
// max|x| / 127 kept as f16, values x * 127 / max|x| rounded to nearest even.
// That is what llama.cpp does to the activations of a Q8_0/Q4_0 product,
// so the compiled model computes what llama.cpp computes on the same file,
// up to the order of the sums (test/e2e/peer.py checks it).
//
//===----------------------------------------------------------------------===//

#ifndef TLMRT_QUANTIZEINPUTS_H
#define TLMRT_QUANTIZEINPUTS_H

#if defined(__x86_64__)

#include <immintrin.h>
#include <stdint.h>

#define TLM_VNNI                                                               \
  __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,f16c,fma")))
#define TLM_VNNI_INLINE TLM_VNNI __attribute__((always_inline)) inline

namespace tlmrt {

/// Quantizes the 32 floats at `x` into `q`; returns their scale (f16-exact)
/// and, in `sum`, the sum of the 32 values (from registers: reading `q` back
/// right after its narrowing stores stalls on store forwarding).
TLM_VNNI_INLINE float quantizeBlock(const float *x, int8_t *q, int32_t &sum) {
  __m512 v0 = _mm512_loadu_ps(x);
  __m512 v1 = _mm512_loadu_ps(x + 16);
  __m512 magnitude = _mm512_max_ps(_mm512_abs_ps(v0), _mm512_abs_ps(v1));
  float amax = _mm512_reduce_max_ps(magnitude);
  float scale =
      _cvtsh_ss(_cvtss_sh(amax / 127.0f, _MM_FROUND_TO_NEAREST_INT));
  __m512 by = _mm512_set1_ps(amax != 0.0f ? 127.0f / amax : 0.0f);
  // Round to nearest (even), as the default MXCSR mode does.
  __m512i i0 = _mm512_cvtps_epi32(_mm512_mul_ps(v0, by));
  __m512i i1 = _mm512_cvtps_epi32(_mm512_mul_ps(v1, by));
  _mm_storeu_si128(reinterpret_cast<__m128i *>(q), _mm512_cvtepi32_epi8(i0));
  _mm_storeu_si128(reinterpret_cast<__m128i *>(q + 16),
                   _mm512_cvtepi32_epi8(i1));
  sum = _mm512_reduce_add_epi32(_mm512_add_epi32(i0, i1));
  return scale;
}

} // namespace tlmrt

#endif // __x86_64__

#endif // TLMRT_QUANTIZEINPUTS_H
