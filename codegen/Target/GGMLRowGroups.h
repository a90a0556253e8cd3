//===- GGMLRowGroups.h - GGUF Q8_0/Q4_0 blocks packed four rows at a time -===//
//
// The layout the runtime's VNNI kernels read fastest (tlmrt_uk_q*_0x4_* in
// runtime/src/ProductKernels.h): one stream of 4-row groups. Per group and
// per 64 columns (two GGUF blocks):
//
//   Q8_0: 4 x 64 bytes, row after row, each weight w stored as w + 128;
//   Q4_0: 4 x 32 bytes, row after row, nibbles as the file has them
//         (0..15, the weight + 8);
//   then 8 f16 scales: row 0 block 0, row 0 block 1, row 1 block 0, ...
//
// Within a row's 64 values the order is the kernels' dot-product lanes: lane
// l (4 bytes) holds block l % 2's values 4 * (l / 2) .. + 3, so one
// broadcast of a row's two scales (vcvtph2ps) matches the lanes. Q4_0 byte k
// holds position k in its low nibble and position k + 32 in its high one.
// The bytes are exactly as many as the file's (34 or 18 per 32 weights); a
// decode step reads them as one sequential stream instead of one per row.
//
// Codegen packs a weight this way only when the target's kernels will read
// it (tlm-use-ukernels refuses to leave such a product to the generated
// code) and nothing else reads it but an embedding lookup, which knows the
// layout (a tied classifier's table): rows a multiple of 4, columns of 64.
//
//===----------------------------------------------------------------------===//

#ifndef TLMC_CODEGEN_TARGET_GGMLROWGROUPS_H
#define TLMC_CODEGEN_TARGET_GGMLROWGROUPS_H

#include "dialects/compress/IR/CompressDialect.h"

#include "mlir/IR/BuiltinOps.h"

namespace tlmc {

constexpr int64_t kRowGroupRows = 4;

/// Whether `weight` (GGUF Q8_0/Q4_0 blocks) can be packed as above: its
/// shape fits and `module` reads it only through products and lookups.
bool hasGGMLRowGroupLayout(mlir::compress::QuantizedWeightOp weight,
                           mlir::ModuleOp module);

/// Packs GGUF blocks (`rows` x `columns` weights, 8 or 4 bits) as above.
/// `out` has the same size as `blocks`.
mlir::LogicalResult packGGMLRowGroups(llvm::ArrayRef<uint8_t> blocks,
                                      int64_t rows, int64_t columns, int bits,
                                      llvm::MutableArrayRef<uint8_t> out);

/// `weight`'s blocks packed as above.
mlir::LogicalResult packGGMLRowGroups(mlir::compress::QuantizedWeightOp weight,
                                      llvm::MutableArrayRef<uint8_t> out);

} // namespace tlmc

#endif // TLMC_CODEGEN_TARGET_GGMLROWGROUPS_H
