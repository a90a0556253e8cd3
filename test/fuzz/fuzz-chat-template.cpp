//===- fuzz-chat-template.cpp - a chat template on arbitrary bytes -*- C++ -*-===//
//
// A model file's chat template (GGUF tokenizer.chat_template, HF
// tokenizer_config.json) is text from anywhere, which `tlmc compile` parses
// and runs (compiler/import/chat). The input is the template: it must give
// a ChatFormat or a one-line error, within bounded time and memory; an
// accepted format is then used as the runtime uses it.
//
//===----------------------------------------------------------------------===//

#include "compiler/import/chat/ChatTemplate.h"
#include "test/fuzz/FuzzSupport.h"

#include <cstdlib>

using namespace tlmc;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  TokenizerData tok;
  tok.chatTemplate = fuzz::asText(data, size).str();
  tok.tokens = {"<unk>", "<s>", "</s>", "<|end|>"};
  tok.addedTokens = {1, 2, 3};
  tok.specialTokens = {{"bos_token", "<s>"}, {"eos_token", "</s>"}};
  auto format = renderChatFormat(tok);
  if (!format) {
    std::string message = llvm::toString(format.takeError());
    if (message.empty() || message.find('\n') != std::string::npos)
      std::abort(); // errors are one line
    return 0;
  }
  std::vector<tlm_message> messages;
  if (format->hasSystem)
    messages.push_back({TLM_ROLE_SYSTEM, " sys "});
  messages.push_back({TLM_ROLE_USER, "hello"});
  messages.push_back({TLM_ROLE_ASSISTANT, "\thi\n"});
  messages.push_back({TLM_ROLE_USER, ""});
  auto text = assembleChat(*format, messages);
  if (!text)
    std::abort(); // a derived format assembles every valid conversation
  return 0;
}
