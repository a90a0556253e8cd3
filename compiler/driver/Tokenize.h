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

/// Prints what the runtime's tokenizer code makes of `input` with the
/// tokenizer in `tokenizerPath` (a `tokenizer.json`, a GGUF or a llama2.c
/// `tok*.bin`), as `output` says. With `chat`, `input` is a conversation
/// (a JSON array of {"role", "content"}) that is first put in the
/// tokenizer's chat format by the runtime's code (tlm_chat_format).
llvm::Error printTokens(llvm::StringRef tokenizerPath, llvm::StringRef input,
                        TokenOutput output, bool addBos, bool chat,
                        llvm::raw_ostream &os);

} // namespace tlmc

#endif // TLMC_COMPILER_DRIVER_TOKENIZE_H
