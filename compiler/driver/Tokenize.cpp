//===- Tokenize.cpp - tlmc tokenize -----------------------------------------===//
//
// llama.cpp users know this as llama-tokenize: check a vocabulary without
// compiling a model. The ids are the device's: the runtime's own tokenizer
// code runs over the tables the container would hold.
//
//===----------------------------------------------------------------------===//

#include "compiler/driver/Tokenize.h"
#include "compiler/driver/RuntimeTokenizer.h"
#include "compiler/import/Import.h"
#include "compiler/import/chat/ChatTemplate.h"

#include "llvm/Support/Format.h"
#include "llvm/Support/JSON.h"

using namespace tlmc;

namespace {
llvm::Error failWith(llvm::StringRef path, const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 path + ": " + message);
}

// A conversation as JSON ([{"role": ..., "content": ...}, ...]) in the
// tokenizer's chat format, as the device's tlm_chat_format assembles it.
llvm::Expected<std::string> formatConversation(const TokenizerData &tokenizer,
                                               llvm::StringRef tokenizerPath,
                                               llvm::StringRef json) {
  if (!tokenizer.chat)
    return failWith(tokenizerPath,
                    tokenizer.chatTemplate.empty()
                        ? llvm::Twine("has no chat template")
                        : "chat template (" + tokenizer.chatTemplateSource +
                              ") cannot be rendered for the device: " +
                              tokenizer.chatUnsupported);
  auto parsed = llvm::json::parse(json);
  if (!parsed)
    return failWith("conversation", llvm::toString(parsed.takeError()));
  const llvm::json::Array *list = parsed->getAsArray();
  if (!list)
    return failWith("conversation", "expected a JSON array of messages");
  std::vector<std::string> contents;
  std::vector<tlm_role> roles;
  for (size_t i = 0; i < list->size(); ++i) {
    const llvm::json::Object *m = (*list)[i].getAsObject();
    std::optional<llvm::StringRef> role = m ? m->getString("role") : std::nullopt;
    std::optional<llvm::StringRef> content =
        m ? m->getString("content") : std::nullopt;
    if (!role || !content || !(*role == "system" || *role == "user" ||
                               *role == "assistant"))
      return failWith("conversation",
                      "message " + llvm::Twine(i) +
                          ": expected {\"role\": system|user|assistant, "
                          "\"content\": text}");
    roles.push_back(*role == "system" ? TLM_ROLE_SYSTEM
                    : *role == "user" ? TLM_ROLE_USER
                                      : TLM_ROLE_ASSISTANT);
    contents.push_back(content->str());
  }
  std::vector<tlm_message> messages;
  for (size_t i = 0; i < roles.size(); ++i)
    messages.push_back({roles[i], contents[i].c_str()});
  auto text = assembleChat(*tokenizer.chat, messages);
  if (!text)
    return failWith("conversation", llvm::toString(text.takeError()));
  return text;
}
} // namespace

llvm::Error tlmc::printTokens(llvm::StringRef tokenizerPath,
                              llvm::StringRef input, TokenOutput output,
                              bool addBos, bool chat, llvm::raw_ostream &os) {
  ModelFiles files;
  auto tokenizer = readTokenizerFile(files, tokenizerPath, /*vocab=*/0);
  if (!tokenizer)
    return tokenizer.takeError();
  std::string text = input.str();
  if (chat) {
    auto formatted = formatConversation(*tokenizer, tokenizerPath, input);
    if (!formatted)
      return formatted.takeError();
    text = std::move(*formatted);
    addBos = false; // the template writes BOS where it wants one
  }
  // BOS: a GGUF says it; llama2.c and SentencePiece-style files use 1; a
  // byte-level vocabulary has none unless added (GPT-2 starts from none).
  int32_t bos = tokenizer->kind == TokenizerData::Kind::SentencePiece ? 1 : -1;
  auto runtime = RuntimeTokenizer::create(*tokenizer, bos);
  if (!runtime)
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   tokenizerPath + ": " +
                                       llvm::toString(runtime.takeError()));
  auto encoded = (*runtime)->encode(text, addBos && bos >= 0);
  if (!encoded)
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   tokenizerPath + ": " +
                                       llvm::toString(encoded.takeError()));
  std::vector<int32_t> ids = std::move(*encoded);
  if (output == TokenOutput::Text) {
    std::string decoded;
    for (size_t i = 0; i < ids.size(); ++i)
      if (!(i == 0 && addBos && bos >= 0))
        decoded += (*runtime)->piece(ids[i]);
    // The space SentencePiece puts before the text is not the text's (the
    // runtime's tlm_token_text drops it after BOS).
    if (tokenizer->kind == TokenizerData::Kind::SentencePiece &&
        tokenizer->addPrefixSpace && llvm::StringRef(decoded).starts_with(" "))
      decoded.erase(0, 1);
    os << decoded;
    return llvm::Error::success();
  }
  if (output == TokenOutput::Ids) {
    for (size_t i = 0; i < ids.size(); ++i)
      os << (i ? " " : "") << ids[i];
    os << "\n";
    return llvm::Error::success();
  }
  for (int32_t id : ids) {
    os << id << "\t";
    for (unsigned char c : (*runtime)->piece(id)) {
      if (c < 0x20 || c == 0x7f)
        os << llvm::format("\\x%02x", c);
      else
        os << c;
    }
    os << "\n";
  }
  return llvm::Error::success();
}
