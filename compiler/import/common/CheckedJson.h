//===- CheckedJson.h - JSON from untrusted files ------------------*- C++ -*-===//
//
// llvm::json::parse is a fine parser for trusted text, but two properties
// of hostile text get past it: it recurses once per nesting level (a file of
// a million '[' exhausts the stack) and it keeps the last of duplicate keys
// (two "model.embed_tokens.weight" entries in a safetensors header, one of
// them silently ignored). A scan refuses both before the parser runs.
//
//===----------------------------------------------------------------------===//

#ifndef TLMC_COMPILER_IMPORT_COMMON_CHECKEDJSON_H
#define TLMC_COMPILER_IMPORT_COMMON_CHECKEDJSON_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"

#include <cstdint>

namespace tlmc {

/// Deeper nesting is refused. Real configs and tokenizers nest four or
/// five levels.
constexpr unsigned kMaxJsonDepth = 64;

/// Parses `text` as JSON after refusing nesting deeper than kMaxJsonDepth
/// and duplicate keys in any object. Errors name `file`, and offsets in it
/// (`text` starts at `offsetInFile`, e.g. 8 for a safetensors header, whose
/// errors say `what` = "JSON header").
llvm::Expected<llvm::json::Value>
parseCheckedJson(llvm::StringRef file, llvm::StringRef text,
                 uint64_t offsetInFile = 0, llvm::StringRef what = "JSON");

} // namespace tlmc

#endif // TLMC_COMPILER_IMPORT_COMMON_CHECKEDJSON_H
