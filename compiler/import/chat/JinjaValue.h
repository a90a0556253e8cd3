//===- JinjaValue.h - the values a chat template computes with ---*- C++ -*-===//
//
// Jinja's data model as chat templates use it: Python's none, bool, int,
// float, str, list and dict, plus Jinja's undefined (a missing variable,
// attribute or key: falsy, renders as nothing, fails when used otherwise).
// Lists and dicts are shared by reference, as in Python, which is what lets a
// template's `namespace` be assigned to from inside a loop.
//
//===----------------------------------------------------------------------===//

#ifndef TLMC_COMPILER_IMPORT_CHAT_JINJAVALUE_H
#define TLMC_COMPILER_IMPORT_CHAT_JINJAVALUE_H

#include <cstdint>
#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace tlmc::jinja {

class Value;
using List = std::vector<Value>;
/// Insertion-ordered, as Python's dict.
using Dict = std::vector<std::pair<std::string, Value>>;

class Value {
public:
  enum class Kind { Undefined, None, Bool, Int, Float, String, List, Dict };

  Value() = default;
  static Value none();
  static Value boolean(bool b);
  static Value integer(int64_t i);
  static Value real(double d);
  static Value string(std::string s);
  static Value list(List items = {});
  /// A list that prints as Python's tuple: `(1, 2)`.
  static Value tuple(List items);
  static Value dict(Dict entries = {});

  Kind kind() const { return k; }
  bool isUndefined() const { return k == Kind::Undefined; }
  bool isNumber() const { return k == Kind::Int || k == Kind::Float; }
  bool isTuple() const { return tupleForm; }

  bool asBool() const { return i != 0; }
  int64_t asInt() const { return i; }
  double asDouble() const { return k == Kind::Int ? double(i) : d; }
  const std::string &asString() const { return *s; }
  List &asList() const { return *l; }
  Dict &asDict() const { return *m; }

  /// A dict's entry, or nullptr.
  Value *find(const std::string &key) const;
  /// Sets a dict's entry (replacing one of that key).
  void set(const std::string &key, Value v) const;

  /// Python truthiness; undefined is false.
  bool truthy() const;
  /// What `{{ v }}` prints (Python's str(); undefined prints nothing). A
  /// list or dict nested deeper than kMaxDepth (one that contains itself)
  /// prints `[...]` there, as Python's does; printing stops once the text
  /// passes `limit` bytes (the caller refuses such text).
  std::string str(size_t limit = SIZE_MAX, int depth = 0) const;
  /// Python's == (1 == 1.0; lists and dicts by content, to kMaxDepth).
  bool equals(const Value &other, int depth = 0) const;
  /// JSON text, as Jinja's tojson writes it (", " and ": " separators,
  /// non-ASCII kept); stops past `limit` bytes as str() does.
  std::string json(size_t limit = SIZE_MAX, int depth = 0) const;
  static constexpr int kMaxDepth = 64;
  /// The type name a message uses ("string", "list", ...).
  const char *typeName() const;

private:
  Kind k = Kind::Undefined;
  bool tupleForm = false;
  int64_t i = 0;
  double d = 0;
  std::shared_ptr<std::string> s;
  std::shared_ptr<List> l;
  std::shared_ptr<Dict> m;
};

} // namespace tlmc::jinja

#endif // TLMC_COMPILER_IMPORT_CHAT_JINJAVALUE_H
