//===- TokenizerFiles.cpp - tokenizers beside or instead of the model -*- C++ -*-===//
//
// A model file may carry no tokenizer (llama2.c checkpoints, HF folders
// without tokenizer.json), or the user may name another: a llama2.c
// `tok*.bin`, an HF `tokenizer.json`, or a GGUF file. All become the same
// TokenizerData that the container stores for the runtime.
//
//===----------------------------------------------------------------------===//

#include "compiler/import/Import.h"
#include "compiler/import/chat/ChatTemplate.h"
#include "compiler/import/common/BinaryReader.h"
#include "runtime/src/ByteLevelSymbols.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Path.h"

#include <algorithm>

using namespace tlmc;

std::string tlmc::findTokenizerBeside(const ModelFiles &files,
                                      llvm::StringRef modelPath,
                                      int64_t vocab) {
  llvm::SmallString<256> dir(modelPath);
  if (!files.isDirectory(modelPath))
    dir = llvm::sys::path::parent_path(modelPath);
  for (std::string name : {"tok" + std::to_string(vocab) + ".bin",
                           std::string("tokenizer.bin"),
                           std::string("tokenizer.json")}) {
    llvm::SmallString<256> candidate = dir;
    llvm::sys::path::append(candidate, name);
    if (files.exists(candidate))
      return std::string(candidate);
  }
  return {};
}

llvm::Expected<TokenizerData>
tlmc::readTokenizerFile(const ModelFiles &files, llvm::StringRef path,
                        int64_t vocab) {
  if (!files.exists(path))
    return makeImportError(path, "tokenizer file not found");
  llvm::StringRef ext = llvm::sys::path::extension(path);
  llvm::Expected<TokenizerData> tok =
      ext == ".json"   ? readHFTokenizer(files, path, vocab)
      : ext == ".gguf" ? readGGUFTokenizer(files, path)
                       : readLlama2cTokenizer(files, path, vocab);
  if (!tok)
    return tok.takeError();
  if (vocab > 0 && int64_t(tok->tokens.size()) != vocab)
    return makeImportError(path,
                           llvm::formatv("tokenizer has {0} tokens, the "
                                         "model's vocabulary has {1}",
                                         tok->tokens.size(), vocab));
  if (llvm::Error err = checkTokenizer(*tok, path))
    return std::move(err);
  attachChatFormat(*tok);
  return tok;
}

llvm::Error tlmc::checkTokenizer(const TokenizerData &tokenizer,
                                 llvm::StringRef file) {
  if (tokenizer.kind != TokenizerData::Kind::GPT2)
    return llvm::Error::success();
  // Byte-level BPE starts from one symbol per byte; a vocabulary missing
  // one cannot spell every text.
  llvm::StringSet<> tokens;
  for (const std::string &t : tokenizer.tokens)
    tokens.insert(t);
  for (unsigned b = 0; b < 256; ++b) {
    char symbol[2];
    unsigned length =
        tlmrt::encodeByteSymbol(tlmrt::byteToCodePoint(b), symbol);
    if (!tokens.contains(llvm::StringRef(symbol, length)))
      return makeImportError(
          file, llvm::formatv("byte-level vocabulary has no token for byte "
                              "0x{0:X-2} (symbol '{1}')",
                              b, llvm::StringRef(symbol, length)));
  }
  return llvm::Error::success();
}

std::string tlmc::fromSentencePieceSpaces(llvm::StringRef token) {
  std::string out;
  for (size_t i = 0; i < token.size(); ++i) {
    if (token.substr(i).starts_with("\xE2\x96\x81")) {
      out += ' ';
      i += 2;
    } else {
      out += token[i];
    }
  }
  return out;
}

