//===- StandInModel.h - drive the runtime without compiled code ---*- C++ -*-===//
//
// The runtime's C API (container verification, tokenizers, sampler, argument
// checks) does not depend on what the compiled code computes. A stand-in
// model pairs containers that the real codegen writer builds, from a small
// generated model, with a tlm_model whose entry points write known logits.
// Shared by the runtime unit tests and the container and tokenizer fuzz
// targets.
//
//===----------------------------------------------------------------------===//

#ifndef TLMC_TEST_SUPPORT_STANDINMODEL_H
#define TLMC_TEST_SUPPORT_STANDINMODEL_H

#include "codegen/Target/ContainerWriter.h"
#include "codegen/Target/TokenizerData.h"
#include "runtime/include/tlm/tlm.h"

#include "llvm/Support/Error.h"

#include <cstdint>
#include <memory>

namespace tlmc::test {

/// The stand-in's vocabulary (its entry points write this many logits).
constexpr int kStandInVocab = 300;
/// The token whose logit the stand-in raises above every other.
constexpr int kStandInTopToken = 123;

/// A container and the descriptor of the "compiled model" it matches.
struct StandIn {
  Container container;
  tlm_model model{};
};

class StandInModel {
public:
  /// Generates the model's weights from `seed` (vocab kStandInVocab,
  /// context 32) and builds its module once.
  explicit StandInModel(uint64_t seed = 9);
  ~StandInModel();

  /// A container holding `tokenizer`, and the descriptor that matches it.
  /// Logit i of every row is i mod 7, plus 10 for kStandInTopToken.
  llvm::Expected<StandIn> withTokenizer(const TokenizerData &tokenizer) const;

  /// The generated model's own SentencePiece-style tokenizer.
  const TokenizerData &getGeneratedTokenizer() const;

private:
  struct Impl;
  std::unique_ptr<Impl> impl;
};

/// A byte-level (GPT-2) vocabulary of kStandInVocab tokens: the 256 byte
/// symbols, a few merged tokens ("Ġt", "he", "Ġthe", "ll", "hell",
/// "hello") with their merges, then padding.
TokenizerData makeByteLevelTokenizer();

} // namespace tlmc::test

#endif // TLMC_TEST_SUPPORT_STANDINMODEL_H
