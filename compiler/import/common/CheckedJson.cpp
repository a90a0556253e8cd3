//===- CheckedJson.cpp - JSON from untrusted files ------------------*- C++ -*-===//

#include "compiler/import/common/CheckedJson.h"
#include "compiler/import/common/BinaryReader.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/ConvertUTF.h"
#include "llvm/Support/FormatVariadic.h"

using namespace tlmc;

namespace {

/// One open array or object during the scan.
struct Level {
  bool isObject = false;
  bool expectKey = false; ///< the next string in this object is a key
  llvm::StringSet<> keys;
};

unsigned hexValue(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return 16;
}

/// The JSON string starting at text[begin] (after its quote), decoded so
/// that "\u0061" and "a" are the same key; sets `end` past the closing
/// quote. Malformed escapes decode to something; the parser refuses them.
std::string decodeString(llvm::StringRef text, size_t begin, size_t &end) {
  std::string out;
  size_t i = begin;
  while (i < text.size() && text[i] != '"') {
    if (text[i] != '\\' || i + 1 >= text.size()) {
      out += text[i++];
      continue;
    }
    char e = text[i + 1];
    i += 2;
    switch (e) {
    case 'b': out += '\b'; break;
    case 'f': out += '\f'; break;
    case 'n': out += '\n'; break;
    case 'r': out += '\r'; break;
    case 't': out += '\t'; break;
    case 'u': {
      auto readUnit = [&](size_t at) -> unsigned {
        unsigned v = 0;
        for (size_t k = 0; k < 4; ++k) {
          unsigned h = at + k < text.size() ? hexValue(text[at + k]) : 16;
          if (h == 16)
            return 0x110000;
          v = v * 16 + h;
        }
        return v;
      };
      unsigned cp = readUnit(i);
      if (cp == 0x110000)
        break;
      i += 4;
      if (cp >= 0xD800 && cp < 0xDC00 && i + 6 <= text.size() &&
          text[i] == '\\' && text[i + 1] == 'u') {
        unsigned low = readUnit(i + 2);
        if (low >= 0xDC00 && low < 0xE000) {
          cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          i += 6;
        }
      }
      char utf8[4];
      char *next = utf8;
      if (llvm::ConvertCodePointToUTF8(cp, next))
        out.append(utf8, next - utf8);
      break;
    }
    default: out += e; break; // \" \\ \/ and invalid ones
    }
  }
  end = i + 1;
  return out;
}

} // namespace

llvm::Expected<llvm::json::Value>
tlmc::parseCheckedJson(llvm::StringRef file, llvm::StringRef text,
                       uint64_t offsetInFile, llvm::StringRef what) {
  llvm::SmallVector<Level, 8> levels;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '"') {
      size_t end;
      std::string s = decodeString(text, i + 1, end);
      if (!levels.empty() && levels.back().isObject &&
          levels.back().expectKey) {
        if (!levels.back().keys.insert(s).second)
          return makeImportError(
              file, offsetInFile + i,
              llvm::formatv("{0}: key '{1}' appears twice in one object",
                            what, s));
        levels.back().expectKey = false;
      }
      i = end - 1;
    } else if (c == '[' || c == '{') {
      if (levels.size() >= kMaxJsonDepth)
        return makeImportError(file, offsetInFile + i,
                               llvm::formatv("{0} nested deeper than {1} "
                                             "levels",
                                             what, kMaxJsonDepth));
      levels.emplace_back();
      levels.back().isObject = c == '{';
      levels.back().expectKey = c == '{';
    } else if (c == ']' || c == '}') {
      if (!levels.empty())
        levels.pop_back();
    } else if (c == ',' && !levels.empty() && levels.back().isObject) {
      levels.back().expectKey = true;
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
