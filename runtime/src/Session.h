//===- Session.h - the runtime's internal session state -----------*- C++ -*-===//
//
// Internal to the runtime: what tlm_session holds. Everything is allocated in
// tlm_session_open and freed in tlm_session_close.
//
//===----------------------------------------------------------------------===//

#ifndef TLM_RUNTIME_SRC_SESSION_H
#define TLM_RUNTIME_SRC_SESSION_H

#include "runtime/include/tlm/tlm.h"
#include "runtime/src/ChatFormat.h"

#include <cstddef>
#include <cstdint>

namespace tlmw {
struct Model;
}

namespace tlmrt {

struct ThreadPool;

/// Starts `threads - 1` workers (the caller is the last one; none for one
/// thread, whose pool only holds its quantized inputs); null on failure
/// (then `*failed` is set).
ThreadPool *createThreadPool(int threads, bool *failed);
void destroyThreadPool(ThreadPool *pool);

/// The container's tokenizer tables, as views into the container.
struct TokenizerView {
  int kind = 0; // tlmw::TokenizerKind
  uint32_t count = 0;
  const uint8_t *bytes = nullptr;
  const uint32_t *offsets = nullptr; // count + 1
  const float *scores = nullptr;     // count, or null
  const uint32_t *sortedIds = nullptr;
  const uint32_t *mergePairs = nullptr; // 2 per merge, by rank
  uint32_t mergeCount = 0;
  uint32_t maxTokenBytes = 0;
  int32_t bos = 1, eos = 2;

  /// Byte-level BPE: how text splits into words (tlmw::PreTokenizer), and
  /// whether a word that is itself a token skips merging (Llama-3).
  int preTokenizer = 0;
  bool ignoreMerges = false;
  /// SentencePiece: a space before each run of text (llama2.c, Llama-2);
  /// Gemma's tokenizer adds none.
  bool addPrefixSpace = true;
  /// Text must be in Unicode NFC (the tokenizer normalizes to it).
  bool requireNFC = false;
  /// Tokens matched whole in text before it is split or merged (HF added
  /// tokens, GGUF control tokens), ordered by their bytes; set up by
  /// indexAddedTokens.
  const uint32_t *addedIds = nullptr;
  uint32_t addedCount = 0;
  uint32_t addedMaxBytes = 0;
  uint32_t addedFirstBytes[8] = {}; // bit b: some added token starts with b

  /// Fills addedMaxBytes and addedFirstBytes from addedIds.
  void indexAddedTokens();
  /// The longest added token that `s` (n > 0 bytes) starts with: its id and
  /// length; false if none.
  bool matchAdded(const char *s, size_t n, int32_t *id, size_t *length) const;

  const char *text(uint32_t id) const {
    return reinterpret_cast<const char *>(bytes + offsets[id]);
  }
  uint32_t length(uint32_t id) const { return offsets[id + 1] - offsets[id]; }
  /// The id of the token spelled `s` (length `n`), or -1.
  int32_t lookup(const char *s, size_t n) const;

  /// GPT-2 merges: an open-addressing table from (left, right) to rank,
  /// built at session open.
  uint64_t *mergeKeys = nullptr;
  uint32_t *mergeRanks = nullptr;
  uint32_t mergeSlots = 0;
  /// Token ids of the 256 byte-level symbols (byte -> its token).
  int32_t byteTokens[256] = {};

  /// Rank of merging `left` and `right`, or UINT32_MAX.
  uint32_t mergeRank(uint32_t left, uint32_t right) const;
};

/// Builds the GPT-2 tables (merge ranks, byte tokens); false on allocation
/// failure or when a byte has no token.
bool buildByteLevelTables(TokenizerView &view);
void freeByteLevelTables(TokenizerView &view);

/// SentencePiece-style encoding (llama2.c's algorithm) of the `n` bytes at
/// `text` into at most `capacity` tokens; the number of tokens, or SIZE_MAX
/// when they do not fit. `scratch` holds 2 * maxTokenBytes bytes.
size_t encodeSentencePiece(const TokenizerView &t, const char *text, size_t n,
                           int32_t *tokens, size_t capacity, char *scratch);

enum class EncodeResult { Ok, TooManyTokens, NotNFC };

/// Either tokenizer by the view's kind (what tlm_tokenize runs): added
/// tokens matched first, the text between them encoded by the kind's
/// algorithm. `scratch`: 2 * maxTokenBytes bytes.
EncodeResult encodeText(const TokenizerView &t, const char *text, bool addBos,
                        int32_t *tokens, size_t capacity, size_t *count,
                        char *scratch);

/// Byte-level BPE (GPT-2) encoding of the `n` bytes at `text`: the number
/// of tokens, or SIZE_MAX when they do not fit; and decoding.
size_t encodeByteLevel(const TokenizerView &t, const char *text, size_t n,
                       int32_t *tokens, size_t capacity);
/// Decodes token `id` to bytes in `out` (capacity >= 4 * token length).
size_t decodeByteLevel(const TokenizerView &t, uint32_t id, char *out);

/// The first index of the largest of `n` values (NaNs never win; 0 when
/// none is above -inf): greedy sampling.
int32_t argmaxFirst(const float *values, int32_t n);

} // namespace tlmrt

struct tlm_session {
  const tlm_model *model = nullptr;
  const uint8_t *container = nullptr;
  size_t containerBytes = 0;
  void *mapping = nullptr; // mmapped container, if the runtime mapped it
  size_t mappingBytes = 0;
  void *ownedContainer = nullptr; // read into memory (the default)
  size_t ownedContainerBytes = 0;
  uint8_t *arena = nullptr;
  bool ownsArena = false;
  const uint8_t *weights = nullptr;
  float *logits = nullptr; // prefill_chunk x vocab
  tlmrt::ThreadPool *pool = nullptr;
  uint32_t lastRow = 0;
  /// Whether a position has been evaluated since open or reset (before,
  /// the logits buffer holds nothing to read or sample).
  bool hasLogits = false;
  uint32_t pos = 0;
  tlm_config config{};
  tlmrt::TokenizerView tokenizer;
  /// The chat template, rendered by the compiler (views into the container).
  tlmrt::ChatFormatView chat;
  int32_t chatEndToken = -1;
  // Scratch, sized at open: token text concatenation and sampling.
  char *textScratch = nullptr;
  float *probScratch = nullptr;
  int32_t *indexScratch = nullptr;
  /// A prompt's last partial chunk, padded to a whole one (feed()).
  int32_t *chunkScratch = nullptr;
  char *pieceScratch = nullptr; // 4 x the longest token + 8
  char error[256] = {};
};

namespace tlmrt {

/// Formats a message into `error` (may be null) and returns `status`.
tlm_status fail(char *error, size_t size, tlm_status status, const char *fmt,
                ...);

/// Verifies `data` as a container for `model` and fills the session's
/// config, tokenizer view and weights pointer.
tlm_status loadContainer(tlm_session *session, const uint8_t *data,
                         size_t bytes, char *error, size_t errorSize);

/// Allocates aligned memory (64 bytes) or returns null.
void *allocateAligned(size_t bytes);
void freeAligned(void *p);

} // namespace tlmrt

#endif // TLM_RUNTIME_SRC_SESSION_H
