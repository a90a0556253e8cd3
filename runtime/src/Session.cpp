//===- Session.cpp - open a compiled model and run it ---------------*- C++ -*-===//

#include "runtime/src/Session.h"

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include "runtime/src/Allocate.h"

#if defined(__unix__) || defined(__APPLE__)
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#define TLM_HAVE_MMAP 1
#endif

using namespace tlmrt;

tlm_status tlmrt::fail(char *error, size_t size, tlm_status status,
                       const char *fmt, ...) {
  if (error && size) {
    va_list args;
    va_start(args, fmt);
    std::vsnprintf(error, size, fmt, args);
    va_end(args);
  }
  return status;
}

void *tlmrt::allocateAligned(size_t bytes) {
  void *p = nullptr;
  if (posix_memalign(&p, 64, bytes ? bytes : 64) != 0)
    return nullptr;
  return p;
}

void tlmrt::freeAligned(void *p) { std::free(p); }

/// More threads than any device this runtime targets has cores: a caller's
/// mistake (a count where a flag was meant), refused before it starts them.
constexpr int kMaxThreads = 256;

/// Weights from this size on are streamed from memory by every decode step
/// (larger than a core's L2 and a good part of a shared L3).
constexpr uint64_t kStreamedWeightBytes = 4 << 20;

/// Memory in whole pages, huge ones where the OS has them: for a container
/// read from a file (decode streams the whole container every token, and
/// with 4 KiB pages that stream ran 10-15% slower than the same bytes
/// mapped from the page cache, SmolLM2-135M Q8_0 side by side) and for the
/// arena (activations and the KV cache, read by every layer).
static void *allocatePages(size_t bytes) {
#ifdef TLM_HAVE_MMAP
  if (bytes == 0)
    return nullptr;
  void *p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED)
    return nullptr;
#ifdef MADV_HUGEPAGE
  madvise(p, bytes, MADV_HUGEPAGE);
#endif
  return p;
#else
  return allocateAligned(bytes);
#endif
}

static void freePages(void *p, size_t bytes) {
  if (!p || !bytes)
    return;
#ifdef TLM_HAVE_MMAP
  munmap(p, bytes);
#else
  (void)bytes;
  freeAligned(p);
#endif
}

/// Allocates everything a session needs; nothing is allocated afterwards.
static tlm_status allocateBuffers(tlm_session *s,
                                  const tlm_session_options *options,
                                  char *error, size_t errorSize) {
  const tlm_config &c = s->config;
  if (options && options->arena) {
    if (options->arena_bytes < c.arena_bytes ||
        reinterpret_cast<uintptr_t>(options->arena) % 64 != 0)
      return fail(error, errorSize, TLM_ERR_INVALID_ARGUMENT,
                  "caller arena must be 64-byte aligned and hold %llu bytes",
                  (unsigned long long)c.arena_bytes);
    s->arena = static_cast<uint8_t *>(options->arena);
  } else {
    s->arena = static_cast<uint8_t *>(allocatePages(c.arena_bytes));
    s->ownsArena = true;
    // Written once here so that its pages are the process's before the
    // first eval: otherwise the first long prompt faults them in (a
    // SmolLM2-135M pp128 on a fresh session took ~16 ms, ~25%, longer than
    // the next, for ~36 MiB of activations and KV cache).
    if (s->arena)
      std::memset(s->arena, 0, c.arena_bytes);
  }
  size_t rows = c.prefill_chunk > 1 ? c.prefill_chunk : 1;
  s->logits = static_cast<float *>(
      allocateAligned(sizeof(float) * rows * size_t(c.vocab)));
  if (s->logits) // faulted in now, as the arena is
    std::memset(s->logits, 0, sizeof(float) * rows * size_t(c.vocab));
  s->probScratch =
      static_cast<float *>(allocateAligned(sizeof(float) * size_t(c.vocab)));
  s->indexScratch =
      static_cast<int32_t *>(allocateAligned(sizeof(int32_t) * size_t(c.vocab)));
  s->chunkScratch =
      static_cast<int32_t *>(allocateAligned(sizeof(int32_t) * rows));
  s->textScratch = static_cast<char *>(
      allocateAligned(2 * size_t(s->tokenizer.maxTokenBytes) + 16));
  s->pieceScratch = static_cast<char *>(
      allocateAligned(4 * size_t(s->tokenizer.maxTokenBytes) + 8));
  if (s->tokenizer.kind == 2 /* GPT2 */ && !buildByteLevelTables(s->tokenizer))
    return fail(error, errorSize, TLM_ERR_CONTAINER,
                "container: byte-level tokenizer lacks a token for some "
                "byte, or out of memory");
  bool poolFailed = false;
  s->pool = createThreadPool(options ? options->threads : 1, &poolFailed);
  if (poolFailed)
    return fail(error, errorSize, TLM_ERR_NO_MEMORY,
                "cannot start %d threads", options->threads);
  if (!s->arena || !s->logits || !s->probScratch || !s->indexScratch ||
      !s->chunkScratch ||
      !s->textScratch || !s->pieceScratch)
    return fail(error, errorSize, TLM_ERR_NO_MEMORY,
                "cannot allocate %llu bytes of arena and buffers",
                (unsigned long long)c.arena_bytes);
  return TLM_OK;
}

