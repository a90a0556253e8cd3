//===- Container.cpp - verify a .tlmw container before any use ------*- C++ -*-===//
//
// A container may come from anywhere (a file on a device, a download). It is
// read only after the FlatBuffers verifier has checked every offset of the
// metadata, and after our own checks that sizes, offsets and ids agree with
// each other, with the weights region and with the compiled model.
//
//===----------------------------------------------------------------------===//

#include "runtime/src/Session.h"
#include "runtime/include/tlm/container.h"
#include "runtime/schema/tlmw_generated.h"

#include <cstring>

using namespace tlmrt;

namespace {

template <typename T>
size_t sizeOf(const flatbuffers::Vector<T> *v) {
  return v ? v->size() : 0;
}

tlm_status checkTokenizer(tlm_session *s, const tlmw::Tokenizer *t,
                          char *error, size_t errorSize) {
  TokenizerView &view = s->tokenizer;
  if (!t || t->kind() == tlmw::TokenizerKind::None)
    return TLM_OK; // a model without a tokenizer still runs on token ids
  uint32_t vocab = uint32_t(s->config.vocab);
  if (sizeOf(t->token_offsets()) != vocab + 1 ||
      sizeOf(t->sorted_ids()) != vocab)
    return fail(error, errorSize, TLM_ERR_CONTAINER,
                "container: tokenizer tables do not have %u tokens", vocab);
  if (sizeOf(t->scores()) != 0 && sizeOf(t->scores()) != vocab)
    return fail(error, errorSize, TLM_ERR_CONTAINER,
                "container: tokenizer has %zu scores for %u tokens",
                sizeOf(t->scores()), vocab);
  const uint32_t *offsets = t->token_offsets()->data();
  size_t bytes = sizeOf(t->token_bytes());
  if (offsets[0] != 0 || offsets[vocab] != bytes)
    return fail(error, errorSize, TLM_ERR_CONTAINER,
                "container: token offsets do not span the token bytes");
  uint32_t maxBytes = 0;
  for (uint32_t i = 0; i < vocab; ++i) {
    if (offsets[i + 1] < offsets[i])
      return fail(error, errorSize, TLM_ERR_CONTAINER,
                  "container: token %u has a negative length", i);
    if (offsets[i + 1] - offsets[i] > maxBytes)
      maxBytes = offsets[i + 1] - offsets[i];
  }
  for (uint32_t id : *t->sorted_ids())
    if (id >= vocab)
      return fail(error, errorSize, TLM_ERR_CONTAINER,
                  "container: sorted token id %u is out of range", id);
  size_t merges = sizeOf(t->merge_pairs());
  if (merges % 2 != 0)
    return fail(error, errorSize, TLM_ERR_CONTAINER,
                "container: merge pairs come in twos");
  for (size_t i = 0; i < merges; ++i)
    if (t->merge_pairs()->Get(i) >= vocab)
      return fail(error, errorSize, TLM_ERR_CONTAINER,
                  "container: merge refers to token %u of %u",
                  t->merge_pairs()->Get(i), vocab);
  if (t->bos() < 0 || t->bos() >= int32_t(vocab) || t->eos() < 0 ||
      t->eos() >= int32_t(vocab))
    return fail(error, errorSize, TLM_ERR_CONTAINER,
                "container: bos/eos ids out of range");
  if (t->pre_tokenizer() < tlmw::PreTokenizer::MIN ||
      t->pre_tokenizer() > tlmw::PreTokenizer::MAX)
    return fail(error, errorSize, TLM_ERR_CONTAINER,
                "container: pre-tokenizer %d is unknown",
                int(t->pre_tokenizer()));
  size_t added = sizeOf(t->added_ids());
  for (size_t i = 0; i < added; ++i) {
    uint32_t id = t->added_ids()->Get(i);
    if (id >= vocab || offsets[id + 1] == offsets[id])
      return fail(error, errorSize, TLM_ERR_CONTAINER,
                  "container: added token %u is out of range or empty", id);
    // Longest-match lookup binary-searches them: strictly ordered bytes.
    if (i > 0) {
      uint32_t prev = t->added_ids()->Get(i - 1);
      uint32_t lp = offsets[prev + 1] - offsets[prev];
      uint32_t li = offsets[id + 1] - offsets[id];
      int cmp = std::memcmp(t->token_bytes()->data() + offsets[prev],
                            t->token_bytes()->data() + offsets[id],
                            lp < li ? lp : li);
      if (cmp > 0 || (cmp == 0 && lp >= li))
        return fail(error, errorSize, TLM_ERR_CONTAINER,
                    "container: added tokens are not sorted by their bytes");
    }
  }
  view.kind = int(t->kind());
  view.count = vocab;
  view.bytes = t->token_bytes() ? t->token_bytes()->data() : nullptr;
  view.offsets = offsets;
  view.scores = sizeOf(t->scores()) ? t->scores()->data() : nullptr;
  view.sortedIds = t->sorted_ids()->data();
  view.mergePairs = merges ? t->merge_pairs()->data() : nullptr;
  view.mergeCount = uint32_t(merges / 2);
  view.maxTokenBytes = maxBytes;
  view.bos = t->bos();
  view.eos = t->eos();
  view.preTokenizer = int(t->pre_tokenizer());
  view.ignoreMerges = t->ignore_merges();
  view.addPrefixSpace = t->add_prefix_space();
  view.requireNFC = t->normalize_nfc();
  view.addedIds = added ? t->added_ids()->data() : nullptr;
  view.addedCount = uint32_t(added);
  view.indexAddedTokens();
  return TLM_OK;
}

tlm_status checkChatFormat(tlm_session *s, const tlmw::ChatFormat *c,
                           char *error, size_t errorSize) {
  if (!c)
    return TLM_OK;
  ChatFormatView &view = s->chat;
  auto text = [](const flatbuffers::String *t) {
    return t ? TextView{t->c_str(), t->size()} : TextView{"", 0};
  };
  if (c->end_of_turn() < -1 || c->end_of_turn() >= s->config.vocab)
    return fail(error, errorSize, TLM_ERR_CONTAINER,
                "container: chat end-of-turn token %d is out of range",
                int(c->end_of_turn()));
  view.startSystem = text(c->start_system());
  view.startUser = text(c->start_user());
  view.systemUser = text(c->system_user());
  view.userAssistant = text(c->user_assistant());
  view.assistantUser = text(c->assistant_user());
  view.generation = text(c->generation());
  view.trim[TLM_ROLE_SYSTEM] = c->trim_system();
  view.trim[TLM_ROLE_USER] = c->trim_user();
  view.trim[TLM_ROLE_ASSISTANT] = c->trim_assistant();
  view.hasSystem = c->has_system();
  view.present = true;
  s->chatEndToken = c->end_of_turn();
  return TLM_OK;
}

} // namespace

