//===- BinaryReader.cpp - bounds-checked reads from a model file ---*- C++ -*-===//

#include "compiler/import/common/BinaryReader.h"

#include "llvm/Support/CheckedArithmetic.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"

using namespace tlmc;

llvm::ArrayRef<char> tlmc::getBytes(const llvm::MemoryBuffer &buffer) {
  return llvm::ArrayRef<char>(buffer.getBufferStart(), buffer.getBufferSize());
}

std::optional<int64_t> tlmc::checkedProduct(llvm::ArrayRef<int64_t> factors) {
  int64_t product = 1;
  for (int64_t f : factors) {
    if (f < 0)
      return std::nullopt;
    std::optional<int64_t> next = llvm::checkedMul(product, f);
    if (!next)
      return std::nullopt;
    product = *next;
  }
  return product;
}

llvm::Error tlmc::makeImportError(llvm::StringRef file,
                                  const llvm::Twine &message) {
  // Messages quote names and strings from hostile files: escape control
  // bytes so that a diagnostic is always exactly one printable line.
  // A quoted string can be as long as the file; keep the line readable.
  std::string text = (file + ": " + message).str();
  constexpr size_t kMaxLength = 400;
  if (text.size() > kMaxLength)
    text = text.substr(0, kMaxLength) + "...";
  std::string escaped;
  escaped.reserve(text.size());
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7f)
      escaped += llvm::formatv("\\x{0:x-2}", unsigned(c)).str();
    else
      escaped += char(c);
  }
  return llvm::createStringError(llvm::inconvertibleErrorCode(), escaped);
}

llvm::Error tlmc::makeImportError(llvm::StringRef file, uint64_t offset,
                                  const llvm::Twine &message) {
  return makeImportError(file, "offset " + llvm::Twine(offset) + ": " + message);
}

bool BinaryReader::ensure(uint64_t size, const llvm::Twine &what) {
  if (failed)
    return false;
  if (size <= getRemaining())
    return true;
  fail("file truncated reading " + what + " (need " + llvm::Twine(size) +
       " bytes, " + llvm::Twine(getRemaining()) + " left)");
  return false;
}

llvm::ArrayRef<char> BinaryReader::readBytes(uint64_t size,
                                             const llvm::Twine &what) {
  if (!ensure(size, what))
    return {};
  llvm::ArrayRef<char> bytes = data.slice(offset, size);
  offset += size;
  return bytes;
}

void BinaryReader::seek(uint64_t newOffset, const llvm::Twine &what) {
  if (failed)
    return;
  if (newOffset > data.size()) {
    fail(what + " at offset " + llvm::Twine(newOffset) +
         " is past the end of the file (" + llvm::Twine(data.size()) +
         " bytes)");
    return;
  }
  offset = newOffset;
}

void BinaryReader::failAt(uint64_t at, const llvm::Twine &text) {
  if (failed)
    return;
  failed = true;
  errorOffset = at;
  message = text.str();
}

llvm::Error BinaryReader::takeError() {
  if (!failed)
    return llvm::Error::success();
  return makeImportError(fileName, errorOffset, message);
}
