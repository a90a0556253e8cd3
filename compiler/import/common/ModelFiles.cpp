//===- ModelFiles.cpp - where the importers read model files from ---*- C++ -*-===//

#include "compiler/import/common/ModelFiles.h"
#include "compiler/import/common/BinaryReader.h"
#include "compiler/import/common/CheckedJson.h"

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
  return parseCheckedJson(path, (*buffer)->getBuffer());
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
