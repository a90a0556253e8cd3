//===- PaddedPanel.h - the last panel of a weight padded to 16 rows -*- C++ -*-===//
//
// Codegen packs a float weight whose rows are not a multiple of 16 with its
// last panel padded by zero rows (codegen/Target/FloatPanels.h). The panel
// kernels compute that panel as a whole one, a token at a time (the
// arithmetic decode runs, so prefill and decode agree there too), into a
// buffer of which only the weight's rows are stored: the rows past them
// are another product's outputs, or past the arena's view.
//
//===----------------------------------------------------------------------===//

#ifndef TLMRT_PADDEDPANEL_H
#define TLMRT_PADDEDPANEL_H

#include <stdint.h>

namespace tlmrt {

/// Rows per panel (the kernels' and codegen's).
constexpr int64_t kPaddedPanelRows = 16;

/// For each of `tokens` tokens (token t's inputs at x + t * xStride), the
/// padded panel's outputs through `tile(inputs, out)`, which writes 16
/// floats to `out`; the first `rows` of them go to y + t * yStride.
template <typename Tile>
inline void computePaddedPanel(int64_t rows, int64_t tokens, const float *x,
                               int64_t xStride, float *y, int64_t yStride,
                               Tile tile) {
  alignas(64) float out[kPaddedPanelRows];
  for (int64_t t = 0; t < tokens; ++t) {
    tile(x + t * xStride, out);
    for (int64_t r = 0; r < rows; ++r)
      y[t * yStride + r] = out[r];
  }
}

} // namespace tlmrt

#endif // TLMRT_PADDEDPANEL_H
