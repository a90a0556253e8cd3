//===- GGUFFile.h - parse the GGUF v2/v3 container ---------------*- C++ -*-===//
//
// GGUF is llama.cpp's model file: a header of typed key/value metadata, a
// table of tensor descriptions, and aligned tensor data. This parser reads
// the structure only (no model semantics) and validates every size against
// the file before trusting it.
//
//===----------------------------------------------------------------------===//

#ifndef TLMC_COMPILER_IMPORT_GGUF_GGUFFILE_H
#define TLMC_COMPILER_IMPORT_GGUF_GGUFFILE_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tlmc::gguf {

/// GGUF metadata value types, as numbered by the format.
enum class ValueType : uint32_t {
  U8 = 0, I8 = 1, U16 = 2, I16 = 3, U32 = 4, I32 = 5, F32 = 6, Bool = 7,
  String = 8, Array = 9, U64 = 10, I64 = 11, F64 = 12,
};

/// The spec's name of a value type ("u32", "string", ...).
llvm::StringRef getTypeName(ValueType type);

/// One metadata value. Scalars use `integer`/`real`; strings `string`;
/// arrays of strings `strings` and arrays of numbers `numbers` (both
/// integers and reals are kept as double: GGUF arrays hold token scores and
/// token types, which a double represents exactly).
struct Value {
  ValueType type = ValueType::U8;
  ValueType elementType = ValueType::U8; ///< for arrays
  int64_t integer = 0;
  double real = 0;
  std::string string;
  std::vector<std::string> strings;
  std::vector<double> numbers;
  uint64_t offset = 0; ///< where the value starts in the file

  bool isInteger() const;
  /// U8, U16, U32 or U64: what the spec and llama.cpp's writer use for
  /// counts, sizes and token ids.
  bool isUnsigned() const;
  bool isArray() const { return type == ValueType::Array; }
};

/// One entry of the tensor table.
struct TensorInfo {
  std::string name;
  /// GGML order: dims[0] is the innermost (contiguous) dimension.
  std::vector<uint64_t> dims;
  uint32_t ggmlType = 0;
  /// Offset relative to the start of the data section.
  uint64_t offset = 0;
  /// Where this entry starts in the file (for messages).
  uint64_t infoOffset = 0;
};

/// GGML tensor types this compiler reads.
enum GgmlType : uint32_t {
  GGML_F32 = 0,
  GGML_F16 = 1,
  GGML_Q4_0 = 2,
  GGML_Q8_0 = 8,
  GGML_BF16 = 30,
};

/// A parsed GGUF file (it refers into the caller's bytes).
struct File {
  uint32_t version = 0;
  llvm::StringMap<Value> metadata;
  std::vector<TensorInfo> tensors;
  uint64_t alignment = 32;
  uint64_t dataOffset = 0;

  const Value *find(llvm::StringRef key) const;
};

/// Parses the header and tensor table of `data`; `fileName` is for messages.
llvm::Expected<File> parse(llvm::StringRef fileName, llvm::ArrayRef<char> data);

} // namespace tlmc::gguf

#endif // TLMC_COMPILER_IMPORT_GGUF_GGUFFILE_H
