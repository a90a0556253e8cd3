//===- Tokenizer.cpp - SentencePiece-style BPE encode and decode ----*- C++ -*-===//
//
// The llama2.c algorithm: a dummy leading space, one token per UTF-8 code
// point (bytes as <0xXX> tokens where the code point is not a token), then
// repeatedly merge the adjacent pair whose concatenation is the token of
// highest score. Lookups binary-search the container's sorted token table.
//
//===----------------------------------------------------------------------===//

#include "runtime/src/Session.h"
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

bool tlmrt::encodeSentencePiece(const TokenizerView &t, const char *text,
                                bool addBos, int32_t *tokens, size_t capacity,
                                size_t *count, char *scratch) {
  size_t n = 0;
  auto push = [&](int32_t id) {
    if (n >= capacity)
      return false;
    tokens[n++] = id;
    return true;
  };
  bool ok = true;
  if (addBos)
    ok &= push(t.bos);
  if (text[0] != '\0') {
    int32_t space = t.lookup(" ", 1);
    if (space >= 0)
      ok &= push(space);
  }
  // One token per code point, or its bytes.
  for (const char *p = text; *p && ok;) {
    size_t len = 1;
    while (len < 4 && (p[len] & 0xC0) == 0x80)
      ++len;
    int32_t id = t.lookup(p, len);
    if (id >= 0) {
      ok &= push(id);
    } else {
      for (size_t i = 0; i < len && ok; ++i)
        ok &= push(byteToken(t, (unsigned char)p[i]));
    }
    p += len;
  }
  if (!ok)
    return false;
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
  *count = n;
  return true;
}

bool tlmrt::encodeText(const TokenizerView &t, const char *text, bool addBos,
                       int32_t *tokens, size_t capacity, size_t *count,
                       char *scratch) {
  if (t.kind != int(tlmw::TokenizerKind::GPT2))
    return encodeSentencePiece(t, text, addBos, tokens, capacity, count,
                               scratch);
  size_t n = 0;
  if (addBos && capacity)
    tokens[n++] = t.bos;
  bool overflow = capacity == 0;
  n += encodeByteLevel(t, text, tokens + n, capacity - n, &overflow);
  *count = n;
  return !overflow;
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
  bool ok = encodeText(t, text, addBos, tokens, capacity, count,
                       s->textScratch);
  if (!ok)
    return fail(s->error, sizeof s->error, TLM_ERR_INVALID_ARGUMENT,
                "text needs more than %zu tokens", capacity);
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
