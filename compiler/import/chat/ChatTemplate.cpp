//===- ChatTemplate.cpp - a chat template rendered for the device ---------===//

#include "compiler/import/chat/ChatTemplate.h"
#include "compiler/import/chat/Jinja.h"
#include "runtime/src/ChatFormat.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/FormatVariadic.h"

using namespace tlmc;
using jinja::Value;

tlmrt::ChatFormatView tlmc::getChatFormatView(const ChatFormat &format) {
  auto text = [](const std::string &s) {
    return tlmrt::TextView{s.data(), s.size()};
  };
  tlmrt::ChatFormatView view;
  view.present = true;
  view.startSystem = text(format.startSystem);
  view.startUser = text(format.startUser);
  view.systemUser = text(format.systemUser);
  view.userAssistant = text(format.userAssistant);
  view.assistantUser = text(format.assistantUser);
  view.generation = text(format.generation);
  view.trim[TLM_ROLE_SYSTEM] = format.trimSystem;
  view.trim[TLM_ROLE_USER] = format.trimUser;
  view.trim[TLM_ROLE_ASSISTANT] = format.trimAssistant;
  view.hasSystem = format.hasSystem;
  return view;
}

llvm::Expected<std::string>
tlmc::assembleChat(const ChatFormat &format,
                   llvm::ArrayRef<tlm_message> messages) {
  tlmrt::ChatFormatView view = getChatFormatView(format);
  size_t length = 0, bad = 0;
  std::string text(256, '\0');
  tlmrt::ChatResult result;
  while ((result = tlmrt::formatChat(view, messages.data(), messages.size(), 0,
                                     text.data(), text.size(), &length,
                                     &bad)) == tlmrt::ChatResult::TooLong)
    text.resize(length + 1);
  switch (result) {
  case tlmrt::ChatResult::Ok:
    text.resize(length);
    return text;
  case tlmrt::ChatResult::NoSystemRole:
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        "the model's chat template has no system role");
  default:
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        "messages must be [system] user (assistant user)*, ending with the "
        "user's (message %zu is not)",
        bad);
  }
}

namespace {

const char *roleName(tlm_role role) {
  return role == TLM_ROLE_SYSTEM ? "system"
         : role == TLM_ROLE_USER ? "user"
                                 : "assistant";
}

llvm::Error fail(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 message.str());
}

// One conversation, both as the template sees it and as the runtime does.
struct Conversation {
  std::vector<tlm_role> roles;
  std::vector<std::string> contents;

  Conversation(bool withSystem, size_t exchanges, llvm::StringRef tag,
               llvm::StringRef pad) {
    if (withSystem)
      add(TLM_ROLE_SYSTEM, tag, pad);
    for (size_t n = 0; n < exchanges; ++n) {
      if (n)
        add(TLM_ROLE_ASSISTANT, tag, pad);
      add(TLM_ROLE_USER, tag, pad);
    }
  }
  void add(tlm_role role, llvm::StringRef tag, llvm::StringRef pad) {
    // Sentinels no template writes itself: they mark where contents go.
    contents.push_back((pad + "tlmc" + tag + std::to_string(roles.size()) +
                        roleName(role) + pad)
                           .str());
    roles.push_back(role);
  }
  Value messages() const {
    jinja::List list;
    for (size_t n = 0; n < roles.size(); ++n)
      list.push_back(Value::dict({{"role", Value::string(roleName(roles[n]))},
                                  {"content", Value::string(contents[n])}}));
    return Value::list(std::move(list));
  }
  std::vector<tlm_message> runtimeMessages() const {
    std::vector<tlm_message> out;
    for (size_t n = 0; n < roles.size(); ++n)
      out.push_back({roles[n], contents[n].c_str()});
    return out;
  }
};

class Renderer {
public:
  Renderer(const jinja::Template &tmpl, const TokenizerData &tok)
      : tmpl(tmpl), tok(tok) {}

  llvm::Expected<std::string> render(const Conversation &c) const {
    jinja::Dict variables = {{"messages", c.messages()},
                             {"add_generation_prompt", Value::boolean(true)}};
    for (const auto &[name, text] : tok.specialTokens)
      variables.emplace_back(name, Value::string(text));
    return tmpl.render(variables);
  }

  // The text between consecutive contents of `c` in `rendered`: pieces[0]
  // before the first, pieces[n] after content n - 1.
  llvm::Expected<std::vector<std::string>>
  cut(const Conversation &c, const std::string &rendered) const {
    std::vector<std::string> pieces;
    size_t from = 0;
    for (size_t n = 0; n < c.contents.size(); ++n) {
      const std::string &content = c.contents[n];
      size_t at = rendered.find(content, from);
      if (at == std::string::npos ||
          rendered.find(content, at + 1) != std::string::npos)
        return fail(llvm::formatv(
            "it does not render the {0} message's content once, in order",
            roleName(c.roles[n])));
      pieces.push_back(rendered.substr(from, at - from));
      from = at + content.size();
    }
    pieces.push_back(rendered.substr(from));
    return pieces;
  }

private:
  const jinja::Template &tmpl;
  const TokenizerData &tok;
};

