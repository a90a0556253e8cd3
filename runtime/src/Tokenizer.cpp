//===- Tokenizer.cpp - SentencePiece-style BPE encode and decode ----*- C++ -*-===//
//
// The llama2.c algorithm: a dummy leading space, one token per UTF-8 code
// point (bytes as <0xXX> tokens where the code point is not a token), then
// repeatedly merge the adjacent pair whose concatenation is the token of
// highest score. Lookups binary-search the container's sorted token table.
//
//===----------------------------------------------------------------------===//

#include "runtime/src/Session.h"
#include "runtime/src/UnicodeClasses.h"
#include "runtime/schema/tlmw_generated.h"

#include <cstdio>
#include <cstring>

using namespace tlmrt;

int32_t TokenizerView::lookup(const char *s, size_t n) const {
  uint32_t lo = 0, hi = count;
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    uint32_t id = sortedIds[mid];
    uint32_t len = length(id);
    int cmp = std::memcmp(text(id), s, len < n ? len : n);
    if (cmp == 0)
      cmp = len < n ? -1 : len > n ? 1 : 0;
    if (cmp == 0)
      return int32_t(id);
    if (cmp < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return -1;
}

/// The token for byte `b`: "<0xXX>" if the vocabulary has it, else llama2.c's
/// convention of ids 3..258.
static int32_t byteToken(const TokenizerView &t, unsigned char b) {
  char name[8];
  std::snprintf(name, sizeof name, "<0x%02X>", b);
  int32_t id = t.lookup(name, 6);
  return id >= 0 ? id : int32_t(b) + 3;
}

void TokenizerView::indexAddedTokens() {
  addedMaxBytes = 0;
  for (uint32_t b = 0; b < 8; ++b)
    addedFirstBytes[b] = 0;
  for (uint32_t i = 0; i < addedCount; ++i) {
    uint32_t id = addedIds[i], len = length(id);
    if (len == 0)
      continue;
    unsigned char first = static_cast<unsigned char>(text(id)[0]);
    addedFirstBytes[first / 32] |= 1u << (first % 32);
    if (len > addedMaxBytes)
      addedMaxBytes = len;
  }
}

bool TokenizerView::matchAdded(const char *s, size_t n, int32_t *id,
                               size_t *matched) const {
  unsigned char first = static_cast<unsigned char>(s[0]);
  if (!(addedFirstBytes[first / 32] & (1u << (first % 32))))
    return false;
  // Longest first: binary search for each length the text allows.
  for (size_t len = n < addedMaxBytes ? n : addedMaxBytes; len > 0; --len) {
    uint32_t lo = 0, hi = addedCount;
    while (lo < hi) {
      uint32_t mid = lo + (hi - lo) / 2;
      uint32_t candidate = addedIds[mid], clen = length(candidate);
      int cmp = std::memcmp(text(candidate), s, clen < len ? clen : len);
      if (cmp == 0)
        cmp = clen < len ? -1 : clen > len ? 1 : 0;
      if (cmp == 0) {
        *id = int32_t(candidate);
        *matched = len;
        return true;
      }
      if (cmp < 0)
        lo = mid + 1;
      else
        hi = mid;
    }
  }
  return false;
}

size_t tlmrt::encodeSentencePiece(const TokenizerView &t, const char *text,
                                  size_t length, int32_t *tokens,
                                  size_t capacity, char *scratch) {
  size_t n = 0;
  auto push = [&](int32_t id) {
    if (n >= capacity)
      return false;
    tokens[n++] = id;
    return true;
  };
  bool ok = true;
  if (length > 0 && t.addPrefixSpace) {
    int32_t space = t.lookup(" ", 1);
    if (space >= 0)
      ok &= push(space);
  }
  // One token per code point, or its bytes.
  for (size_t i = 0; i < length && ok;) {
    size_t len = 1;
    while (len < 4 && i + len < length && (text[i + len] & 0xC0) == 0x80)
      ++len;
    int32_t id = t.lookup(text + i, len);
    if (id >= 0) {
      ok &= push(id);
    } else {
      for (size_t k = 0; k < len && ok; ++k)
        ok &= push(byteToken(t, (unsigned char)text[i + k]));
    }
    i += len;
  }
  if (!ok)
    return SIZE_MAX;
  // Merge the best-scoring adjacent pair until none merges.
  while (t.scores) {
    float bestScore = -1e10f;
    int32_t bestId = -1;
    size_t bestIndex = 0;
    for (size_t i = 0; i + 1 < n; ++i) {
      uint32_t a = uint32_t(tokens[i]), b = uint32_t(tokens[i + 1]);
      size_t la = t.length(a), lb = t.length(b);
      if (la + lb > 2 * size_t(t.maxTokenBytes))
        continue;
      std::memcpy(scratch, t.text(a), la);
      std::memcpy(scratch + la, t.text(b), lb);
      int32_t id = t.lookup(scratch, la + lb);
      if (id >= 0 && t.scores[id] > bestScore) {
        bestScore = t.scores[id];
        bestId = id;
        bestIndex = i;
      }
    }
    if (bestId < 0)
      break;
    tokens[bestIndex] = bestId;
    std::memmove(tokens + bestIndex + 1, tokens + bestIndex + 2,
                 sizeof(int32_t) * (n - bestIndex - 2));
    --n;
  }
  return n;
}

EncodeResult tlmrt::encodeText(const TokenizerView &t, const char *text,
                               bool addBos, int32_t *tokens, size_t capacity,
                               size_t *count, char *scratch) {
  size_t n = 0, length = std::strlen(text), runStart = 0;
  *count = 0;
  if (t.requireNFC &&
      !isNFC(reinterpret_cast<const unsigned char *>(text), length))
    return EncodeResult::NotNFC;
  if (addBos) {
    if (capacity == 0)
      return EncodeResult::TooManyTokens;
    tokens[n++] = t.bos;
  }
  bool byteLevel = t.kind == int(tlmw::TokenizerKind::GPT2);
  // The text between added tokens (or around them) is encoded on its own.
  auto encodeRun = [&](const char *run, size_t length) {
    if (length == 0)
      return true;
    size_t made =
        byteLevel
            ? encodeByteLevel(t, run, length, tokens + n, capacity - n)
            : encodeSentencePiece(t, run, length, tokens + n, capacity - n,
                                  scratch);
    if (made == SIZE_MAX)
      return false;
    n += made;
    return true;
  };
  for (size_t i = 0; i < length;) {
    int32_t id;
    size_t matched;
    if (t.addedCount && t.matchAdded(text + i, length - i, &id, &matched)) {
      if (!encodeRun(text + runStart, i - runStart) || n >= capacity) {
        *count = n;
        return EncodeResult::TooManyTokens;
      }
      tokens[n++] = id;
      i += matched;
      runStart = i;
    } else {
      ++i;
    }
  }
  bool ok = encodeRun(text + runStart, length - runStart);
  *count = n;
  return ok ? EncodeResult::Ok : EncodeResult::TooManyTokens;
}

extern "C" tlm_status tlm_tokenize(tlm_session *s, const char *text,
                                   int addBos, int32_t *tokens,
                                   size_t capacity, size_t *count) {
  if (!s || !text || !tokens || !count)
    return TLM_ERR_INVALID_ARGUMENT;
  const TokenizerView &t = s->tokenizer;
  if (t.kind == int(tlmw::TokenizerKind::None))
    return fail(s->error, sizeof s->error, TLM_ERR_INVALID_ARGUMENT,
                "the container has no tokenizer");
  switch (encodeText(t, text, addBos, tokens, capacity, count,
                     s->textScratch)) {
  case EncodeResult::Ok:
    break;
  case EncodeResult::TooManyTokens:
    return fail(s->error, sizeof s->error, TLM_ERR_INVALID_ARGUMENT,
                "text needs more than %zu tokens", capacity);
  case EncodeResult::NotNFC:
    return fail(s->error, sizeof s->error, TLM_ERR_INVALID_ARGUMENT,
                "text is not in Unicode NFC, which this tokenizer expects "
                "(normalize it first)");
  }
  return TLM_OK;
}

extern "C" const char *tlm_token_text(tlm_session *s, int32_t previous,
                                      int32_t token, size_t *length) {
  if (!s || token < 0 || uint32_t(token) >= s->tokenizer.count) {
    if (length)
      *length = 0;
    return "";
  }
  const TokenizerView &t = s->tokenizer;
  if (t.kind == int(tlmw::TokenizerKind::GPT2)) {
    size_t len = decodeByteLevel(t, uint32_t(token), s->pieceScratch);
    if (length)
      *length = len;
    return s->pieceScratch;
  }
  const char *piece = t.text(uint32_t(token));
  size_t len = t.length(uint32_t(token));
  // After BOS, SentencePiece's leading space is dropped.
  if (previous == t.bos && len > 0 && piece[0] == ' ') {
    ++piece;
    --len;
  }
  // Raw byte tokens (<0xXX>) stand for that byte.
  unsigned value;
  if (len == 6 && std::strncmp(piece, "<0x", 3) == 0 && piece[5] == '>' &&
      std::sscanf(piece + 3, "%2x", &value) == 1) {
    s->pieceScratch[0] = char(value);
    piece = s->pieceScratch;
    len = 1;
  }
  if (length)
    *length = len;
  return piece;
}