tlm_status tlmrt::loadContainer(tlm_session *s, const uint8_t *data,
                                size_t bytes, char *error, size_t errorSize) {
  const tlm_model *model = s->model;
  tlm_container_header header;
  if (!data || bytes < sizeof(header))
    return fail(error, errorSize, TLM_ERR_CONTAINER,
                "container: %zu bytes is too short for the header", bytes);
  std::memcpy(&header, data, sizeof(header));
  if (std::memcmp(header.magic, TLM_CONTAINER_MAGIC, 8) != 0)
    return fail(error, errorSize, TLM_ERR_CONTAINER,
                "container: bad magic (not a .tlmw file)");
  if (header.version != 1)
    return fail(error, errorSize, TLM_ERR_CONTAINER,
                "container: version %u is not supported (expected 1)",
                header.version);
  if (header.flatbuffer_offset != sizeof(header) ||
      header.flatbuffer_bytes > bytes - sizeof(header) ||
      header.weights_offset % 64 != 0 || header.weights_offset > bytes ||
      header.weights_bytes > bytes - header.weights_offset ||
      header.weights_offset < header.flatbuffer_offset + header.flatbuffer_bytes)
    return fail(error, errorSize, TLM_ERR_CONTAINER,
                "container: header regions do not fit in %zu bytes "
                "(truncated or corrupt)",
                bytes);

  const uint8_t *fbData = data + header.flatbuffer_offset;
  flatbuffers::Verifier verifier(fbData, header.flatbuffer_bytes);
  if (!tlmw::VerifyModelBuffer(verifier))
    return fail(error, errorSize, TLM_ERR_CONTAINER,
                "container: metadata failed FlatBuffers verification");
  const tlmw::Model *m = tlmw::GetModel(fbData);
  const tlmw::Config *c = m->config();
  const tlmw::MemoryPlan *plan = m->plan();
  if (!c || !plan || !m->tensors())
    return fail(error, errorSize, TLM_ERR_CONTAINER,
                "container: config, plan or tensor table missing");
  if (m->abi_version() != TLM_ABI_VERSION ||
      m->fingerprint() != header.fingerprint ||
      m->weights_bytes() != header.weights_bytes)
    return fail(error, errorSize, TLM_ERR_CONTAINER,
                "container: metadata disagrees with its header");

  // The compiled model and this container must come from one compile.
  if (m->fingerprint() != model->fingerprint ||
      plan->arena_bytes() != model->arena_bytes ||
      m->weights_bytes() != model->weights_bytes ||
      m->prefill_chunk() != model->prefill_chunk)
    return fail(error, errorSize, TLM_ERR_MISMATCH,
                "container fingerprint %016llx does not match the compiled "
                "model's %016llx (recompile, or use the .tlmw written with "
                "this object)",
                (unsigned long long)m->fingerprint(),
                (unsigned long long)model->fingerprint);

  if (c->vocab() != model->vocab || c->context() != model->context)
    return fail(error, errorSize, TLM_ERR_MISMATCH,
                "container configuration (vocab %d, context %d) is not the "
                "compiled model's (vocab %d, context %d)",
                c->vocab(), c->context(), model->vocab, model->context);
  if (c->vocab() <= 0 || c->dim() <= 0 || c->layers() <= 0 ||
      c->context() <= 0 || plan->kv_cache_bytes() > plan->arena_bytes())
    return fail(error, errorSize, TLM_ERR_CONTAINER,
                "container: configuration has non-positive sizes");
  for (const tlmw::Tensor *t : *m->tensors())
    if (!t || t->offset() > header.weights_bytes ||
        t->bytes() > header.weights_bytes - t->offset())
      return fail(error, errorSize, TLM_ERR_CONTAINER,
                  "container: tensor '%s' lies outside the weights region",
                  t && t->name() ? t->name()->c_str() : "?");

  tlm_config &cfg = s->config;
  cfg.vocab = c->vocab();
  cfg.dim = c->dim();
  cfg.ffn_dim = c->ffn_dim();
  cfg.layers = c->layers();
  cfg.heads = c->heads();
  cfg.kv_heads = c->kv_heads();
  cfg.head_dim = c->head_dim();
  cfg.context = c->context();
  cfg.bos = c->bos();
  cfg.eos = c->eos();
  cfg.prefill_chunk = m->prefill_chunk();
  cfg.arena_bytes = plan->arena_bytes();
  cfg.kv_cache_bytes = plan->kv_cache_bytes();
  cfg.weights_bytes = m->weights_bytes();
  if (tlm_status st = checkTokenizer(s, m->tokenizer(), error, errorSize))
    return st;
  if (tlm_status st = checkChatFormat(s, m->chat(), error, errorSize))
    return st;
  s->weights = data + header.weights_offset;
  s->container = data;
  s->containerBytes = bytes;
  return TLM_OK;
}