namespace {
using Pre = TokenizerData::PreTokenizer;

/// The split regexes the runtime implements (runtime/src/PreTokenizer.cpp),
/// as tokenizer.json spells them.
constexpr llvm::StringLiteral kGPT2Pattern =
    R"re('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)re";
constexpr llvm::StringLiteral kLlama3Pattern =
    R"re((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re";
constexpr llvm::StringLiteral kQwen2Pattern =
    R"re((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re";

/// The components of a `Sequence` (its `key` list), or the object itself.
std::vector<const llvm::json::Object *>
flatten(const llvm::json::Object *o, llvm::StringRef key) {
  std::vector<const llvm::json::Object *> out;
  if (!o)
    return out;
  if (o->getString("type") == llvm::StringRef("Sequence")) {
    if (const llvm::json::Array *items = o->getArray(key))
      for (const llvm::json::Value &item : *items)
        out.push_back(item.getAsObject());
    return out;
  }
  out.push_back(o);
  return out;
}

std::string describe(const llvm::json::Value *v) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << (v ? *v : llvm::json::Value(nullptr));
  return text.size() > 200 ? text.substr(0, 200) + "..." : text;
}

/// How a byte-level tokenizer.json splits (and normalizes) text, as the
/// runtime can do it; anything else is refused by name.
llvm::Error readByteLevelText(llvm::StringRef path,
                              const llvm::json::Object &root,
                              TokenizerData &tok) {
  const llvm::json::Value *normalizer = root.get("normalizer");
  for (const llvm::json::Object *n :
       flatten(normalizer ? normalizer->getAsObject() : nullptr,
               "normalizers")) {
    std::optional<llvm::StringRef> type = n ? n->getString("type") : std::nullopt;
    if (type == llvm::StringRef("NFC"))
      tok.normalizeNFC = true;
    else
      return makeImportError(path, "normalizer " + describe(normalizer) +
                                       " is not supported (a byte-level "
                                       "tokenizer may have none or NFC)");
  }
  const llvm::json::Value *pre = root.get("pre_tokenizer");
  std::vector<const llvm::json::Object *> steps =
      flatten(pre ? pre->getAsObject() : nullptr, "pretokenizers");
  auto isByteLevel = [](const llvm::json::Object *o, bool useRegex) {
    return o && o->getString("type") == llvm::StringRef("ByteLevel") &&
           !o->getBoolean("add_prefix_space").value_or(true) &&
           o->getBoolean("use_regex").value_or(true) == useRegex;
  };
  std::optional<Pre> kind;
  if (steps.size() == 1 && isByteLevel(steps[0], /*useRegex=*/true)) {
    kind = Pre::GPT2;
  } else if (steps.size() == 2 && isByteLevel(steps[1], /*useRegex=*/true) &&
             steps[0] &&
             steps[0]->getString("type") == llvm::StringRef("Digits") &&
             steps[0]->getBoolean("individual_digits").value_or(false)) {
    kind = Pre::SmolLM;
  } else if (steps.size() == 2 && isByteLevel(steps[1], /*useRegex=*/false) &&
             steps[0] &&
             steps[0]->getString("type") == llvm::StringRef("Split") &&
             steps[0]->getString("behavior") == llvm::StringRef("Isolated") &&
             !steps[0]->getBoolean("invert").value_or(false)) {
    const llvm::json::Object *pattern = steps[0]->getObject("pattern");
    std::optional<llvm::StringRef> regex =
        pattern ? pattern->getString("Regex") : std::nullopt;
    if (regex == kGPT2Pattern)
      kind = Pre::GPT2;
    else if (regex == kLlama3Pattern)
      kind = Pre::Llama3;
    else if (regex == kQwen2Pattern)
      kind = Pre::Qwen2;
  }
  if (!kind)
    return makeImportError(path, "pre_tokenizer " + describe(pre) +
                                     " is not supported (expected GPT-2's, "
                                     "Llama-3's or Qwen2's split with "
                                     "ByteLevel, or SmolLM's single digits "
                                     "before it)");
  tok.preTokenizer = *kind;
  return llvm::Error::success();
}

