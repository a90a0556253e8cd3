//===- Tokenize.h - tlmc tokenize ---------------------------------*- C++ -*-===//

#ifndef TLMC_COMPILER_DRIVER_TOKENIZE_H
#define TLMC_COMPILER_DRIVER_TOKENIZE_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/raw_ostream.h"

namespace tlmc {

enum class TokenOutput {
  Ids,    ///< the ids on one line
  Pieces, ///< one `ID<TAB>PIECE` line per token, control bytes escaped
  Text,   ///< the text the ids decode to (the round trip), as it is
};

/// Prints what the runtime's tokenizer code makes of `text` with the
/// tokenizer in `tokenizerPath` (a `tokenizer.json`, a GGUF or a llama2.c
/// `tok*.bin`), as `output` says.
llvm::Error printTokens(llvm::StringRef tokenizerPath, llvm::StringRef text,
                        TokenOutput output, bool addBos,
                        llvm::raw_ostream &os);

} // namespace tlmc

#endif // TLMC_COMPILER_DRIVER_TOKENIZE_H
