//===- SparseBlocks.h - a sparse weight in 32-feature blocks -------*- C++ -*-===//
//
// A layout codegen may choose for a CSR weight on targets with a two-source
// permute of 16 floats (AVX-512's vpermi2ps): every row is cut into blocks
// of 32 input features, and a block keeps up to 16 stored values (zero
// padded) with, per value, the index of its feature inside the block. The
// generated code loads a block's 32 inputs into two registers, picks each
// value's input with one permute and accumulates with one FMA: 2:4 and 4:8
// rows then cost about what half as many dense weights do, where the CSR
// loop pays a gather per value. A weight fits when no block of any row
// holds more than 16 values; N:M pruning with N/M = 1/2 always does.
//
//===----------------------------------------------------------------------===//

#ifndef TLMC_CODEGEN_TARGET_SPARSEBLOCKS_H
#define TLMC_CODEGEN_TARGET_SPARSEBLOCKS_H

#include "dialects/compress/IR/CompressDialect.h"

#include <cstdint>
#include <optional>

namespace tlmc {

constexpr int64_t kSparseBlockFeatures = 32;
constexpr int64_t kSparseBlockValues = 16;

/// Blocks per row (ceil(in / 32)) if `weight` fits the layout.
std::optional<int64_t>
getSparseBlocksPerRow(mlir::compress::SparseWeightOp weight);

/// `weight` in the block layout: `values` (rows x blocks x 16 floats) and
/// `indices` (the same count of bytes, each in [0, 32)). Padding is value
/// 0 at index 0, which is inside every block. Both sized by the caller.
mlir::LogicalResult packSparseBlocks(mlir::compress::SparseWeightOp weight,
                                     llvm::MutableArrayRef<float> values,
                                     llvm::MutableArrayRef<uint8_t> indices);

} // namespace tlmc

#endif // TLMC_CODEGEN_TARGET_SPARSEBLOCKS_H
