//===- GGUFFile.cpp - parse the GGUF v2/v3 container ----------------*- C++ -*-===//

#include "compiler/import/gguf/GGUFFile.h"
#include "compiler/import/common/BinaryReader.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MathExtras.h"

using namespace tlmc;
using namespace tlmc::gguf;

bool Value::isInteger() const {
  switch (type) {
  case ValueType::U8: case ValueType::I8: case ValueType::U16:
  case ValueType::I16: case ValueType::U32: case ValueType::I32:
  case ValueType::U64: case ValueType::I64: case ValueType::Bool:
    return true;
  default:
    return false;
  }
}

llvm::StringRef gguf::getTypeName(ValueType type) {
  switch (type) {
  case ValueType::U8: return "u8";
  case ValueType::I8: return "i8";
  case ValueType::U16: return "u16";
  case ValueType::I16: return "i16";
  case ValueType::U32: return "u32";
  case ValueType::I32: return "i32";
  case ValueType::F32: return "f32";
  case ValueType::Bool: return "bool";
  case ValueType::String: return "string";
  case ValueType::Array: return "array";
  case ValueType::U64: return "u64";
  case ValueType::I64: return "i64";
  case ValueType::F64: return "f64";
  }
  return "?";
}

bool Value::isUnsigned() const {
  return type == ValueType::U8 || type == ValueType::U16 ||
         type == ValueType::U32 || type == ValueType::U64;
}

const Value *File::find(llvm::StringRef key) const {
  auto it = metadata.find(key);
  return it == metadata.end() ? nullptr : &it->second;
}

/// Size in bytes of a scalar of `type`, or 0 for strings and arrays.
static uint64_t scalarSize(ValueType type) {
  switch (type) {
  case ValueType::U8: case ValueType::I8: case ValueType::Bool:
    return 1;
  case ValueType::U16: case ValueType::I16:
    return 2;
  case ValueType::U32: case ValueType::I32: case ValueType::F32:
    return 4;
  case ValueType::U64: case ValueType::I64: case ValueType::F64:
    return 8;
  default:
    return 0;
  }
}

static bool isKnownType(uint32_t t) { return t <= 12; }

namespace {
/// Reads GGUF's typed values with the shared bounds-checked reader.
class Parser {
public:
  Parser(BinaryReader &reader) : r(reader) {}

  std::string readString(const llvm::Twine &what) {
    uint64_t at = r.getOffset();
    uint64_t length = r.read<uint64_t>(what + " length");
    if (r.hasFailed())
      return {};
    if (length > r.getRemaining()) {
      r.failAt(at, llvm::formatv("{0}: string length {1} exceeds the {2} "
                                 "bytes left in the file",
                                 what.str(), length, r.getRemaining()));
      return {};
    }
    llvm::ArrayRef<char> bytes = r.readBytes(length, what);
    return std::string(bytes.begin(), bytes.end());
  }

  /// Reads a scalar of `type` into `value`.
  void readScalar(ValueType type, Value &value, const llvm::Twine &what) {
    switch (type) {
    case ValueType::U8: value.integer = r.read<uint8_t>(what); break;
    case ValueType::I8: value.integer = r.read<int8_t>(what); break;
    case ValueType::U16: value.integer = r.read<uint16_t>(what); break;
    case ValueType::I16: value.integer = r.read<int16_t>(what); break;
    case ValueType::U32: value.integer = r.read<uint32_t>(what); break;
    case ValueType::I32: value.integer = r.read<int32_t>(what); break;
    case ValueType::U64: {
      uint64_t v = r.read<uint64_t>(what);
      value.integer = v > uint64_t(INT64_MAX) ? INT64_MAX : int64_t(v);
      break;
    }
    case ValueType::I64: value.integer = r.read<int64_t>(what); break;
    case ValueType::Bool: value.integer = r.read<uint8_t>(what) != 0; break;
    case ValueType::F32: value.real = r.read<float>(what); break;
    case ValueType::F64: value.real = r.read<double>(what); break;
    default: llvm_unreachable("not a scalar");
    }
    if (type != ValueType::F32 && type != ValueType::F64)
      value.real = double(value.integer);
  }

