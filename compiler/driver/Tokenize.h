//===- Tokenize.h - tlmc tokenize ---------------------------------*- C++ -*-===//

#ifndef TLMC_COMPILER_DRIVER_TOKENIZE_H
#define TLMC_COMPILER_DRIVER_TOKENIZE_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/raw_ostream.h"

namespace tlmc {

/// Prints what the runtime's tokenizer code makes of `text` with the
/// tokenizer in `tokenizerPath` (a `tokenizer.json`, a GGUF or a llama2.c
/// `tok*.bin`): the ids on one line, or with `pieces` one `ID<TAB>PIECE`
/// line per token (the piece's bytes, control bytes escaped).
llvm::Error printTokens(llvm::StringRef tokenizerPath, llvm::StringRef text,
                        bool pieces, bool addBos, llvm::raw_ostream &os);

} // namespace tlmc

#endif // TLMC_COMPILER_DRIVER_TOKENIZE_H
