//===- ChatFormat.cpp - a conversation as the model's chat template has it ===//

#include "runtime/src/ChatFormat.h"
#include "runtime/src/Session.h"
#include "runtime/src/UnicodeClasses.h"

#include <cstring>

using namespace tlmrt;

namespace {

// `content` without the White_Space around it (Unicode's, as the
// pre-tokenizers' \s): what the templates' `trim` does to ordinary text.
TextView trimmed(const char *content) {
  const auto *s = reinterpret_cast<const unsigned char *>(content);
  size_t n = std::strlen(content);
  size_t begin = n, end = 0;
  for (size_t i = 0; i < n;) {
    CodePoint cp = decodeCodePoint(s + i, n - i);
    bool space = cp.cls == CharClass::Space || cp.cls == CharClass::Newline;
    if (!space) {
      if (begin == n)
        begin = i;
      end = i + cp.length;
    }
    i += cp.length;
  }
  if (begin == n)
    return {content, 0};
  return {content + begin, end - begin};
}

// Appends what fits; counts everything.
struct Writer {
  char *text;
  size_t capacity;
  size_t length = 0;

  void append(TextView t) {
    if (t.size && length < capacity)
      std::memcpy(text + length, t.data,
                  t.size < capacity - length ? t.size : capacity - length);
    length += t.size;
  }
};

// The text between a message of role `before` and one of role `after`,
// or null where the roles cannot follow each other.
const TextView *between(const ChatFormatView &f, int before, int after) {
  if (before == TLM_ROLE_SYSTEM && after == TLM_ROLE_USER)
    return &f.systemUser;
  if (before == TLM_ROLE_USER && after == TLM_ROLE_ASSISTANT)
    return &f.userAssistant;
  if (before == TLM_ROLE_ASSISTANT && after == TLM_ROLE_USER)
    return &f.assistantUser;
  return nullptr;
}

} // namespace

ChatResult tlmrt::formatChat(const ChatFormatView &format,
                             const tlm_message *messages, size_t count,
                             size_t first, char *text, size_t capacity,
                             size_t *length, size_t *badIndex) {
  *length = 0;
  *badIndex = 0;
  if (!format.present)
    return ChatResult::NoChatFormat;
  // [system] user (assistant user)*: the order every template renders and
  // the reply needs (the last message is the user's).
  for (size_t i = 0; i < count; ++i) {
    int role = int(messages[i].role);
    bool ok = !messages[i].content ? false
              : i == 0 ? role == TLM_ROLE_SYSTEM || role == TLM_ROLE_USER
                       : between(format, int(messages[i - 1].role), role) != nullptr;
    if (!ok) {
      *badIndex = i;
      return ChatResult::BadRoles;
    }
    if (role == TLM_ROLE_SYSTEM && !format.hasSystem) {
      *badIndex = i;
      return ChatResult::NoSystemRole;
    }
  }
  if (count == 0 || first >= count ||
      messages[count - 1].role != TLM_ROLE_USER) {
    *badIndex = count;
    return ChatResult::BadRoles;
  }
  Writer w{text, capacity};
  for (size_t i = first; i < count; ++i) {
    int role = int(messages[i].role);
    if (i == 0)
      w.append(role == TLM_ROLE_SYSTEM ? format.startSystem : format.startUser);
    else
      w.append(*between(format, int(messages[i - 1].role), role));
    const char *content = messages[i].content;
    w.append(format.trim[role] ? trimmed(content)
                               : TextView{content, std::strlen(content)});
  }
  w.append(format.generation);
  *length = w.length;
  if (w.length >= capacity)
    return ChatResult::TooLong;
  text[w.length] = '\0';
  return ChatResult::Ok;
}

extern "C" tlm_status tlm_chat_format(tlm_session *s,
                                      const tlm_message *messages,
                                      size_t count, size_t first, char *text,
                                      size_t capacity, size_t *length) {
  if (!s || !length || (count && !messages) || (capacity && !text))
    return s ? fail(s->error, sizeof s->error, TLM_ERR_INVALID_ARGUMENT,
                    "tlm_chat_format: null argument")
             : TLM_ERR_INVALID_ARGUMENT;
  size_t bad = 0;
  switch (formatChat(s->chat, messages, count, first, text, capacity, length,
                     &bad)) {
  case ChatResult::Ok:
    return TLM_OK;
  case ChatResult::NoChatFormat:
    return fail(s->error, sizeof s->error, TLM_ERR_INVALID_ARGUMENT,
                "tlm_chat_format: the model was compiled without a chat "
                "template");
  case ChatResult::BadRoles:
    if (bad == count)
      return fail(s->error, sizeof s->error, TLM_ERR_INVALID_ARGUMENT,
                  "tlm_chat_format: the last message must be the user's "
                  "(and first < count)");
    return fail(s->error, sizeof s->error, TLM_ERR_INVALID_ARGUMENT,
                "tlm_chat_format: message %zu is out of order (expected "
                "[system] user (assistant user)*) or has no content",
                bad);
  case ChatResult::NoSystemRole:
    return fail(s->error, sizeof s->error, TLM_ERR_INVALID_ARGUMENT,
                "tlm_chat_format: the model's chat template has no system "
                "role (message %zu)",
                bad);
  case ChatResult::TooLong:
    return fail(s->error, sizeof s->error, TLM_ERR_INVALID_ARGUMENT,
                "tlm_chat_format: the text needs %zu bytes and a NUL, the "
                "buffer has %zu",
                *length, capacity);
  }
  return TLM_ERR_INVALID_ARGUMENT;
}

extern "C" int32_t tlm_chat_end_token(const tlm_session *s) {
  if (!s || !s->chat.present)
    return -1;
  // A template whose replies end in no added token ends them with EOS.
  return s->chatEndToken >= 0 ? s->chatEndToken : s->config.eos;
}
