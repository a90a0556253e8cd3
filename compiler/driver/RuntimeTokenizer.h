//===- RuntimeTokenizer.h - the device's tokenizer code, in the compiler -*- C++ -*-===//
//
// What a device computes for a text is what the runtime's tokenizer code
// computes: the compiler runs that same code (linked from libtlmrt) over
// tables built as the container writer builds them, for calibration text
// and for `tlmc tokenize`.
//
//===----------------------------------------------------------------------===//

#ifndef TLMC_COMPILER_DRIVER_RUNTIMETOKENIZER_H
#define TLMC_COMPILER_DRIVER_RUNTIMETOKENIZER_H

#include "codegen/Target/TokenizerTables.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <memory>
#include <string>
#include <vector>

namespace tlmc {

class RuntimeTokenizer {
public:
  /// The runtime's tokenizer over `tokenizer` (SentencePiece or GPT-2
  /// byte-level); fails as the runtime would refuse it at session open.
  static llvm::Expected<std::unique_ptr<RuntimeTokenizer>>
  create(const TokenizerData &tokenizer, int32_t bos);
  ~RuntimeTokenizer();

  /// The token ids of `text` (BOS first when `addBos`); fails where the
  /// runtime's tlm_tokenize would (text not in NFC for a tokenizer that
  /// normalizes to it).
  llvm::Expected<std::vector<int32_t>> encode(llvm::StringRef text,
                                              bool addBos) const;

  /// What token `id` spells: its bytes (a byte-level token decoded, a
  /// SentencePiece byte token <0xXX> as that byte).
  std::string piece(int32_t id) const;

private:
  RuntimeTokenizer(const TokenizerData &tokenizer, int32_t bos);
  struct Impl;
  std::unique_ptr<Impl> impl;
};

} // namespace tlmc

#endif // TLMC_COMPILER_DRIVER_RUNTIMETOKENIZER_H
