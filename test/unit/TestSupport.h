//===- TestSupport.h - helpers shared by the unit tests -----------*- C++ -*-===//

#ifndef TLMC_TEST_UNIT_TESTSUPPORT_H
#define TLMC_TEST_UNIT_TESTSUPPORT_H

#include "compiler/import/Import.h"

#include "llvm/ADT/SmallString.h"

#include <string>
#include <vector>

namespace tlmc::test {

/// `../shared/<relative>` if it exists, else empty (the caller skips).
std::string findShared(llvm::StringRef relative);

/// A fresh temporary directory, removed when the object dies.
class TempDir {
public:
  TempDir();
  ~TempDir();
  std::string path(llvm::StringRef name) const;

private:
  llvm::SmallString<128> root;
};

/// A small config (dim 32, 2 layers, GQA 4:2, vocab 300) that exercises
/// every tensor kind and keeps files a few tens of KiB.
ModelConfig smallConfig();

/// Reads a whole file.
std::vector<char> readFile(const std::string &path);
void writeFile(const std::string &path, llvm::ArrayRef<char> bytes);

/// The module's text with resource blobs elided (for comparing graphs).
std::string printGraph(const ImportedModel &model);

/// Every tensor decoded to f32, by canonical name order.
std::vector<std::pair<std::string, std::vector<float>>>
decodeAll(const ImportedModel &model);

} // namespace tlmc::test

#endif // TLMC_TEST_UNIT_TESTSUPPORT_H
