//===- UnicodeClasses.h - the character classes pre-tokenizers split on -*- C++ -*-===//
//
// Byte-level BPE tokenizers split text with regexes over Unicode classes:
// \p{L} (letters), \p{N} (numbers), \s (White_Space), and CR/LF on their
// own. This decodes UTF-8 one code point at a time and classifies it from
// range tables (UnicodeClassTables.inc, generated). Bytes that are not
// valid UTF-8 stand for themselves, one at a time, as `Other`.
//
//===----------------------------------------------------------------------===//

#ifndef TLMC_RUNTIME_SRC_UNICODECLASSES_H
#define TLMC_RUNTIME_SRC_UNICODECLASSES_H

#include <cstddef>
#include <cstdint>

namespace tlmrt {

enum class CharClass : uint8_t {
  Letter,  ///< \p{L}
  Number,  ///< \p{N}
  Newline, ///< \r or \n (also \s)
  Space,   ///< \s other than \r and \n
  Other,   ///< everything else, and invalid UTF-8 bytes
};

struct CodePoint {
  uint32_t value; ///< the code point, or the byte of an invalid sequence
  uint32_t length; ///< bytes it takes in the text (1 to 4)
  CharClass cls;
};

/// The code point starting at `s[0]` of the `n` (> 0) bytes at `s`.
CodePoint decodeCodePoint(const unsigned char *s, size_t n);

/// The class of a valid code point.
CharClass classify(uint32_t cp);

/// Whether the `n` bytes at `s` are in Unicode Normalization Form C, decided
/// exactly (NfcCheck.cpp). Invalid UTF-8 bytes count as starters that
/// compose with nothing.
bool isNFC(const unsigned char *s, size_t n);

} // namespace tlmrt

#endif // TLMC_RUNTIME_SRC_UNICODECLASSES_H
