//===- Summary.h - what `tlmc inspect` prints about a model ------*- C++ -*-===//

#ifndef TLMC_COMPILER_IMPORT_COMMON_SUMMARY_H
#define TLMC_COMPILER_IMPORT_COMMON_SUMMARY_H

#include "compiler/import/common/ImportedModel.h"

#include "llvm/Support/raw_ostream.h"

namespace tlmc {

/// Name of a storage format as users know it ("f32", "q8_0", ...).
llvm::StringRef getFormatName(mlir::tlm::StorageFormat format);

/// Architecture, dimensions, parameter count, and per-dtype tensor counts
/// and bytes; with `listTensors`, one line per tensor.
void printSummary(llvm::raw_ostream &os, const ImportedModel &model,
                  bool listTensors);

} // namespace tlmc

#endif // TLMC_COMPILER_IMPORT_COMMON_SUMMARY_H
