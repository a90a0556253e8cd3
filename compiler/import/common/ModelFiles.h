//===- ModelFiles.h - where the importers read model files from --*- C++ -*-===//
//
// Importers never touch the file system directly: every file they read, and
// every "is there a config.json beside it" they ask, goes through this one
// class over an llvm::vfs::FileSystem. The compiler uses the real file
// system (files are mapped, never copied); the fuzz targets and tests hand
// the same importers files held in memory, so a hostile input is parsed
// in-process with no temporary files.
//
//===----------------------------------------------------------------------===//

#ifndef TLMC_COMPILER_IMPORT_COMMON_MODELFILES_H
#define TLMC_COMPILER_IMPORT_COMMON_MODELFILES_H

#include "llvm/ADT/IntrusiveRefCntPtr.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/VirtualFileSystem.h"

#include <memory>
#include <string>

namespace llvm {
class MemoryBuffer;
} // namespace llvm

namespace tlmc {

class ModelFiles {
public:
  /// Files of `fileSystem`; null means the real file system.
  explicit ModelFiles(
      llvm::IntrusiveRefCntPtr<llvm::vfs::FileSystem> fileSystem = nullptr);

  /// Maps `path` read-only (no copy for large files); the error names it.
  llvm::Expected<std::shared_ptr<llvm::MemoryBuffer>>
  map(llvm::StringRef path) const;

  /// Reads and parses a JSON file (checked first, see parseCheckedJson).
  llvm::Expected<llvm::json::Value> parseJson(llvm::StringRef path) const;

  bool exists(llvm::StringRef path) const;
  bool isDirectory(llvm::StringRef path) const;

  /// The first four bytes of `path` (fewer if it is shorter or unreadable).
  std::string readMagic(llvm::StringRef path) const;

private:
  llvm::IntrusiveRefCntPtr<llvm::vfs::FileSystem> fs;
};

} // namespace tlmc

#endif // TLMC_COMPILER_IMPORT_COMMON_MODELFILES_H