  Value readValue(const std::string &key) {
    Value value;
    value.offset = r.getOffset();
    uint32_t rawType = r.read<uint32_t>("type of '" + key + "'");
    if (r.hasFailed())
      return value;
    if (!isKnownType(rawType)) {
      r.failAt(value.offset, llvm::formatv("metadata '{0}': unknown value "
                                           "type {1} (expected 0..12)",
                                           key, rawType));
      return value;
    }
    value.type = ValueType(rawType);
    if (value.type == ValueType::String) {
      value.string = readString("metadata '" + key + "'");
      return value;
    }
    if (value.type != ValueType::Array) {
      readScalar(value.type, value, "metadata '" + key + "'");
      return value;
    }
    uint64_t at = r.getOffset();
    uint32_t elementType = r.read<uint32_t>("array type of '" + key + "'");
    uint64_t count = r.read<uint64_t>("array length of '" + key + "'");
    if (r.hasFailed())
      return value;
    if (!isKnownType(elementType) ||
        ValueType(elementType) == ValueType::Array) {
      r.failAt(at, llvm::formatv("metadata '{0}': array element type {1} is "
                                 "not supported (expected a scalar or string)",
                                 key, elementType));
      return value;
    }
    value.elementType = ValueType(elementType);
    // Every element takes at least one byte (strings: eight), so a count
    // larger than what is left is a lie; reject it before reserving memory.
    uint64_t minSize = value.elementType == ValueType::String
                           ? 8
                           : scalarSize(value.elementType);
    if (count > r.getRemaining() / minSize) {
      r.failAt(at, llvm::formatv("metadata '{0}': array of {1} elements "
                                 "cannot fit in the {2} bytes left",
                                 key, count, r.getRemaining()));
      return value;
    }
    if (value.elementType == ValueType::String) {
      value.strings.reserve(count);
      for (uint64_t i = 0; i < count && !r.hasFailed(); ++i)
        value.strings.push_back(
            readString("metadata '" + key + "'[" + llvm::Twine(i) + "]"));
    } else {
      value.numbers.reserve(count);
      Value element;
      for (uint64_t i = 0; i < count && !r.hasFailed(); ++i) {
        readScalar(value.elementType, element, "metadata '" + key + "'");
        value.numbers.push_back(element.real);
      }
    }
    return value;
  }

private:
  BinaryReader &r;
};
} // namespace

llvm::Expected<File> gguf::parse(llvm::StringRef fileName,
                                 llvm::ArrayRef<char> data) {
  BinaryReader r(fileName, data);
  Parser parser(r);
  File file;

  uint32_t magic = r.read<uint32_t>("magic");
  if (r.hasFailed())
    return r.takeError();
  if (magic != 0x46554747) // "GGUF" little-endian
    return makeImportError(fileName, 0,
                           llvm::formatv("bad magic 0x{0:x-8}: expected "
                                         "\"GGUF\"",
                                         magic));
  file.version = r.read<uint32_t>("version");
  if (r.hasFailed())
    return r.takeError();
  if (file.version != 2 && file.version != 3)
    return makeImportError(fileName, 4,
                           llvm::formatv("GGUF version {0} is not supported "
                                         "(expected 2 or 3)",
                                         file.version));
  uint64_t tensorCount = r.read<uint64_t>("tensor count");
  uint64_t kvCount = r.read<uint64_t>("metadata count");
  if (r.hasFailed())
    return r.takeError();
  // A key/value pair takes at least 12 bytes, a tensor entry at least 24.
  if (kvCount > r.getRemaining() / 12)
    return makeImportError(fileName, 16,
                           llvm::formatv("metadata count {0} cannot fit in "
                                         "a {1}-byte file",
                                         kvCount, data.size()));
  if (tensorCount > r.getRemaining() / 24)
    return makeImportError(fileName, 8,
                           llvm::formatv("tensor count {0} cannot fit in a "
                                         "{1}-byte file",
                                         tensorCount, data.size()));

  for (uint64_t i = 0; i < kvCount; ++i) {
    uint64_t at = r.getOffset();
    std::string key = parser.readString("metadata key #" + llvm::Twine(i));
    if (r.hasFailed())
      return r.takeError();
    Value value = parser.readValue(key);
    if (r.hasFailed())
      return r.takeError();
    if (!file.metadata.try_emplace(key, std::move(value)).second)
      return makeImportError(fileName, at,
                             "metadata key '" + key + "' appears twice");
  }

  if (const Value *alignment = file.find("general.alignment")) {
    if (!alignment->isUnsigned() || alignment->integer <= 0 ||
        !llvm::isPowerOf2_64(alignment->integer) || alignment->integer > 65536)
      return makeImportError(fileName, alignment->offset,
                             "general.alignment: expected an unsigned "
                             "integer, a power of two between 1 and 65536");
    file.alignment = alignment->integer;
  }

  for (uint64_t i = 0; i < tensorCount; ++i) {
    TensorInfo info;
    info.infoOffset = r.getOffset();
    info.name = parser.readString("tensor #" + llvm::Twine(i) + " name");
    uint32_t nDims = r.read<uint32_t>("dimension count of '" + info.name + "'");
    if (r.hasFailed())
      return r.takeError();
    if (nDims == 0 || nDims > 4)
      return makeImportError(fileName, info.infoOffset,
                             llvm::formatv("tensor '{0}': {1} dimensions "
                                           "(expected 1 to 4)",
                                           info.name, nDims));
    for (uint32_t d = 0; d < nDims; ++d)
      info.dims.push_back(r.read<uint64_t>("dimensions of '" + info.name + "'"));
    info.ggmlType = r.read<uint32_t>("type of '" + info.name + "'");
    info.offset = r.read<uint64_t>("data offset of '" + info.name + "'");
    if (r.hasFailed())
      return r.takeError();
    file.tensors.push_back(std::move(info));
  }

  file.dataOffset = llvm::alignTo(r.getOffset(), file.alignment);
  if (file.dataOffset > data.size())
    return makeImportError(fileName, r.getOffset(),
                           llvm::formatv("data section at offset {0} is past "
                                         "the end of the file ({1} bytes)",
                                         file.dataOffset, data.size()));
  return file;
}
