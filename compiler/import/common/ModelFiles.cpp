//===- ModelFiles.cpp - where the importers read model files from ---*- C++ -*-===//

#include "compiler/import/common/ModelFiles.h"
#include "compiler/import/common/BinaryReader.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"

using namespace tlmc;

ModelFiles::ModelFiles(
    llvm::IntrusiveRefCntPtr<llvm::vfs::FileSystem> fileSystem)
    : fs(fileSystem ? std::move(fileSystem) : llvm::vfs::getRealFileSystem()) {}

llvm::Expected<std::shared_ptr<llvm::MemoryBuffer>>
ModelFiles::map(llvm::StringRef path) const {
  auto buffer = fs->getBufferForFile(path, /*FileSize=*/-1,
                                     /*RequiresNullTerminator=*/false);
  if (!buffer)
    return makeImportError(path, "cannot open: " + buffer.getError().message());
  return std::shared_ptr<llvm::MemoryBuffer>(std::move(*buffer));
}

llvm::Expected<llvm::json::Value>
ModelFiles::parseJson(llvm::StringRef path) const {
  auto buffer = map(path);
  if (!buffer)
    return buffer.takeError();
  return parseBoundedJson(path, (*buffer)->getBuffer());
}

bool ModelFiles::exists(llvm::StringRef path) const { return fs->exists(path); }

bool ModelFiles::isDirectory(llvm::StringRef path) const {
  llvm::ErrorOr<llvm::vfs::Status> status = fs->status(path);
  return status && status->isDirectory();
}

std::string ModelFiles::readMagic(llvm::StringRef path) const {
  auto buffer = fs->getBufferForFile(path, /*FileSize=*/-1,
                                     /*RequiresNullTerminator=*/false);
  if (!buffer)
    return {};
  return (*buffer)->getBuffer().take_front(4).str();
}

llvm::Expected<llvm::json::Value>
tlmc::parseBoundedJson(llvm::StringRef file, llvm::StringRef text,
                       uint64_t offsetInFile, llvm::StringRef what) {
  // Count the nesting of arrays and objects outside strings. The scan need
  // not validate anything else: the parser below does.
  unsigned depth = 0;
  bool inString = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (inString) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        inString = false;
      continue;
    }
    if (c == '"') {
      inString = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth)
        return makeImportError(
            file, offsetInFile + i,
            llvm::formatv("{0} nested deeper than {1} levels", what,
                          kMaxJsonDepth));
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  auto json = llvm::json::parse(text);
  if (!json) {
    std::string message =
        ("malformed " + what + ": " + llvm::toString(json.takeError())).str();
    return offsetInFile ? makeImportError(file, offsetInFile, message)
                        : makeImportError(file, message);
  }
  return std::move(*json);
}