extern "C" tlm_status tlm_session_open(const tlm_model *model,
                                       const void *container,
                                       size_t containerBytes,
                                       const tlm_session_options *options,
                                       tlm_session **out, char *error,
                                       size_t errorSize) {
  if (!model || !out)
    return fail(error, errorSize, TLM_ERR_INVALID_ARGUMENT,
                "model and session pointers are required");
  *out = nullptr;
  if (model->abi_version != TLM_ABI_VERSION || !model->decode ||
      !model->prefill || !model->prefill_last)
    return fail(error, errorSize, TLM_ERR_MISMATCH,
                "compiled model ABI %u, runtime ABI %u", model->abi_version,
                TLM_ABI_VERSION);
  if (model->prefill_wide &&
      (model->prefill_wide_chunk <= model->prefill_chunk ||
       model->prefill_wide_chunk > uint32_t(model->context)))
    return fail(error, errorSize, TLM_ERR_MISMATCH,
                "compiled model's wide prefill of %u tokens is not between "
                "its prefill chunk (%u) and its context (%d)",
                model->prefill_wide_chunk, model->prefill_chunk,
                model->context);
  if (!container) {
    container = model->embedded_container;
    containerBytes = model->embedded_container_bytes;
    if (!container)
      return fail(error, errorSize, TLM_ERR_INVALID_ARGUMENT,
                  "no container given and none embedded in the model "
                  "(compile with --embed-weights or pass the .tlmw)");
  }
  // The verified tables are read in place as u32/u64/f32: the container's
  // offsets keep them aligned only if its start is.
  if (reinterpret_cast<uintptr_t>(container) % 8 != 0)
    return fail(error, errorSize, TLM_ERR_INVALID_ARGUMENT,
                "container at %p is not 8-byte aligned (map the file, or "
                "allocate with malloc or aligned_alloc)",
                container);
  if (options && (options->threads < 0 || options->threads > kMaxThreads))
    return fail(error, errorSize, TLM_ERR_INVALID_ARGUMENT,
                "threads must be in [0, %d], got %d", kMaxThreads,
                options->threads);
  tlm_session *s = tlmrt::create<tlm_session>();
  if (!s)
    return fail(error, errorSize, TLM_ERR_NO_MEMORY, "out of memory");
  s->model = model;
  tlm_status st = loadContainer(s, static_cast<const uint8_t *>(container),
                                containerBytes, error, errorSize);
  if (st == TLM_OK)
    st = allocateBuffers(s, options, error, errorSize);
  if (st != TLM_OK) {
    tlm_session_close(s);
    return st;
  }
  *out = s;
  return TLM_OK;
}

/// Prefixes the message of a failed open with the file's name.
static tlm_status namedFailure(tlm_status status, const char *path,
                               char *error, size_t errorSize) {
  if (error && errorSize) {
    char copy[256];
    std::snprintf(copy, sizeof copy, "%s", error);
    std::snprintf(error, errorSize, "%s: %s", path, copy);
  }
  return status;
}