/// How a SentencePiece-style tokenizer.json (BPE with byte fallback) turns
/// spaces into U+2581, and whether it puts one before the text.
llvm::Error readSentencePieceText(llvm::StringRef path,
                                  const llvm::json::Object &root,
                                  TokenizerData &tok) {
  const llvm::json::Value *normalizer = root.get("normalizer");
  bool replacesSpaces = false, prepends = false, other = false;
  for (const llvm::json::Object *n :
       flatten(normalizer ? normalizer->getAsObject() : nullptr,
               "normalizers")) {
    std::optional<llvm::StringRef> type = n ? n->getString("type") : std::nullopt;
    const llvm::json::Object *pattern = n ? n->getObject("pattern") : nullptr;
    if (type == llvm::StringRef("Replace") && pattern &&
        pattern->getString("String") == llvm::StringRef(" ") &&
        n->getString("content") == llvm::StringRef("\xE2\x96\x81"))
      replacesSpaces = true;
    else if (type == llvm::StringRef("Prepend") &&
             n->getString("prepend") == llvm::StringRef("\xE2\x96\x81"))
      prepends = true;
    else
      other = true;
  }

  // The other form: no normalizer, a Metaspace pre-tokenizer that replaces
  // spaces and prepends one to every run of text. Only without splitting at
  // U+2581: split words would never merge into tokens such as "\u2581\u2581".
  const llvm::json::Value *pre = root.get("pre_tokenizer");
  const llvm::json::Object *meta = pre ? pre->getAsObject() : nullptr;
  if (meta && meta->getString("type") == llvm::StringRef("Metaspace") &&
      (!normalizer || normalizer->kind() == llvm::json::Value::Null) &&
      meta->getString("replacement") == llvm::StringRef("\xE2\x96\x81") &&
      meta->getBoolean("split") == false) {
    std::optional<llvm::StringRef> scheme = meta->getString("prepend_scheme");
    bool always = scheme ? *scheme == "always"
                         : meta->getBoolean("add_prefix_space").value_or(true);
    bool never = scheme && *scheme == "never";
    if (always || never) {
      tok.addPrefixSpace = always;
      return llvm::Error::success();
    }
    return makeImportError(path, "pre_tokenizer Metaspace prepend_scheme '" +
                                     scheme.value_or("").str() +
                                     "' is not supported (expected always "
                                     "or never)");
  }
  if (other || !replacesSpaces)
    return makeImportError(path, "normalizer " + describe(normalizer) +
                                     " is not supported (expected spaces "
                                     "replaced by U+2581, optionally one "
                                     "prepended)");
  tok.addPrefixSpace = prepends;
  // After the normalizer no space is left: splitting at spaces is a no-op.
  const llvm::json::Object *split = pre ? pre->getAsObject() : nullptr;
  const llvm::json::Object *pattern = split ? split->getObject("pattern") : nullptr;
  bool noOp = !split || (split->getString("type") == llvm::StringRef("Split") &&
                         pattern &&
                         pattern->getString("String") == llvm::StringRef(" "));
  if (pre && pre->kind() != llvm::json::Value::Null && !noOp)
    return makeImportError(path, "pre_tokenizer " + describe(pre) +
                                     " is not supported for a SentencePiece-"
                                     "style tokenizer (expected none)");
  return llvm::Error::success();
}
// The chat template and special tokens transformers keeps beside
// tokenizer.json: tokenizer_config.json's `chat_template` (a string, or a
// list of named templates of which "default" is the chat's), or a
// chat_template.jinja file, which newer transformers writes instead.
llvm::Error readHFChatTemplate(const ModelFiles &files, llvm::StringRef path,
                               TokenizerData &tok) {
  llvm::SmallString<256> dir = llvm::sys::path::parent_path(path);
  llvm::SmallString<256> configPath = dir, jinjaPath = dir;
  llvm::sys::path::append(configPath, "tokenizer_config.json");
  llvm::sys::path::append(jinjaPath, "chat_template.jinja");
  if (files.exists(configPath)) {
    auto json = files.parseJson(configPath);
    if (!json)
      return json.takeError();
    const llvm::json::Object *config = json->getAsObject();
    if (!config)
      return makeImportError(configPath, "expected a JSON object");
    for (const char *name : {"bos_token", "eos_token", "unk_token", "pad_token"}) {
      const llvm::json::Value *v = config->get(name);
      std::optional<llvm::StringRef> text = v ? v->getAsString() : std::nullopt;
      if (const llvm::json::Object *o = v ? v->getAsObject() : nullptr)
        text = o->getString("content");
      if (text)
        tok.specialTokens.emplace_back(name, text->str());
    }
    if (const llvm::json::Value *chat = config->get("chat_template")) {
      if (std::optional<llvm::StringRef> s = chat->getAsString()) {
        tok.chatTemplate = s->str();
      } else if (const llvm::json::Array *named = chat->getAsArray()) {
        for (const llvm::json::Value &entry : *named) {
          const llvm::json::Object *o = entry.getAsObject();
          if (o && o->getString("name") == llvm::StringRef("default") &&
              o->getString("template"))
            tok.chatTemplate = o->getString("template")->str();
        }
        if (tok.chatTemplate.empty())
          return makeImportError(configPath, "chat_template: expected a "
                                             "template named \"default\"");
      } else if (chat->kind() != llvm::json::Value::Null) {
        return makeImportError(configPath, "chat_template: expected a string "
                                           "or a list of named templates");
      }
      tok.chatTemplateSource = (configPath + ": chat_template").str();
    }
  }
  if (tok.chatTemplate.empty() && files.exists(jinjaPath)) {
    auto text = files.map(jinjaPath);
    if (!text)
      return text.takeError();
    tok.chatTemplate = (*text)->getBuffer().str();
    tok.chatTemplateSource = jinjaPath.str().str();
  }
  return llvm::Error::success();
}
} // namespace

