//===- fuzz-tokenize.cpp - the runtime's tokenizers on any text -----*- C++ -*-===//
//
// The input is text (any bytes; the C API reads up to the first NUL),
// tokenized by both of the runtime's tokenizers: SentencePiece-style
// (llama2.c's tok512.bin from ../shared when present, else the generated
// vocabulary) and byte-level BPE with each split pattern (GPT-2's; Llama-3's
// with ignore_merges; Qwen2's with an added token and the NFC check;
// SmolLM's). Every
// id must be in the vocabulary and decoding must give the text back
// exactly: every vocabulary has a token for every byte (text that is not
// NFC may be refused by the Qwen2 one, and only that way).
//
//===----------------------------------------------------------------------===//

#include "compiler/import/Import.h"
#include "runtime/include/tlm/tlm.h"
#include "test/fuzz/FuzzSupport.h"
#include "test/support/StandInModel.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"

#include <vector>

using namespace tlmc;

namespace {

/// The first 300 tokens of the real tok512.bin (its first 300 are every
/// byte token and the commonest pieces), else the generated vocabulary.
TokenizerData sentencePieceVocabulary(const test::StandInModel &model) {
  std::string path = TLMC_SHARED_DIR "/models/stories260K/tok512.bin";
  auto buffer = llvm::MemoryBuffer::getFile(path);
  if (!buffer)
    return model.getGeneratedTokenizer();
  // max_token_length, then (score, length, bytes) per token.
  llvm::StringRef bytes = (*buffer)->getBuffer();
  size_t end = 4;
  for (int i = 0; i < test::kStandInVocab && end + 8 <= bytes.size(); ++i) {
    int32_t length;
    std::memcpy(&length, bytes.data() + end + 4, 4);
    end += 8 + size_t(length);
  }
  std::string prefix = bytes.take_front(end).str();
  ModelFiles files(fuzz::makeMemoryFiles({{"/tok.bin", prefix}}));
  auto tok = readTokenizerFile(files, "/tok.bin", test::kStandInVocab);
  if (!tok)
    fuzz::fail(llvm::toString(tok.takeError()));
  return std::move(*tok);
}

struct Sessions {
  std::vector<test::StandIn> standIns;
  std::vector<tlm_session *> sessions;
  Sessions() = default;
  Sessions(Sessions &&) = default;
  ~Sessions() {
    for (tlm_session *s : sessions)
      tlm_session_close(s);
  }
};

Sessions openSessions() {
  test::StandInModel model;
  Sessions s;
  TokenizerData gpt2 = test::makeByteLevelTokenizer();
  TokenizerData llama3 = gpt2, qwen2 = gpt2, smollm = gpt2;
  smollm.preTokenizer = TokenizerData::PreTokenizer::SmolLM;
  llama3.preTokenizer = TokenizerData::PreTokenizer::Llama3;
  llama3.ignoreMerges = true;
  qwen2.preTokenizer = TokenizerData::PreTokenizer::Qwen2;
  qwen2.normalizeNFC = true;
  qwen2.tokens.back() = "<|im_start|>";
  qwen2.addedTokens = {int32_t(qwen2.tokens.size() - 1)};
  for (const TokenizerData &tok :
       {sentencePieceVocabulary(model), gpt2, llama3, qwen2, smollm}) {
    auto standIn = model.withTokenizer(tok);
    if (!standIn)
      fuzz::fail(llvm::toString(standIn.takeError()));
    s.standIns.push_back(std::move(*standIn));
  }
  for (const test::StandIn &standIn : s.standIns) {
    tlm_session *session = nullptr;
    char error[256] = {};
    if (tlm_session_open(&standIn.model, standIn.container.bytes.data(),
                         standIn.container.bytes.size(), nullptr, &session,
                         error, sizeof error) != TLM_OK)
      fuzz::fail(error);
    s.sessions.push_back(session);
  }
  return s;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const Sessions sessions = openSessions();
  for (tlm_session *session : sessions.sessions)
    fuzz::tokenizeAndDecode(session, fuzz::asText(data, size),
                            /*exactRoundTrip=*/true);
  return 0;
}
