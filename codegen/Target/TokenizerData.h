//===- TokenizerData.h - a tokenizer's tables ---------------------*- C++ -*-===//
//
// What importers read from model files and the container writer stores for
// the runtime's tokenizer.
//
//===----------------------------------------------------------------------===//

#ifndef TLMC_CODEGEN_TARGET_TOKENIZERDATA_H
#define TLMC_CODEGEN_TARGET_TOKENIZERDATA_H

#include <cstdint>
#include <string>
#include <vector>

namespace tlmc {

/// The tokenizer a model file carries (or that was found beside it).
struct TokenizerData {
  enum class Kind {
    None,          ///< the model file had none and none was found
    SentencePiece, ///< llama2.c / GGUF "llama": merges by score, byte fallback
    GPT2,          ///< GGUF "gpt2": byte-level BPE with merge ranks
  };
  Kind kind = Kind::None;
  /// Token strings with spaces as ' ' (GGUF's U+2581 is mapped back).
  std::vector<std::string> tokens;
  std::vector<float> scores;
  /// GGUF token types (1 normal, 2 unknown, 3 control, 6 byte); may be empty.
  std::vector<int32_t> types;
  std::vector<std::string> merges;
  /// Where the tokenizer was read from.
  std::string source;
};

} // namespace tlmc

#endif // TLMC_CODEGEN_TARGET_TOKENIZERDATA_H
