//===- TokenizerData.h - a tokenizer's tables ---------------------*- C++ -*-===//
//
// What importers read from model files and the container writer stores for
// the runtime's tokenizer.
//
//===----------------------------------------------------------------------===//

#ifndef TLMC_CODEGEN_TARGET_TOKENIZERDATA_H
#define TLMC_CODEGEN_TARGET_TOKENIZERDATA_H

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tlmc {

/// A chat template rendered by the compiler (compiler/import/chat/
/// ChatTemplate.h): the text before, between and after messages, which
/// depends only on their roles. The runtime assembles conversations from it
/// (runtime/src/ChatFormat.h).
struct ChatFormat {
  std::string startSystem, startUser;
  std::string systemUser, userAssistant, assistantUser;
  std::string generation;
  bool trimSystem = false, trimUser = false, trimAssistant = false;
  bool hasSystem = true;
  /// The token a reply ends with, or -1.
  int32_t endOfTurn = -1;
};

/// The tokenizer a model file carries (or that was found beside it).
struct TokenizerData {
  enum class Kind {
    None,          ///< the model file had none and none was found
    SentencePiece, ///< llama2.c / GGUF "llama": merges by score, byte fallback
    GPT2,          ///< GGUF "gpt2": byte-level BPE with merge ranks
  };
  Kind kind = Kind::None;
  /// Byte-level BPE's split of text into words (runtime/src/PreTokenizer.h).
  enum class PreTokenizer { GPT2 = 0, Llama3 = 1, Qwen2 = 2, SmolLM = 3 };
  PreTokenizer preTokenizer = PreTokenizer::GPT2;
  /// Byte-level: a word that is a token is not merged (HF ignore_merges).
  bool ignoreMerges = false;
  /// SentencePiece: a space before each run of text.
  bool addPrefixSpace = true;
  /// Text is put in Unicode NFC before splitting (Qwen's tokenizer.json).
  bool normalizeNFC = false;
  /// Tokens matched whole in text before anything else: HF added tokens,
  /// GGUF control and user-defined tokens.
  std::vector<int32_t> addedTokens;
  /// Token strings with spaces as ' ' (GGUF's U+2581 is mapped back).
  std::vector<std::string> tokens;
  std::vector<float> scores;
  /// GGUF token types (1 normal, 2 unknown, 3 control, 6 byte); may be empty.
  std::vector<int32_t> types;
  std::vector<std::string> merges;
  /// Where the tokenizer was read from.
  std::string source;

  /// The model's chat template (Jinja source) and where it came from; the
  /// special tokens' text it may use (bos_token, eos_token, ...).
  std::string chatTemplate;
  std::string chatTemplateSource;
  std::vector<std::pair<std::string, std::string>> specialTokens;
  /// The template rendered (attachChatFormat), or why it could not be.
  std::optional<ChatFormat> chat;
  std::string chatUnsupported;
};

} // namespace tlmc

#endif // TLMC_CODEGEN_TARGET_TOKENIZERDATA_H
