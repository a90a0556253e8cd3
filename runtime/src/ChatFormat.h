//===- ChatFormat.h - a conversation as the model's chat template has it -*- C++ -*-===//
//
// Internal to the runtime. The compiler renders a model's chat template
// (compiler/import/chat/ChatTemplate.h) into the text that goes before,
// between and after messages, which depends only on their roles; this
// assembles a conversation from that text and the messages' contents, with
// no template engine on the device. The compiler checks its own rendering
// of longer conversations against this same code.
//
//===----------------------------------------------------------------------===//

#ifndef TLMC_RUNTIME_SRC_CHATFORMAT_H
#define TLMC_RUNTIME_SRC_CHATFORMAT_H

#include "runtime/include/tlm/tlm.h"

#include <cstddef>

namespace tlmrt {

struct TextView {
  const char *data = nullptr;
  size_t size = 0;
};

struct ChatFormatView {
  bool present = false;
  /// Before the first message, by its role (system or user).
  TextView startSystem, startUser;
  /// Between two messages, by their roles.
  TextView systemUser, userAssistant, assistantUser;
  /// After the last (user) message: opens the assistant's reply.
  TextView generation;
  /// Whether the template strips white space around a role's content
  /// (indexed by tlm_role).
  bool trim[3] = {};
  /// Whether the template has a system role at all.
  bool hasSystem = true;
};

enum class ChatResult {
  Ok,
  NoChatFormat,  ///< the model has no chat template
  BadRoles,      ///< not [system] user (assistant user)*; *badIndex says where
  NoSystemRole,  ///< a system message, and the template has no system role
  TooLong,       ///< more than `capacity` bytes; *length says how many
};

/// Writes the text that messages[first, count) add to a conversation whose
/// messages[0, first) are already in the context: from the text after
/// messages[first - 1] (or the conversation's start), through the opening
/// of the assistant's reply. `*length` is the text's size without the
/// terminating NUL (written when it fits). On BadRoles, `*badIndex` is the
/// first message out of order.
ChatResult formatChat(const ChatFormatView &format, const tlm_message *messages,
                      size_t count, size_t first, char *text, size_t capacity,
                      size_t *length, size_t *badIndex);

} // namespace tlmrt

#endif // TLMC_RUNTIME_SRC_CHATFORMAT_H