/// Reads the whole of `path` into session-owned memory: what happens to
/// the file afterwards (truncated, rewritten, deleted) cannot reach the
/// session, because nothing of it is read again.
static tlm_status openRead(const tlm_model *model, const char *path,
                           const tlm_session_options *options,
                           tlm_session **out, char *error, size_t errorSize) {
  FILE *f = std::fopen(path, "rb");
  if (!f)
    return fail(error, errorSize, TLM_ERR_IO, "%s: cannot open: %s", path,
                std::strerror(errno));
  long size = -1;
  if (std::fseek(f, 0, SEEK_END) == 0)
    size = std::ftell(f);
  std::fseek(f, 0, SEEK_SET);
  void *data = size > 0 ? allocatePages(size_t(size)) : nullptr;
  // One more byte must not be there: a file that grows while it is read is
  // not the file whose size was taken.
  char extra;
  bool complete = data &&
                  std::fread(data, 1, size_t(size), f) == size_t(size) &&
                  std::fread(&extra, 1, 1, f) == 0;
  std::fclose(f);
  if (!complete) {
    freePages(data, size_t(size));
    return fail(error, errorSize, size > 0 ? TLM_ERR_IO : TLM_ERR_CONTAINER,
                "%s: %s", path,
                size <= 0 ? "empty or unreadable"
                          : "cannot read it whole (or it changed while read)");
  }
  tlm_status status = tlm_session_open(model, data, size_t(size), options,
                                       out, error, errorSize);
  if (status != TLM_OK) {
    freePages(data, size_t(size));
    return namedFailure(status, path, error, errorSize);
  }
  (*out)->ownedContainer = data;
  (*out)->ownedContainerBytes = size_t(size);
  return TLM_OK;
}

#ifdef TLM_HAVE_MMAP
/// Maps `path` read-only: pages load on first use and stay shareable with
/// the page cache. The caller promises the file does not shrink while the
/// session lives (a page past a new end faults with SIGBUS).
static tlm_status openMapped(const tlm_model *model, const char *path,
                             const tlm_session_options *options,
                             tlm_session **out, char *error,
                             size_t errorSize) {
  int fd = open(path, O_RDONLY);
  if (fd < 0)
    return fail(error, errorSize, TLM_ERR_IO, "%s: cannot open: %s", path,
                std::strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0 || st.st_size <= 0) {
    close(fd);
    return fail(error, errorSize, TLM_ERR_IO, "%s: empty or unreadable", path);
  }
  size_t bytes = size_t(st.st_size);
  void *mapping = mmap(nullptr, bytes, PROT_READ, MAP_PRIVATE, fd, 0);
  close(fd);
  if (mapping == MAP_FAILED)
    return fail(error, errorSize, TLM_ERR_IO, "%s: cannot map: %s", path,
                std::strerror(errno));
  tlm_status status = tlm_session_open(model, mapping, bytes, options, out,
                                       error, errorSize);
  if (status != TLM_OK) {
    munmap(mapping, bytes);
    return namedFailure(status, path, error, errorSize);
  }
  (*out)->mapping = mapping;
  (*out)->mappingBytes = bytes;
  return TLM_OK;
}
#endif

extern "C" tlm_status tlm_session_open_file(const tlm_model *model,
                                            const char *path,
                                            const tlm_session_options *options,
                                            tlm_session **out, char *error,
                                            size_t errorSize) {
  if (!path)
    return tlm_session_open(model, nullptr, 0, options, out, error, errorSize);
  if (out)
    *out = nullptr;
#ifdef TLM_HAVE_MMAP
  if (options && options->map_file)
    return openMapped(model, path, options, out, error, errorSize);
#endif
  return openRead(model, path, options, out, error, errorSize);
}

extern "C" void tlm_session_close(tlm_session *s) {
  if (!s)
    return;
  destroyThreadPool(s->pool);
  if (s->ownsArena)
    freePages(s->arena, s->config.arena_bytes);
  freeAligned(s->logits);
  freeAligned(s->probScratch);
  freeAligned(s->indexScratch);
  freeAligned(s->chunkScratch);
  freeAligned(s->textScratch);
  freeAligned(s->pieceScratch);
  freeByteLevelTables(s->tokenizer);
#ifdef TLM_HAVE_MMAP
  if (s->mapping)
    munmap(s->mapping, s->mappingBytes);
#endif
  freePages(s->ownedContainer, s->ownedContainerBytes);
  tlmrt::destroy(s);
}

extern "C" const tlm_config *tlm_session_config(const tlm_session *s) {
  return s ? &s->config : nullptr;
}

extern "C" const char *tlm_session_error(const tlm_session *s) {
  return s ? s->error : "no session";
}

extern "C" void tlm_reset(tlm_session *s) {
  if (!s)
    return;
  s->pos = 0;
  s->hasLogits = false;
}

