//===- TokenizerTables.h - the tables the runtime tokenizer reads -*- C++ -*-===//
//
// The runtime's tokenizers (runtime/src/Tokenizer.cpp, ByteLevelBPE.cpp)
// read four tables: token bytes, their offsets, ids sorted by text, and
// the merges as pairs of token ids by rank. The container writer stores
// them; the compiler's own uses of the runtime's code (calibration,
// `tlmc tokenize`) point a tokenizer view at the same tables, built by the
// same code.
//
//===----------------------------------------------------------------------===//

#ifndef TLMC_CODEGEN_TARGET_TOKENIZERTABLES_H
#define TLMC_CODEGEN_TARGET_TOKENIZERTABLES_H

#include "codegen/Target/TokenizerData.h"

#include <cstdint>
#include <vector>

namespace tlmc {

struct TokenizerTables {
  std::vector<uint8_t> bytes;
  /// Token i is bytes [offsets[i], offsets[i + 1]).
  std::vector<uint32_t> offsets;
  /// Token ids ordered by their text (then by id), for lookups.
  std::vector<uint32_t> sortedIds;
  /// Byte-level BPE: (left, right) token ids per merge, by rank; a merge
  /// whose parts or result are not tokens is left out (it never fires).
  std::vector<uint32_t> mergePairs;
  uint32_t maxTokenBytes = 0;
  /// The added tokens' ids ordered by their text, for longest-match lookup.
  std::vector<uint32_t> addedIds;

  explicit TokenizerTables(const TokenizerData &tokenizer);
};

} // namespace tlmc

#endif // TLMC_CODEGEN_TARGET_TOKENIZERTABLES_H
