//===- FuzzSupport.cpp - what every fuzz target checks --------------*- C++ -*-===//

#include "test/fuzz/FuzzSupport.h"
#include "test/support/StandInModel.h"
#include "runtime/include/tlm/tlm.h"

#include "dialects/tlm/IR/WeightStore.h"

#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

using namespace tlmc;
using namespace tlmc::fuzz;

void fuzz::fail(const llvm::Twine &message) {
  llvm::errs() << "fuzz finding: " << message << "\n";
  llvm::errs().flush();
  std::abort();
}

llvm::IntrusiveRefCntPtr<llvm::vfs::FileSystem> fuzz::makeMemoryFiles(
    llvm::ArrayRef<std::pair<llvm::StringRef, llvm::StringRef>> files) {
  auto fs = llvm::makeIntrusiveRefCnt<llvm::vfs::InMemoryFileSystem>();
  for (const auto &[path, bytes] : files)
    fs->addFile(path, /*ModificationTime=*/0,
                llvm::MemoryBuffer::getMemBuffer(bytes, path,
                                                 /*RequiresNullTerminator=*/
                                                 false));
  return fs;
}

void fuzz::expectDiagnostic(llvm::Error error, llvm::StringRef file) {
  std::string text = llvm::toString(std::move(error));
  if (text.empty() || text.find('\n') != std::string::npos ||
      !llvm::StringRef(text).starts_with(file))
    fail("a refusal is not one line naming " + file + ": '" + text + "'");
}

void fuzz::touchEveryTensor(const ImportedModel &model) {
  std::vector<float> values;
  for (const ImportedTensor &t : model.tensors) {
    std::optional<int64_t> bytes =
        mlir::tlm::getStorageBytes(t.format, t.getNumElements());
    if (!bytes || uint64_t(*bytes) != t.bytes.size())
      fail("accepted tensor '" + t.name + "' has " +
           llvm::Twine(t.bytes.size()) + " bytes for its shape");
    values.resize(t.getNumElements());
    mlir::tlm::decodeToF32(t.format, t.bytes, values.size(), values.data());
  }
}

void fuzz::tokenizeAndDecode(tlm_session *session, llvm::StringRef text,
                             bool exactRoundTrip) {
  std::string input = text.str(); // the C API reads up to the first NUL
  input.resize(std::strlen(input.c_str()));
  // One token per byte at most, plus BOS and a SentencePiece space before
  // each run of text between added tokens.
  std::vector<int32_t> tokens(2 * input.size() + 3);
  size_t count = 0;
  if (tlm_tokenize(session, input.c_str(), /*add_bos=*/1, tokens.data(),
                   tokens.size(), &count) != TLM_OK) {
    if (std::strstr(tlm_session_error(session), "has no tokenizer") ||
        std::strstr(tlm_session_error(session), "is not in Unicode NFC"))
      return;
    fail("tokenizing " + llvm::Twine(input.size()) +
         " bytes needed more than 2 x bytes + 3 tokens: " +
         tlm_session_error(session));
  }
  int32_t vocab = tlm_session_config(session)->vocab;
  std::string decoded;
  for (size_t i = 0; i < count; ++i) {
    if (tokens[i] < 0 || tokens[i] >= vocab)
      fail("token id " + llvm::Twine(tokens[i]) + " is outside the vocabulary");
    if (i == 0)
      continue; // BOS
    size_t length = 0;
    const char *piece =
        tlm_token_text(session, tokens[i - 1], tokens[i], &length);
    decoded.append(piece, length);
  }
  if (exactRoundTrip && decoded != input)
    fail("decoding the tokens of '" + input + "' gives '" + decoded + "'");
}

void fuzz::exerciseTokenizer(const TokenizerData &tokenizer) {
  static const test::StandInModel model;
  auto standIn = model.withTokenizer(tokenizer);
  if (!standIn)
    fail("an accepted tokenizer cannot be stored: " +
         llvm::toString(standIn.takeError()));
  tlm_session *session = nullptr;
  char error[256] = {};
  const std::vector<char> &bytes = standIn->container.bytes;
  if (tlm_session_open(&standIn->model, bytes.data(), bytes.size(), nullptr,
                       &session, error, sizeof error) != TLM_OK)
    fail(llvm::Twine("an accepted tokenizer's container does not open: ") +
         error);
  for (const char *text :
       {"", "Once upon a time", " hello  the world\n", "<s></s><unk>",
        "na\xC3\xAFve \xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x99\x82",
        "\xFF\xFE\xC3 broken", "1234567890 + x*y"})
    tokenizeAndDecode(session, text, /*exactRoundTrip=*/false);
  tlm_session_close(session);
}