// The longest added token `text` starts with: how a reply ends.
int32_t findEndOfTurn(const TokenizerData &tok, llvm::StringRef text) {
  int32_t best = -1;
  size_t bestLength = 0;
  for (int32_t id : tok.addedTokens) {
    if (id < 0 || size_t(id) >= tok.tokens.size())
      continue;
    const std::string &t = tok.tokens[id];
    if (!t.empty() && t.size() > bestLength && text.starts_with(t)) {
      best = id;
      bestLength = t.size();
    }
  }
  return best;
}

// Where two texts first differ, shown with some context.
std::string describeDifference(const std::string &expected,
                               const std::string &actual) {
  size_t at = 0;
  while (at < expected.size() && at < actual.size() &&
         expected[at] == actual[at])
    ++at;
  auto excerpt = [&](const std::string &s) {
    std::string e = llvm::StringRef(s).substr(at, 40).str();
    std::string escaped;
    for (char ch : e)
      escaped += ch == '\n' ? std::string("\\n") : std::string(1, ch);
    return "'" + escaped + "'";
  };
  return llvm::formatv("at byte {0} the template renders {1}, the text "
                       "between messages gives {2}",
                       at, excerpt(expected), excerpt(actual))
      .str();
}

} // namespace

static llvm::Expected<ChatFormat> deriveChatFormat(const TokenizerData &tokenizer) {
  auto tmpl = jinja::Template::parse(tokenizer.chatTemplate);
  if (!tmpl)
    return tmpl.takeError();
  Renderer renderer(*tmpl, tokenizer);
  ChatFormat format;

  // A system message, two earlier exchanges and the question.
  Conversation withSystem(true, 3, "a", "");
  auto rendered = renderer.render(withSystem);
  if (!rendered) {
    // Templates without a system role raise an error for one.
    llvm::consumeError(rendered.takeError());
    format.hasSystem = false;
  }
  Conversation plain(false, 3, "b", "");
  auto plainText = renderer.render(plain);
  if (!plainText)
    return plainText.takeError();
  auto plainPieces = renderer.cut(plain, *plainText);
  if (!plainPieces)
    return plainPieces.takeError();
  // user0 assistant1 user2 assistant3 user4
  format.startUser = (*plainPieces)[0];
  format.userAssistant = (*plainPieces)[1];
  format.assistantUser = (*plainPieces)[2];
  format.generation = (*plainPieces)[5];
  if (format.hasSystem) {
    auto pieces = renderer.cut(withSystem, *rendered);
    if (!pieces)
      return pieces.takeError();
    format.startSystem = (*pieces)[0];
    format.systemUser = (*pieces)[1];
  }

  // Whether each role's content is trimmed: render with white space around
  // every content and see whether it stays.
  Conversation padded(format.hasSystem, 2, "c", " \n");
  auto paddedText = renderer.render(padded);
  if (!paddedText)
    return paddedText.takeError();
  for (size_t n = 0; n < padded.roles.size(); ++n) {
    bool kept = paddedText->find(padded.contents[n]) != std::string::npos;
    bool &trim = padded.roles[n] == TLM_ROLE_SYSTEM ? format.trimSystem
                 : padded.roles[n] == TLM_ROLE_USER ? format.trimUser
                                                    : format.trimAssistant;
    trim = !kept;
  }

  // The proof: longer conversations, other contents with white space around
  // them, rendered by the template and assembled by the runtime's code.
  for (bool system : {true, false}) {
    if (system && !format.hasSystem)
      continue;
    for (size_t exchanges : {1, 4}) {
      Conversation check(system, exchanges, "d", "\t \n");
      auto expected = renderer.render(check);
      if (!expected)
        return expected.takeError();
      auto actual = assembleChat(format, check.runtimeMessages());
      if (!actual)
        return actual.takeError();
      if (*expected != *actual)
        return fail(llvm::formatv(
            "its text around messages depends on more than their roles "
            "({0} messages{1}: {2})",
            check.roles.size(), system ? ", a system prompt" : "",
            describeDifference(*expected, *actual)));
    }
  }
  format.endOfTurn = findEndOfTurn(tokenizer, format.assistantUser);
  return format;
}

llvm::Expected<ChatFormat>
tlmc::renderChatFormat(const TokenizerData &tokenizer) {
  auto format = deriveChatFormat(tokenizer);
  if (format)
    return format;
  // One line, whatever the template raised.
  std::string message = llvm::toString(format.takeError());
  for (char &c : message)
    if (c == '\n' || c == '\r')
      c = ' ';
  return fail(message);
}

void tlmc::attachChatFormat(TokenizerData &tokenizer) {
  tokenizer.chat.reset();
  tokenizer.chatUnsupported.clear();
  if (tokenizer.chatTemplate.empty())
    return;
  auto format = renderChatFormat(tokenizer);
  if (format)
    tokenizer.chat = std::move(*format);
  else
    tokenizer.chatUnsupported = llvm::toString(format.takeError());
}
