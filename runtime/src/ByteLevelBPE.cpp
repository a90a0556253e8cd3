//===- ByteLevelBPE.cpp - GPT-2 style byte-level BPE ------------------*- C++ -*-===//
//
// GPT-2's tokenizer (GGUF `tokenizer.ggml.model = gpt2`, HF ByteLevel BPE):
// every byte is first spelled as one printable code point (the
// bytes_to_unicode table), text is split into words by the tokenizer's
// pattern (PreTokenizer.h: GPT-2's, Llama-3's, Qwen2's), and within each
// word the adjacent pair with the lowest merge rank merges until none does.
// With ignore_merges (Llama-3) a word that is a token is that token.
//
//===----------------------------------------------------------------------===//

#include "runtime/src/ByteLevelSymbols.h"
#include "runtime/src/PreTokenizer.h"
#include "runtime/src/Session.h"

#include <cstdlib>
#include <cstring>

using namespace tlmrt;

uint32_t TokenizerView::mergeRank(uint32_t left, uint32_t right) const {
  if (!mergeSlots)
    return UINT32_MAX;
  uint64_t key = ((uint64_t(left) << 32) | right) + 1;
  uint32_t slot = uint32_t((key * 0x9E3779B97F4A7C15ull) >> 32) &
                  (mergeSlots - 1);
  while (mergeKeys[slot]) {
    if (mergeKeys[slot] == key)
      return mergeRanks[slot];
    slot = (slot + 1) & (mergeSlots - 1);
  }
  return UINT32_MAX;
}

bool tlmrt::buildByteLevelTables(TokenizerView &t) {
  for (unsigned b = 0; b < 256; ++b) {
    char buf[2];
    size_t len = encodeByteSymbol(byteToCodePoint(b), buf);
    t.byteTokens[b] = t.lookup(buf, len);
    if (t.byteTokens[b] < 0)
      return false;
  }
  uint32_t slots = 16;
  while (slots < 2 * t.mergeCount)
    slots *= 2;
  t.mergeKeys = static_cast<uint64_t *>(std::calloc(slots, sizeof(uint64_t)));
  t.mergeRanks = static_cast<uint32_t *>(std::calloc(slots, sizeof(uint32_t)));
  if (!t.mergeKeys || !t.mergeRanks)
    return false;
  t.mergeSlots = slots;
  for (uint32_t r = 0; r < t.mergeCount; ++r) {
    uint64_t key =
        ((uint64_t(t.mergePairs[2 * r]) << 32) | t.mergePairs[2 * r + 1]) + 1;
    uint32_t slot = uint32_t((key * 0x9E3779B97F4A7C15ull) >> 32) & (slots - 1);
    while (t.mergeKeys[slot] && t.mergeKeys[slot] != key)
      slot = (slot + 1) & (slots - 1);
    if (!t.mergeKeys[slot]) { // the first (lowest) rank wins
      t.mergeKeys[slot] = key;
      t.mergeRanks[slot] = r;
    }
  }
  return true;
}

void tlmrt::freeByteLevelTables(TokenizerView &t) {
  std::free(t.mergeKeys);
  std::free(t.mergeRanks);
  t.mergeKeys = nullptr;
  t.mergeRanks = nullptr;
  t.mergeSlots = 0;
}

size_t tlmrt::encodeByteLevel(const TokenizerView &t, const char *text,
                              size_t n, int32_t *tokens, size_t capacity) {
  const auto *s = reinterpret_cast<const unsigned char *>(text);
  PreTokenSplitter words(static_cast<PreTokenizerKind>(t.preTokenizer), s, n);
  size_t count = 0;
  for (size_t i = 0; i < n;) {
    size_t len = words.next(i);
    int32_t *word = tokens + count;
    // ignore_merges: a word that is a token (spelled in byte symbols, at
    // most 2 bytes each, no longer than the longest token) is that token.
    char spelled[512];
    if (t.ignoreMerges && len <= t.maxTokenBytes && 2 * len <= sizeof spelled) {
      size_t w = 0;
      for (size_t k = 0; k < len; ++k)
        w += encodeByteSymbol(byteToCodePoint(s[i + k]), spelled + w);
      int32_t id = t.lookup(spelled, w);
      if (id >= 0) {
        if (count >= capacity)
          return SIZE_MAX;
        word[0] = id;
        ++count;
        i += len;
        continue;
      }
    }
    if (count + len > capacity)
      return SIZE_MAX;
    // One symbol per byte, then merges by rank within the word.
    size_t w = 0;
    for (size_t k = 0; k < len; ++k)
      word[w++] = t.byteTokens[s[i + k]];
    for (;;) {
      uint32_t best = UINT32_MAX;
      size_t at = 0;
      for (size_t k = 0; k + 1 < w; ++k) {
        uint32_t rank = t.mergeRank(uint32_t(word[k]), uint32_t(word[k + 1]));
        if (rank < best) {
          best = rank;
          at = k;
        }
      }
      if (best == UINT32_MAX)
        break;
      // The merged token is the one spelled left + right.
      uint32_t left = t.mergePairs[2 * best], right = t.mergePairs[2 * best + 1];
      char buffer[1024];
      size_t ll = t.length(left), rl = t.length(right);
      int32_t merged = -1;
      if (ll + rl <= sizeof buffer) {
        std::memcpy(buffer, t.text(left), ll);
        std::memcpy(buffer + ll, t.text(right), rl);
        merged = t.lookup(buffer, ll + rl);
      }
      if (merged < 0)
        break; // the container writer keeps only merges whose result exists
      word[at] = merged;
      std::memmove(word + at + 1, word + at + 2, sizeof(int32_t) * (w - at - 2));
      --w;
    }
    count += w;
    i += len;
  }
  return count;
}

size_t tlmrt::decodeByteLevel(const TokenizerView &t, uint32_t id, char *out) {
  const auto *p = reinterpret_cast<const unsigned char *>(t.text(id));
  size_t len = t.length(id), o = 0;
  for (size_t i = 0; i < len;) {
    uint32_t cp = p[i];
    size_t step = 1;
    if ((p[i] & 0xE0) == 0xC0 && i + 1 < len) {
      cp = ((p[i] & 0x1F) << 6) | (p[i + 1] & 0x3F);
      step = 2;
    } else if (p[i] >= 0x80) {
      // Not a byte-level symbol (e.g. a special token): copy as it is.
      out[o++] = char(p[i]);
      ++i;
      continue;
    }
    int byte = codePointToByte(cp);
    if (byte >= 0) {
      out[o++] = char(byte);
    } else {
      std::memcpy(out + o, p + i, step);
      o += step;
    }
    i += step;
  }
  return o;
}
