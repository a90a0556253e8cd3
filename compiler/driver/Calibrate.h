//===- Calibrate.h - activation statistics for calibration-aware passes -*- C++ -*-===//

#ifndef TLMC_COMPILER_DRIVER_CALIBRATE_H
#define TLMC_COMPILER_DRIVER_CALIBRATE_H

#include "compiler/import/common/ImportedModel.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Error.h"

#include <vector>

namespace tlmc {

/// For every linear weight W (in x out), the sum over calibration positions
/// of x x^T of W's input x (in x in, row-major): what GPTQ needs.
using HessianMap = llvm::StringMap<std::vector<double>>;

/// Runs `model` in f32 (a plain reference forward pass, the same math as the
/// compiled code) over `textPath`, split into paragraphs at blank lines,
/// each from position 0 after BOS, tokenized by the runtime's own tokenizer
/// code, and accumulates each linear input's x x^T. At most `maxTokens`
/// positions are used.
llvm::Expected<HessianMap> collectHessians(const ImportedModel &model,
                                           llvm::StringRef textPath,
                                           int64_t maxTokens = 8192);

} // namespace tlmc

#endif // TLMC_COMPILER_DRIVER_CALIBRATE_H
