//===- PreTokenizer.h - byte-level BPE's split of text into words -*- C++ -*-===//
//
// Before merging, byte-level BPE splits text into words with a regex; merges
// never cross words. The runtime carries no regex engine: each pattern a
// supported tokenizer uses is written out here, alternative by alternative,
// with the regex engine's leftmost-first choice and backtracking (the
// patterns are in PreTokenizer.cpp). The compiler maps a tokenizer.json's
// regex or a GGUF's `tokenizer.ggml.pre` to one of them, or refuses it.
//
//===----------------------------------------------------------------------===//

#ifndef TLMC_RUNTIME_SRC_PRETOKENIZER_H
#define TLMC_RUNTIME_SRC_PRETOKENIZER_H

#include <cstddef>

namespace tlmrt {

/// The split patterns (values as tlmw::PreTokenizer).
enum class PreTokenizerKind {
  GPT2 = 0,   ///< GPT-2, SmolLM2's byte-level pre-tokenizer
  Llama3 = 1, ///< Llama-3: numbers in runs of up to 3 digits
  Qwen2 = 2,  ///< Qwen2/2.5/3: Llama-3's pattern with single digits
  SmolLM = 3, ///< SmolLM/SmolLM2: every digit alone, GPT-2's pattern between
};

/// Splits the `n` bytes at `s` into words, first to last.
class PreTokenSplitter {
public:
  PreTokenSplitter(PreTokenizerKind kind, const unsigned char *s, size_t n)
      : kind(kind), s(s), n(n) {}
  /// The length in bytes of the word that starts at `s[i]` (i < n), where
  /// i is 0 or the end of the previous word.
  size_t next(size_t i);

private:
  PreTokenizerKind kind;
  const unsigned char *s;
  size_t n;
  /// SmolLM: where the text before the next number ends (found once per
  /// stretch, so splitting stays linear in the text).
  size_t stretchEnd = 0;
};

} // namespace tlmrt

#endif // TLMC_RUNTIME_SRC_PRETOKENIZER_H
