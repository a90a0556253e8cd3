//===- RopeScaling.cpp - Llama-3's RoPE frequency factors -------------*- C++ -*-===//
//
// Llama-3 stretches RoPE for long contexts by dividing each pair's frequency
// by a factor: 1 for wavelengths shorter than original_context /
// high_freq_factor, `factor` for those longer than original_context /
// low_freq_factor, and a smooth blend between. GGUF files carry the factors
// as the `rope_freqs` tensor; config.json carries the four parameters.
//
//===----------------------------------------------------------------------===//

#include "compiler/import/common/ImportedModel.h"

#include <cmath>

using namespace tlmc;

std::vector<float> Llama3RopeScaling::getFreqFactors(float theta,
                                                     int64_t headDim) const {
  double lowWavelength = double(originalContext) / lowFreqFactor;
  double highWavelength = double(originalContext) / highFreqFactor;
  std::vector<float> factors;
  for (int64_t i = 0; i < headDim; i += 2) {
    // The frequency in f32, as the reference computes it.
    float freq = 1.0f / std::pow(theta, float(i) / float(headDim));
    double wavelength = 2 * M_PI / freq;
    if (wavelength < highWavelength) {
      factors.push_back(1.0f);
    } else if (wavelength > lowWavelength) {
      factors.push_back(factor);
    } else {
      double smooth = (originalContext / wavelength - lowFreqFactor) /
                      (highFreqFactor - lowFreqFactor);
      factors.push_back(float(1.0 / ((1 - smooth) / factor + smooth)));
    }
  }
  return factors;
}
