//===- PreTokenizer.cpp - byte-level BPE's split of text into words --*- C++ -*-===//
//
// GPT-2:
//   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// Llama-3 (Qwen2: \p{N} instead of \p{N}{1,3}):
//   (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
//   ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
// SmolLM (HF Digits(individual_digits) then ByteLevel's GPT-2 pattern):
//   every \p{N} alone; GPT-2's pattern on the text between.
// The first alternative that matches at the position wins, each as long as
// its greedy quantifiers (after backtracking) make it.
//
//===----------------------------------------------------------------------===//

#include "runtime/src/PreTokenizer.h"
#include "runtime/src/UnicodeClasses.h"

#include <cstdint>

using namespace tlmrt;

namespace {

/// Code point access to text[0, n).
struct Text {
  const unsigned char *s;
  size_t n;

  CodePoint at(size_t i) const { return decodeCodePoint(s + i, n - i); }
  bool is(size_t i, CharClass cls) const { return i < n && at(i).cls == cls; }
  bool isSpace(size_t i) const {
    return i < n && (at(i).cls == CharClass::Space ||
                     at(i).cls == CharClass::Newline);
  }
  /// The end of the run of `cls` code points starting at i (at most
  /// `limit` of them).
  size_t runOf(size_t i, CharClass cls, size_t limit = SIZE_MAX) const {
    for (size_t count = 0; i < n && count < limit; ++count) {
      CodePoint c = at(i);
      if (c.cls != cls)
        break;
      i += c.length;
    }
    return i;
  }
};

/// 's 't 're 've 'm 'll 'd at s[i]; their length, or 0.
size_t contraction(const Text &t, size_t i, bool ignoreCase) {
  if (t.s[i] != '\'')
    return 0;
  auto letter = [&](size_t j, char c) {
    return j < t.n && (t.s[j] == c || (ignoreCase && t.s[j] == c - 32));
  };
  static const char singles[] = "stmd";
  for (const char *c = singles; *c; ++c)
    if (letter(i + 1, *c))
      return 2;
  static const char pairs[][3] = {"re", "ve", "ll"};
  for (const char *pair : pairs)
    if (letter(i + 1, pair[0]) && letter(i + 2, pair[1]))
      return 3;
  return 0;
}

/// \s+(?!\S) then \s+ at a whitespace code point s[i]: the run, but a run
/// of two or more before a non-space leaves its last code point to start
/// the next word.
size_t whitespace(const Text &t, size_t i) {
  size_t end = i, last = i;
  while (t.isSpace(end)) {
    last = end;
    end += t.at(end).length;
  }
  return (end < t.n && last > i ? last : end) - i;
}

size_t gpt2(const Text &t, size_t i) {
  if (size_t len = contraction(t, i, /*ignoreCase=*/false))
    return len;
  // ` ?X+` for X in letters, numbers, other.
  size_t j = t.s[i] == ' ' && i + 1 < t.n ? i + 1 : i;
  CharClass c = t.at(j).cls;
  if (c == CharClass::Letter || c == CharClass::Number ||
      c == CharClass::Other)
    return t.runOf(j, c) - i;
  // A lone space before whitespace, or whitespace.
  return whitespace(t, i);
}

size_t llama3(const Text &t, size_t i, size_t digits) {
  if (size_t len = contraction(t, i, /*ignoreCase=*/true))
    return len;
  CodePoint c = t.at(i);
  // [^\r\n\p{L}\p{N}]?\p{L}+
  if (c.cls == CharClass::Letter)
    return t.runOf(i, CharClass::Letter) - i;
  if ((c.cls == CharClass::Space || c.cls == CharClass::Other) &&
      t.is(i + c.length, CharClass::Letter))
    return t.runOf(i + c.length, CharClass::Letter) - i;
  // \p{N}{1,digits}
  if (c.cls == CharClass::Number)
    return t.runOf(i, CharClass::Number, digits) - i;
  //  ?[^\s\p{L}\p{N}]+[\r\n]*
  size_t j = t.s[i] == ' ' && t.is(i + 1, CharClass::Other) ? i + 1 : i;
  if (t.is(j, CharClass::Other))
    return t.runOf(t.runOf(j, CharClass::Other), CharClass::Newline) - i;
  // \s*[\r\n]+: through the last newline of the whitespace run.
  size_t end = i, afterNewline = i;
  while (t.isSpace(end)) {
    CodePoint w = t.at(end);
    end += w.length;
    if (w.cls == CharClass::Newline)
      afterNewline = end;
  }
  if (afterNewline > i)
    return afterNewline - i;
  return whitespace(t, i);
}

} // namespace

size_t PreTokenSplitter::next(size_t i) {
  Text t{s, n};
  switch (kind) {
  case PreTokenizerKind::Llama3:
    return llama3(t, i, 3);
  case PreTokenizerKind::Qwen2:
    return llama3(t, i, 1);
  case PreTokenizerKind::SmolLM: {
    CodePoint c = t.at(i);
    if (c.cls == CharClass::Number)
      return c.length;
    // GPT-2's pattern sees only the text up to the next number.
    if (i >= stretchEnd) {
      stretchEnd = i;
      while (stretchEnd < n && t.at(stretchEnd).cls != CharClass::Number)
        stretchEnd += t.at(stretchEnd).length;
    }
    return gpt2(Text{s, stretchEnd}, i);
  }
  case PreTokenizerKind::GPT2:
    break;
  }
  return gpt2(t, i);
}
