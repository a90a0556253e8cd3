//===- FloatPanels.h - f16 weights packed in 16-row panels ----*- C++ -*-===//
//
// The layout the runtime's f16 kernel reads (tlmrt_uk_f16x16_avx512 in
// runtime/src/ProductKernels.h): per 16-row panel, column after column, the
// 16 rows' f16 values of that column (32 bytes). One load and conversion
// is a column of 16 rows, an FMA per token adds it into 16 outputs: no
// horizontal sums, one sequential stream per panel. The bytes are the
// file's, reordered; the slot keeps the weight's name and type (rows x
// columns f16), so thread splits at multiples of 16 rows start at a panel.
//
// Codegen packs a weight this way only when the target has the kernels
// (tlm-use-ukernels refuses to leave such a product to the generated
// code) and nothing reads it but products and embedding lookups, which
// know the layout (a tied classifier's table).
//
//===----------------------------------------------------------------------===//

#ifndef TLMC_CODEGEN_TARGET_FLOATPANELS_H
#define TLMC_CODEGEN_TARGET_FLOATPANELS_H

#include "dialects/tlm/IR/TLMOps.h"

#include "mlir/IR/BuiltinOps.h"

namespace tlmc {

/// Rows per panel, as in GGMLPanels.h.
constexpr int64_t kFloatPanelRows = 16;

/// Whether `weight` (f16, rows a multiple of 16) can be packed as above:
/// `module` reads it only as the weights of products and as an embedding
/// table.
bool hasF16PanelLayout(mlir::tlm::WeightOp weight, mlir::ModuleOp module);

/// Packs `rows` x `columns` f16 values (row-major) as above into `out`
/// (same size).
mlir::LogicalResult packF16Panels(llvm::ArrayRef<uint16_t> values,
                                  int64_t rows, int64_t columns,
                                  llvm::MutableArrayRef<uint16_t> out);

} // namespace tlmc

#endif // TLMC_CODEGEN_TARGET_FLOATPANELS_H