extern "C" uint32_t tlm_position(const tlm_session *s) {
  return s ? s->pos : 0;
}

extern "C" const float *tlm_logits(const tlm_session *s) {
  if (!s || !s->hasLogits)
    return nullptr;
  return s->logits + size_t(s->lastRow) * size_t(s->config.vocab);
}

extern "C" tlm_status tlm_eval(tlm_session *s, const int32_t *tokens,
                               size_t count, float *logitsOut) {
  if (!s || (!tokens && count))
    return TLM_ERR_INVALID_ARGUMENT;
  const tlm_config &c = s->config;
  if (count > size_t(c.context) - s->pos)
    return fail(s->error, sizeof s->error, TLM_ERR_CONTEXT_FULL,
                "%zu tokens at position %u exceed the context of %d", count,
                s->pos, c.context);
  for (size_t i = 0; i < count; ++i)
    if (tokens[i] < 0 || tokens[i] >= c.vocab)
      return fail(s->error, sizeof s->error, TLM_ERR_INVALID_ARGUMENT,
                  "token %d at index %zu is outside the vocabulary of %d",
                  tokens[i], i, c.vocab);
  size_t vocab = size_t(c.vocab), chunk = c.prefill_chunk;
  size_t i = 0;
  // Long prompts first through the wide prefill (when only the last
  // logits are wanted): it reads every weight once per call, so a token
  // costs less memory traffic than in a chunk, and it runs the classifier
  // once per call.
  const size_t wide = s->model->prefill_wide ? s->model->prefill_wide_chunk : 0;
  while (!logitsOut && wide && count - i >= wide) {
    s->model->prefill_wide(s->weights, s->arena, tokens + i, s->pos,
                           s->logits, s->pool);
    s->lastRow = 0;
    s->pos += uint32_t(wide);
    i += wide;
  }
  // Whole chunks through prefill, the rest one token at a time. Without
  // `logitsOut` only the last token's logits are ever read: prefill_last
  // skips the classifier for the others.
  while (chunk > 1 && count - i >= chunk) {
    if (!logitsOut) {
      s->model->prefill_last(s->weights, s->arena, tokens + i, s->pos,
                             s->logits, s->pool);
      s->lastRow = 0;
      s->pos += uint32_t(chunk);
      i += chunk;
      continue;
    }
    s->model->prefill(s->weights, s->arena, tokens + i, s->pos, s->logits,
                      s->pool);
    std::memcpy(logitsOut + i * vocab, s->logits,
                sizeof(float) * chunk * vocab);
    s->lastRow = uint32_t(chunk - 1);
    s->pos += uint32_t(chunk);
    i += chunk;
  }
  // A last partial chunk is cheaper as one padded chunk than as decode
  // steps when only the last logits are wanted and decode is bound by
  // streaming the weights: all its tokens but the last go through
  // prefill_last, padded with copies of the last of them, then the last
  // token is one decode step at its position. Attention is causal, so the
  // padding changes no real token's result, and every padded position's
  // cache entry is written again (by that decode step, and later ones)
  // before it is read. Measured: a prefilled token costs 1/8-1/12 of a
  // decode step on SmolLM2-135M and TinyLlama-1.1B, so a chunk pays from
  // chunk/8 + 1 real tokens; on a model of a few MB (stories260K: 1/1.4)
  // it never does.
  size_t rest = count - i;
  bool streamed = c.weights_bytes >= kStreamedWeightBytes;
  if (chunk > 1 && !logitsOut && streamed && rest >= chunk / 8 + 2 &&
      s->pos + chunk <= size_t(c.context)) {
    for (size_t j = 0; j < chunk; ++j)
      s->chunkScratch[j] = tokens[i + (j < rest - 1 ? j : rest - 2)];
    s->model->prefill_last(s->weights, s->arena, s->chunkScratch, s->pos,
                           s->logits, s->pool);
    s->pos += uint32_t(rest - 1);
    i += rest - 1;
  }
  for (; i < count; ++i) {
    s->model->decode(s->weights, s->arena, tokens + i, s->pos, s->logits,
                     s->pool);
    if (logitsOut)
      std::memcpy(logitsOut + i * vocab, s->logits, sizeof(float) * vocab);
    s->lastRow = 0;
    s->pos += 1;
  }
  s->hasLogits |= count > 0;
  return TLM_OK;
}