llvm::Expected<TokenizerData> tlmc::readHFTokenizer(const ModelFiles &files,
                                                    llvm::StringRef path,
                                                    int64_t vocab) {
  auto json = files.parseJson(path);
  if (!json)
    return json.takeError();
  const llvm::json::Object *root = json->getAsObject();
  const llvm::json::Object *model = root ? root->getObject("model") : nullptr;
  if (!model)
    return makeImportError(path, "expected an object 'model'");
  if (model->getString("type") != llvm::StringRef("BPE"))
    return makeImportError(path, "model.type: only BPE tokenizers are "
                                 "supported");
  const llvm::json::Object *vocabMap = model->getObject("vocab");
  const llvm::json::Array *merges = model->getArray("merges");
  if (!vocabMap || !merges)
    return makeImportError(path, "model: expected 'vocab' and 'merges'");

  const llvm::json::Array *addedTokens = root->getArray("added_tokens");
  if (vocab <= 0) {
    // No model to say it: the ids the file uses.
    vocab = 0;
    for (const auto &[text, id] : *vocabMap)
      vocab = std::max(vocab, id.getAsInteger().value_or(-1) + 1);
    if (addedTokens)
      for (const llvm::json::Value &v : *addedTokens)
        if (const llvm::json::Object *o = v.getAsObject())
          vocab = std::max(vocab, o->getInteger("id").value_or(-1) + 1);
    if (vocab <= 0 || vocab > (int64_t(1) << 24))
      return makeImportError(path, "model.vocab: expected ids from 0 to 2^24");
  }
  // Tokens by id: the vocabulary, then the added tokens.
  std::vector<std::string> tokens(vocab);
  std::vector<bool> present(vocab, false);
  auto place = [&](llvm::StringRef text, int64_t id) -> llvm::Error {
    if (id < 0 || id >= vocab)
      return makeImportError(
          path, llvm::formatv("token '{0}' has id {1}, outside the model's "
                              "vocabulary of {2}",
                              text, id, vocab));
    tokens[id] = text.str();
    present[id] = true;
    return llvm::Error::success();
  };
  for (const auto &[text, id] : *vocabMap) {
    std::optional<int64_t> i = id.getAsInteger();
    if (!i)
      return makeImportError(path, "model.vocab: ids must be integers");
    if (auto err = place(text, *i))
      return std::move(err);
  }
  std::vector<int32_t> added;
  if (addedTokens)
    for (const llvm::json::Value &v : *addedTokens) {
      const llvm::json::Object *o = v.getAsObject();
      std::optional<int64_t> id = o ? o->getInteger("id") : std::nullopt;
      std::optional<llvm::StringRef> content =
          o ? o->getString("content") : std::nullopt;
      if (!id || !content)
        return makeImportError(path, "added_tokens: expected id and content");
      for (const char *flag : {"lstrip", "rstrip", "single_word"})
        if (o->getBoolean(flag).value_or(false))
          return makeImportError(path, "added token '" + *content + "': '" +
                                           flag + "' is not supported");
      if (auto err = place(*content, *id))
        return std::move(err);
      added.push_back(int32_t(*id));
    }
  // Embedding rows beyond the tokenizer (padding) get unmatchable names.
  for (int64_t i = 0; i < vocab; ++i)
    if (!present[i])
      tokens[i] = "<tlmc-unused-" + std::to_string(i) + ">";

  std::vector<std::string> mergeList;
  for (const llvm::json::Value &m : *merges) {
    if (std::optional<llvm::StringRef> s = m.getAsString()) {
      mergeList.push_back(s->str());
    } else if (const llvm::json::Array *pair = m.getAsArray();
               pair && pair->size() == 2 && (*pair)[0].getAsString() &&
               (*pair)[1].getAsString()) {
      mergeList.push_back((*(*pair)[0].getAsString() + " " +
                           *(*pair)[1].getAsString())
                              .str());
    } else {
      return makeImportError(path, "model.merges: expected \"a b\" strings "
                                   "or [a, b] pairs");
    }
  }

  TokenizerData tok;
  tok.source = path.str();
  tok.addedTokens = std::move(added);
  bool byteFallback = model->getBoolean("byte_fallback").value_or(false);
  if (!byteFallback) {
    // Byte-level BPE (GPT-2, SmolLM2, Llama-3, Qwen): tokens and merges as
    // they are.
    if (auto err = readByteLevelText(path, *root, tok))
      return std::move(err);
    tok.ignoreMerges = model->getBoolean("ignore_merges").value_or(false);
    tok.kind = TokenizerData::Kind::GPT2;
    tok.tokens = std::move(tokens);
    tok.merges = std::move(mergeList);
    if (auto err = readHFChatTemplate(files, path, tok))
      return std::move(err);
    return tok;
  }
  // SentencePiece-style BPE (LLaMA, TinyLlama, Gemma): the runtime merges
  // the pair whose result scores highest, so a merge's result scores -rank.
  if (auto err = readSentencePieceText(path, *root, tok))
    return std::move(err);
  tok.kind = TokenizerData::Kind::SentencePiece;
  llvm::StringMap<int64_t> ids;
  for (int64_t i = 0; i < vocab; ++i)
    ids.try_emplace(tokens[i], i);
  tok.scores.assign(vocab, -1e9f);
  for (size_t rank = 0; rank < mergeList.size(); ++rank) {
    auto [left, right] = llvm::StringRef(mergeList[rank]).split(' ');
    auto it = ids.find((left + right).str());
    if (it != ids.end() && tok.scores[it->second] == -1e9f)
      tok.scores[it->second] = -float(rank);
  }
  for (std::string &t : tokens)
    t = fromSentencePieceSpaces(t);
  tok.tokens = std::move(tokens);
  if (auto err = readHFChatTemplate(files, path, tok))
    return std::move(err);
  return tok;
}
