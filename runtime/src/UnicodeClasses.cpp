//===- UnicodeClasses.cpp - the character classes pre-tokenizers split on -*- C++ -*-===//

#include "runtime/src/UnicodeClasses.h"

using namespace tlmrt;

namespace {

struct CodePointRange {
  uint32_t first, last;
};

#include "runtime/src/UnicodeClassTables.inc"

template <size_t N>
bool contains(const CodePointRange (&ranges)[N], uint32_t cp) {
  size_t lo = 0, hi = N;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (ranges[mid].last < cp)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo < N && ranges[lo].first <= cp;
}

/// Unicode's White_Space property (what \s means to the regex engine HF
/// tokenizers use; JavaScript's \s differs in U+0085 and U+FEFF).
bool isWhiteSpace(uint32_t cp) {
  return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 ||
         cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) ||
         cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F ||
         cp == 0x3000;
}

} // namespace

CharClass tlmrt::classify(uint32_t cp) {
  if (cp < 0x80) {
    // ASCII without the tables: most text is.
    if ((cp | 0x20) >= 'a' && (cp | 0x20) <= 'z')
      return CharClass::Letter;
    if (cp >= '0' && cp <= '9')
      return CharClass::Number;
    if (cp == '\r' || cp == '\n')
      return CharClass::Newline;
    return isWhiteSpace(cp) ? CharClass::Space : CharClass::Other;
  }
  if (isWhiteSpace(cp))
    return CharClass::Space;
  if (contains(kLetterRanges, cp))
    return CharClass::Letter;
  if (contains(kNumberRanges, cp))
    return CharClass::Number;
  return CharClass::Other;
}

CodePoint tlmrt::decodeCodePoint(const unsigned char *s, size_t n) {
  unsigned char c = s[0];
  uint32_t length = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2
                                 : (c & 0xF0) == 0xE0 ? 3
                                 : (c & 0xF8) == 0xF0 ? 4
                                                      : 0;
  CodePoint invalid{c, 1, CharClass::Other};
  if (length == 1)
    return {c, 1, classify(c)};
  if (length == 0 || length > n)
    return invalid;
  uint32_t cp = c & (0x7F >> length);
  for (uint32_t i = 1; i < length; ++i) {
    if ((s[i] & 0xC0) != 0x80)
      return invalid;
    cp = (cp << 6) | (s[i] & 0x3F);
  }
  // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
  static const uint32_t smallest[5] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < smallest[length] || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
    return invalid;
  return {cp, length, classify(cp)};
}
