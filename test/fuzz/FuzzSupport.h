//===- FuzzSupport.h - what every fuzz target checks --------------*- C++ -*-===//
//
// A fuzz target runs a parser on bytes held in memory and checks more than
// "no crash": a refusal must be the one-line diagnostic every importer
// promises (naming the file), and an accepted input must be usable to the
// end (every tensor decodable, a tokenizer that tokenizes and decodes).
// A broken promise aborts, so libFuzzer keeps the input as a finding.
//
//===----------------------------------------------------------------------===//

#ifndef TLMC_TEST_FUZZ_FUZZSUPPORT_H
#define TLMC_TEST_FUZZ_FUZZSUPPORT_H

#include "codegen/Target/TokenizerData.h"
#include "compiler/import/common/ImportedModel.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/VirtualFileSystem.h"

#include <cstdint>
#include <utility>

struct tlm_session;

namespace tlmc::fuzz {

/// An in-memory file system holding `files` (path, bytes). The bytes are
/// not copied: they must outlive the file system's use.
llvm::IntrusiveRefCntPtr<llvm::vfs::FileSystem> makeMemoryFiles(
    llvm::ArrayRef<std::pair<llvm::StringRef, llvm::StringRef>> files);

/// The fuzz input as text.
inline llvm::StringRef asText(const uint8_t *data, size_t size) {
  return llvm::StringRef(reinterpret_cast<const char *>(data), size);
}

/// Aborts unless `error` is one non-empty line that starts with `file`.
void expectDiagnostic(llvm::Error error, llvm::StringRef file);

/// Decodes every tensor of an accepted model to f32 (reads every byte the
/// importer claims the tensor has).
void touchEveryTensor(const ImportedModel &model);

/// Builds a container holding `tokenizer` for the stand-in model (vocab
/// 300), opens a session over it and tokenizes a fixed set of texts;
/// aborts if an accepted tokenizer cannot be stored or opened, or if a
/// produced id is out of range.
void exerciseTokenizer(const TokenizerData &tokenizer);

/// Tokenizes `text` on `session`, checks the ids, and decodes them again;
/// with `exactRoundTrip` aborts unless the decoded text is `text`. A
/// session without a tokenizer (a container may have none) must say so.
void tokenizeAndDecode(tlm_session *session, llvm::StringRef text,
                       bool exactRoundTrip);

/// Prints `message` and aborts (libFuzzer records the input).
[[noreturn]] void fail(const llvm::Twine &message);

} // namespace tlmc::fuzz

#endif // TLMC_TEST_FUZZ_FUZZSUPPORT_H
