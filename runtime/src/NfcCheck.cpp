//===- NfcCheck.cpp - is a text in Unicode NFC? ----------------------*- C++ -*-===//
//
// Tokenizers whose tokenizer.json normalizes text to NFC (Qwen's) see NFC
// text; the runtime carries no normalizer (its decomposition tables and
// output buffers would cost more than the tokenizer), so it checks instead
// and refuses text that is not NFC. The check is UAX #15's quick check
// (no code point that never occurs in NFC, non-starters in canonical order)
// with its "maybe" answers decided: a code point that can compose with a
// preceding starter makes the text non-NFC only if that starter is not
// blocked and the pair does compose.
//
//===----------------------------------------------------------------------===//

#include "runtime/src/UnicodeClasses.h"

using namespace tlmrt;

namespace {

struct CodePointRange {
  uint32_t first, last;
};
struct CombiningClassRange {
  uint32_t first;
  uint16_t extra; // the range is [first, first + extra]
  uint8_t ccc;
};

#include "runtime/src/UnicodeNfcTables.inc"

template <typename T, size_t N, typename Less>
const T *lowerBound(const T (&table)[N], Less less) {
  size_t lo = 0, hi = N;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (less(table[mid]))
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo < N ? &table[lo] : nullptr;
}

bool neverInNFC(uint32_t cp) {
  const CodePointRange *r = lowerBound(
      kNfcNoRanges, [&](const CodePointRange &x) { return x.last < cp; });
  return r && r->first <= cp;
}

uint8_t combiningClass(uint32_t cp) {
  const CombiningClassRange *r =
      lowerBound(kCombiningClasses, [&](const CombiningClassRange &x) {
        return x.first + x.extra < cp;
      });
  return r && r->first <= cp ? r->ccc : 0;
}

// Hangul syllables compose by formula: leading consonant + vowel, and
// LV syllable + trailing consonant.
constexpr uint32_t kLBase = 0x1100, kLCount = 19, kVBase = 0x1161,
                   kVCount = 21, kTBase = 0x11A8, kTCount = 27,
                   kSBase = 0xAC00, kSCount = 11172, kTSpan = kTCount + 1;

/// Whether `starter` followed by `second` composes.
bool composes(uint32_t starter, uint32_t second) {
  if (second >= kVBase && second < kVBase + kVCount)
    return starter >= kLBase && starter < kLBase + kLCount;
  if (second >= kTBase && second < kTBase + kTCount)
    return starter >= kSBase && starter < kSBase + kSCount &&
           (starter - kSBase) % kTSpan == 0;
  const uint32_t *s = lowerBound(
      kComposingSeconds, [&](uint32_t x) { return x < second; });
  if (!s || *s != second)
    return false;
  uint32_t key = (uint32_t(s - kComposingSeconds) << 21) | starter;
  const uint32_t *p =
      lowerBound(kCompositions, [&](uint32_t x) { return x < key; });
  return p && *p == key;
}

} // namespace

bool tlmrt::isNFC(const unsigned char *s, size_t n) {
  uint32_t starter = 0;
  bool haveStarter = false, afterStarter = false;
  uint8_t lastClass = 0;
  for (size_t i = 0; i < n;) {
    CodePoint c = decodeCodePoint(s + i, n - i);
    i += c.length;
    if (c.cls == CharClass::Other && c.length == 1 && c.value >= 0x80) {
      // An invalid byte: a starter that composes with nothing.
      haveStarter = false;
      afterStarter = true;
      lastClass = 0;
      continue;
    }
    uint32_t cp = c.value;
    if (cp < 0x300) { // below every combining mark and composing second
      starter = cp;
      haveStarter = afterStarter = true;
      lastClass = 0;
      continue;
    }
    uint8_t ccc = combiningClass(cp);
    if (ccc != 0 && lastClass > ccc)
      return false; // not in canonical order
    if (neverInNFC(cp))
      return false;
    // Unblocked: nothing between the starter and cp, or only marks of a
    // lower class (they are ordered, so the last has the highest).
    bool unblocked = afterStarter || (ccc != 0 && lastClass < ccc);
    if (haveStarter && unblocked && composes(starter, cp))
      return false;
    if (ccc == 0) {
      starter = cp;
      haveStarter = afterStarter = true;
    } else {
      afterStarter = false;
    }
    lastClass = ccc;
  }
  return true;
}
