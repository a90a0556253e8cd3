//===- BinaryReader.h - bounds-checked reads from a model file ---*- C++ -*-===//
//
// Every importer parses untrusted bytes. This reader never reads past the end:
// a short read records one error naming the file, the offset and what was
// being read, returns zero, and every later read is a no-op, so a parser can
// check once per record instead of after every field.
//
//===----------------------------------------------------------------------===//

#ifndef TLMC_COMPILER_IMPORT_COMMON_BINARYREADER_H
#define TLMC_COMPILER_IMPORT_COMMON_BINARYREADER_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/ADT/Twine.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>

namespace llvm {
class MemoryBuffer;
} // namespace llvm

namespace tlmc {

/// The bytes of a mapped file.
llvm::ArrayRef<char> getBytes(const llvm::MemoryBuffer &buffer);

/// `a * b` as int64, or nullopt on overflow or a negative operand.
std::optional<int64_t> checkedProduct(llvm::ArrayRef<int64_t> factors);

/// An error "FILE: MESSAGE" for the importers' one-line diagnostics.
llvm::Error makeImportError(llvm::StringRef file, const llvm::Twine &message);

/// An error "FILE: offset N: MESSAGE".
llvm::Error makeImportError(llvm::StringRef file, uint64_t offset,
                            const llvm::Twine &message);

class BinaryReader {
public:
  BinaryReader(llvm::StringRef fileName, llvm::ArrayRef<char> data)
      : fileName(fileName), data(data) {}

  uint64_t getOffset() const { return offset; }
  uint64_t getSize() const { return data.size(); }
  uint64_t getRemaining() const { return data.size() - offset; }
  bool hasFailed() const { return failed; }
  llvm::StringRef getFileName() const { return fileName; }

  /// Reads a little-endian scalar; on a short read fails and returns 0.
  template <typename T> T read(const llvm::Twine &what) {
    T value{};
    if (ensure(sizeof(T), what)) {
      std::memcpy(&value, data.data() + offset, sizeof(T));
      offset += sizeof(T);
    }
    return value;
  }

  /// Returns the next `size` bytes (empty on a short read).
  llvm::ArrayRef<char> readBytes(uint64_t size, const llvm::Twine &what);

  /// Moves to `newOffset`; fails if it is past the end.
  void seek(uint64_t newOffset, const llvm::Twine &what);

  /// Records `message` at the current offset unless an error is recorded.
  void fail(const llvm::Twine &message) { failAt(offset, message); }
  void failAt(uint64_t at, const llvm::Twine &message);

  /// The recorded error, or success. The failure stays recorded.
  llvm::Error takeError();

private:
  bool ensure(uint64_t size, const llvm::Twine &what);

  std::string fileName;
  llvm::ArrayRef<char> data;
  uint64_t offset = 0;
  bool failed = false;
  std::string message;
  uint64_t errorOffset = 0;
};

} // namespace tlmc

#endif // TLMC_COMPILER_IMPORT_COMMON_BINARYREADER_H
