//===- FloatPanels.h - float weights packed in 16-row panels --*- C++ -*-===//
//
// The layout the runtime's float panel kernels read (tlmrt_uk_f16x16_avx512,
// tlmrt_uk_bf16x16_avx512 and tlmrt_uk_f32x16_avx512 in
// runtime/src/ProductKernels.h): per 16-row panel, column after column, the
// 16 rows' values of that column (32 bytes of f16 or bf16, 64 of f32). One
// load (and widening) is a column of 16 rows, an FMA per token adds it into
// 16 outputs: no horizontal sums, one sequential stream per panel. The
// bytes are the file's, reordered; the slot keeps the weight's name and
// type (rows x columns), so thread splits at multiples of 16 rows start at
// a panel. (bf16 weights, Hugging Face's usual format, had no kernel
// before: their generated products ran SmolLM2-135M's prefill at 0.4x
// llama.cpp's; f32 ones had only the row kernel, whose decode read 37% of
// the bandwidth roofline.)
//
// Codegen packs a weight this way only when the target has the kernels
// (tlm-use-ukernels refuses to leave such a product to the generated
// code) and nothing reads it but products and embedding lookups, which
// know the layout (a tied classifier's table). Rows that are not a
// multiple of 16 (stories260K's 172-wide FFN) end in a last panel padded
// with zero rows, which the kernels compute and do not store, when the
// padding is at most a sixteenth of the rows; only products read such a
// weight (a lookup's index math assumes whole panels).
//
//===----------------------------------------------------------------------===//

#ifndef TLMC_CODEGEN_TARGET_FLOATPANELS_H
#define TLMC_CODEGEN_TARGET_FLOATPANELS_H

#include "dialects/tlm/IR/TLMOps.h"

#include "mlir/IR/BuiltinOps.h"

namespace tlmc {

/// Rows per panel, as in GGMLPanels.h.
constexpr int64_t kFloatPanelRows = 16;

/// Whether `weight` (f16, bf16 or f32) can be packed as above: `module`
/// reads it only as the weights of products and, when its rows are a
/// multiple of 16, as an embedding table; padding it to whole panels adds
/// at most a sixteenth of its rows.
bool hasFloatPanelLayout(mlir::tlm::WeightOp weight, mlir::ModuleOp module);

/// `rows` rounded up to whole panels: the rows a packed weight stores.
constexpr int64_t getFloatPanelRows(int64_t rows) {
  return (rows + kFloatPanelRows - 1) / kFloatPanelRows * kFloatPanelRows;
}

/// Packs `rows` x `columns` values of `elementBytes` bytes each (row-major)
/// as above into `out`, getFloatPanelRows(rows) x `columns` values (the
/// last panel's missing rows zeros).
mlir::LogicalResult packFloatPanels(llvm::ArrayRef<char> values,
                                    int64_t elementBytes, int64_t rows,
                                    int64_t columns,
                                    llvm::MutableArrayRef<char> out);

} // namespace tlmc

#endif // TLMC_CODEGEN_TARGET_FLOATPANELS_H
