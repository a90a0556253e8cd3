//===- ChatTemplate.h - a chat template rendered for the device ---*- C++ -*-===//
//
// Renders a model's Jinja chat template at compile time into a ChatFormat:
// the text before the first message (by its role), between two messages (by
// their roles), and after the last user message (the reply's opening), plus
// whether each role's content is trimmed and the token a reply ends with.
// It renders conversations whose contents are sentinels, cuts the text at
// them, then renders longer conversations (other contents, white space
// around them) and requires the runtime's own assembly
// (runtime/src/ChatFormat.h) to give exactly the same text. A template whose
// text depends on anything else (a date, the message count, the content)
// is refused with the first difference.
//
//===----------------------------------------------------------------------===//

#ifndef TLMC_COMPILER_IMPORT_CHAT_CHATTEMPLATE_H
#define TLMC_COMPILER_IMPORT_CHAT_CHATTEMPLATE_H

#include "codegen/Target/TokenizerData.h"
#include "runtime/src/ChatFormat.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

#include <string>

namespace tlmc {

/// The ChatFormat of `tokenizer.chatTemplate` (rendered with its special
/// tokens); an error says why the template cannot be expressed.
llvm::Expected<ChatFormat> renderChatFormat(const TokenizerData &tokenizer);

/// Sets `tokenizer.chat` from its template, if it has one, or
/// `tokenizer.chatUnsupported` to why not: a model whose chat template
/// tlmc cannot render still compiles, without chat.
void attachChatFormat(TokenizerData &tokenizer);

/// The runtime's view of `format` (pointing into it).
tlmrt::ChatFormatView getChatFormatView(const ChatFormat &format);

/// The whole conversation `messages` as the device assembles it (the
/// runtime's code), through the reply's opening.
llvm::Expected<std::string> assembleChat(const ChatFormat &format,
                                         llvm::ArrayRef<tlm_message> messages);

} // namespace tlmc

#endif // TLMC_COMPILER_IMPORT_CHAT_CHATTEMPLATE_H
