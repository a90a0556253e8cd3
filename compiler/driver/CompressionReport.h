//===- CompressionReport.h - what compression cost, per weight ----*- C++ -*-===//

#ifndef TLMC_COMPILER_DRIVER_COMPRESSIONREPORT_H
#define TLMC_COMPILER_DRIVER_COMPRESSIONREPORT_H

#include "codegen/Target/WeightLayout.h"
#include "compiler/driver/Compress.h"

#include "llvm/Support/JSON.h"

namespace tlmc {

/// What compression did, per weight, per layer and in total (bytes of every
/// weight, before and after, from the attributes the passes leave), and
/// what each of `steps` changed. With `layout`, sparse weights count the
/// bytes of the layout codegen chose for them.
llvm::json::Object makeCompressionReport(mlir::ModuleOp module,
                                         const CompressionOptions &options,
                                         llvm::ArrayRef<CompressionStep> steps,
                                         const WeightLayout *layout = nullptr);

/// The report as a table.
void printCompressionReport(llvm::raw_ostream &os,
                            const llvm::json::Object &report);

/// The report's layers as an SVG picture: bytes before and after, and the
/// largest relative error of the layer's weights.
std::string plotCompressionReport(const llvm::json::Object &report);

} // namespace tlmc

#endif // TLMC_COMPILER_DRIVER_COMPRESSIONREPORT_H
