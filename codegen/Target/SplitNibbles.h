//===- SplitNibbles.h - packed int4 laid out for vector loads ------*- C++ -*-===//
//
// The compress dialect packs int4 values two per byte in feature order
// (feature 2j in the low nibble of byte j, 2j + 1 in the high one), so a
// product reading them pairs each byte with inputs at stride 2. Codegen
// stores them differently: per row, in chunks of 32 features, byte j of a
// chunk holds feature j in its low nibble and feature j + 16 in its high
// one (a last chunk of r < 32 features: j and j + r/2), so 16 bytes meet
// two runs of 16 contiguous inputs. Groups are multiples of 32 features,
// so no chunk straddles two scales. Needs an even row width.
//
//===----------------------------------------------------------------------===//

#ifndef TLMC_CODEGEN_TARGET_SPLITNIBBLES_H
#define TLMC_CODEGEN_TARGET_SPLITNIBBLES_H

#include "dialects/compress/IR/CompressDialect.h"

namespace tlmc {

constexpr int64_t kNibbleChunk = 32;

/// Whether `weight` is int4 with an even row width and groups that are
/// whole chunks (the layout above applies).
bool hasSplitNibbleLayout(mlir::compress::QuantizedWeightOp weight);

/// `weight`'s values in the layout above (rows x columns/2 bytes).
mlir::LogicalResult packSplitNibbles(mlir::compress::QuantizedWeightOp weight,
                                     llvm::MutableArrayRef<uint8_t> out);

} // namespace tlmc

#endif // TLMC_CODEGEN_TARGET_SPLITNIBBLES_H
