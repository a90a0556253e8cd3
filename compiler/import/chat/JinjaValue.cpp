//===- JinjaValue.cpp - the values a chat template computes with ------------===//

#include "compiler/import/chat/JinjaValue.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

using namespace tlmc::jinja;

Value Value::none() {
  Value v;
  v.k = Kind::None;
  return v;
}
Value Value::boolean(bool b) {
  Value v;
  v.k = Kind::Bool;
  v.i = b;
  return v;
}
Value Value::integer(int64_t i) {
  Value v;
  v.k = Kind::Int;
  v.i = i;
  return v;
}
Value Value::real(double d) {
  Value v;
  v.k = Kind::Float;
  v.d = d;
  return v;
}
Value Value::string(std::string s) {
  Value v;
  v.k = Kind::String;
  v.s = std::make_shared<std::string>(std::move(s));
  return v;
}
Value Value::list(List items) {
  Value v;
  v.k = Kind::List;
  v.l = std::make_shared<List>(std::move(items));
  return v;
}
Value Value::tuple(List items) {
  Value v = list(std::move(items));
  v.tupleForm = true;
  return v;
}
Value Value::dict(Dict entries) {
  Value v;
  v.k = Kind::Dict;
  v.m = std::make_shared<Dict>(std::move(entries));
  return v;
}

Value *Value::find(const std::string &key) const {
  if (k != Kind::Dict)
    return nullptr;
  for (auto &[name, value] : *m)
    if (name == key)
      return &value;
  return nullptr;
}

void Value::set(const std::string &key, Value v) const {
  if (Value *slot = find(key))
    *slot = std::move(v);
  else
    m->emplace_back(key, std::move(v));
}

bool Value::truthy() const {
  switch (k) {
  case Kind::Undefined:
  case Kind::None:
    return false;
  case Kind::Bool:
  case Kind::Int:
    return i != 0;
  case Kind::Float:
    return d != 0;
  case Kind::String:
    return !s->empty();
  case Kind::List:
    return !l->empty();
  case Kind::Dict:
    return !m->empty();
  }
  return false;
}

namespace {
// Python's repr of a float: the shortest text that reads back the same.
std::string formatFloat(double d) {
  if (std::isnan(d))
    return "nan";
  if (std::isinf(d))
    return d < 0 ? "-inf" : "inf";
  char text[40];
  for (int digits = 1; digits <= 17; ++digits) {
    std::snprintf(text, sizeof text, "%.*g", digits, d);
    if (std::strtod(text, nullptr) == d)
      break;
  }
  std::string out = text;
  if (out.find_first_of(".en") == std::string::npos)
    out += ".0";
  return out;
}

std::string pythonRepr(const Value &v, size_t limit, int depth) {
  if (v.kind() != Value::Kind::String)
    return v.str(limit, depth);
  // Python quotes with ' unless the text has ' and no ".
  const std::string &s = v.asString();
  char quote = s.find('\'') != std::string::npos &&
                       s.find('"') == std::string::npos
                   ? '"'
                   : '\'';
  std::string out(1, quote);
  for (char c : s) {
    if (c == quote || c == '\\')
      out += '\\';
    if (c == '\n')
      out += "\\n";
    else if (c == '\t')
      out += "\\t";
    else
      out += c;
  }
  return out + quote;
}

void appendJsonString(std::string &out, const std::string &s) {
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
    case '"':
      out += "\\\"";
      break;
    case '\\':
      out += "\\\\";
      break;
    case '\n':
      out += "\\n";
      break;
    case '\r':
      out += "\\r";
      break;
    case '\t':
      out += "\\t";
      break;
    case '\b':
      out += "\\b";
      break;
    case '\f':
      out += "\\f";
      break;
    default:
      if (c < 0x20) {
        char esc[8];
        std::snprintf(esc, sizeof esc, "\\u%04x", c);
        out += esc;
      } else {
        out += char(c);
      }
    }
  }
  out += '"';
}
} // namespace

