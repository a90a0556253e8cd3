//===- GGMLPanels.h - GGUF Q8_0/Q4_0 blocks packed in 16-row panels -------===//
//
// The layout the runtime's int8 kernels read (tlmrt_uk_q*_0x16_* in
// runtime/src/ProductKernels.h): one stream of 16-row panels. Per panel and
// per 32-column block (GGUF block), its 16 rows' weights as 8 groups of 4
// columns; in each group, row after row, the row's 4 weights:
//
//   Q8_0: 8 x 64 bytes, each weight w stored as w + 128;
//   Q4_0: 4 x 64 bytes, byte (row, i) of group g holding column 4g + i in
//         its low nibble and column 16 + 4g + i in its high one, as the
//         file's nibbles (w + 8) -- so group g is byte 4g .. 4g + 3 of each
//         row's GGUF block;
//   then the 16 rows' f16 scales.
//
// A group's 64 bytes are one register of a VNNI dot product with all 16
// rows in its lanes and one row of an AMX B tile, so a decode step reads
// one sequential stream and a prefill tile loads the weights as stored.
// The bytes are exactly as many as the file's (34 or 18 per 32 weights).
//
// Codegen packs a weight this way only when the target's kernels will read
// it (tlm-use-ukernels refuses to leave such a product to the generated
// code) and nothing else reads it but an embedding lookup, which knows the
// layout (a tied classifier's table): rows a multiple of 16.
//
//===----------------------------------------------------------------------===//

#ifndef TLMC_CODEGEN_TARGET_GGMLPANELS_H
#define TLMC_CODEGEN_TARGET_GGMLPANELS_H

#include "dialects/compress/IR/CompressDialect.h"

#include "mlir/IR/BuiltinOps.h"

namespace tlmc {

constexpr int64_t kPanelRows = 16;

/// Whether `weight` (GGUF Q8_0/Q4_0 blocks) can be packed as above: its
/// shape fits and `module` reads it only through products and lookups.
bool hasGGMLPanelLayout(mlir::compress::QuantizedWeightOp weight,
                        mlir::ModuleOp module);

/// Packs GGUF blocks (`rows` x `columns` weights, 8 or 4 bits) as above.
/// `out` has the same size as `blocks`.
mlir::LogicalResult packGGMLPanels(llvm::ArrayRef<uint8_t> blocks,
                                   int64_t rows, int64_t columns, int bits,
                                   llvm::MutableArrayRef<uint8_t> out);

} // namespace tlmc

#endif // TLMC_CODEGEN_TARGET_GGMLPANELS_H