std::string Value::str(size_t limit, int depth) const {
  switch (k) {
  case Kind::Undefined:
    return "";
  case Kind::None:
    return "None";
  case Kind::Bool:
    return i ? "True" : "False";
  case Kind::Int:
    return std::to_string(i);
  case Kind::Float:
    return formatFloat(d);
  case Kind::String:
    return *s;
  case Kind::List: {
    if (depth >= kMaxDepth)
      return "[...]";
    std::string out = tupleForm ? "(" : "[";
    for (size_t n = 0; n < l->size() && out.size() <= limit; ++n)
      out += (n ? ", " : "") + pythonRepr((*l)[n], limit, depth + 1);
    if (tupleForm)
      return out + (l->size() == 1 ? ",)" : ")");
    return out + "]";
  }
  case Kind::Dict: {
    if (depth >= kMaxDepth)
      return "{...}";
    std::string out = "{";
    for (size_t n = 0; n < m->size() && out.size() <= limit; ++n)
      out += (n ? ", " : "") +
             pythonRepr(Value::string((*m)[n].first), limit, depth + 1) +
             ": " + pythonRepr((*m)[n].second, limit, depth + 1);
    return out + "}";
  }
  }
  return "";
}

bool Value::equals(const Value &other, int depth) const {
  if (depth >= kMaxDepth)
    return false;
  if (isNumber() && other.isNumber())
    return k == Kind::Int && other.k == Kind::Int
               ? i == other.i
               : asDouble() == other.asDouble();
  // Python's True == 1.
  auto numeric = [](const Value &v) {
    return v.k == Kind::Bool ? double(v.i) : v.asDouble();
  };
  if ((k == Kind::Bool && other.isNumber()) ||
      (isNumber() && other.k == Kind::Bool))
    return numeric(*this) == numeric(other);
  if (k != other.k)
    return false;
  switch (k) {
  case Kind::Undefined:
  case Kind::None:
    return true;
  case Kind::Bool:
    return i == other.i;
  case Kind::String:
    return *s == *other.s;
  case Kind::List:
    if (l->size() != other.l->size())
      return false;
    for (size_t n = 0; n < l->size(); ++n)
      if (!(*l)[n].equals((*other.l)[n], depth + 1))
        return false;
    return true;
  case Kind::Dict:
    if (m->size() != other.m->size())
      return false;
    for (auto &[key, value] : *m) {
      Value *theirs = other.find(key);
      if (!theirs || !value.equals(*theirs, depth + 1))
        return false;
    }
    return true;
  default:
    return false;
  }
}

std::string Value::json(size_t limit, int depth) const {
  std::string out;
  if (depth >= kMaxDepth && (k == Kind::List || k == Kind::Dict))
    return "null";
  switch (k) {
  case Kind::Undefined:
  case Kind::None:
    return "null";
  case Kind::Bool:
    return i ? "true" : "false";
  case Kind::Int:
  case Kind::Float:
    return str();
  case Kind::String:
    appendJsonString(out, *s);
    return out;
  case Kind::List:
    out = "[";
    for (size_t n = 0; n < l->size() && out.size() <= limit; ++n)
      out += (n ? ", " : "") + (*l)[n].json(limit, depth + 1);
    return out + "]";
  case Kind::Dict:
    out = "{";
    for (size_t n = 0; n < m->size() && out.size() <= limit; ++n) {
      if (n)
        out += ", ";
      appendJsonString(out, (*m)[n].first);
      out += ": " + (*m)[n].second.json(limit, depth + 1);
    }
    return out + "}";
  }
  return out;
}

const char *Value::typeName() const {
  switch (k) {
  case Kind::Undefined:
    return "undefined";
  case Kind::None:
    return "none";
  case Kind::Bool:
    return "boolean";
  case Kind::Int:
    return "integer";
  case Kind::Float:
    return "float";
  case Kind::String:
    return "string";
  case Kind::List:
    return "list";
  case Kind::Dict:
    return "dict";
  }
  return "?";
}
