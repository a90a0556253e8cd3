//===- JinjaInterpreter.cpp - rendering a parsed chat template --------------===//
//
// Walks the tree JinjaParser builds. Semantics are Python's and Jinja's
// where chat templates depend on them: `and`/`or` return an operand, a loop
// body is its own scope (assignments inside do not leak out; a namespace's
// attributes do), a missing attribute or key is undefined, and undefined
// prints nothing. Strings index and slice by code point, as Python's str.
// Anything outside the subset (an unknown filter, test, method or function)
// fails naming it and its line rather than guessing.
//
//===----------------------------------------------------------------------===//

#include "compiler/import/chat/Jinja.h"
#include "compiler/import/chat/JinjaAst.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <cmath>

using namespace tlmc::jinja;

namespace {

constexpr const char *kWhitespace = " \t\n\r\f\v";

// A chat template renders a conversation in a few thousand steps and
// kilobytes; one that loops or grows text without bound (a hostile file) is
// stopped. Building text costs a step per 256 bytes.
constexpr uint64_t kMaxSteps = 200'000;
constexpr size_t kMaxText = 1u << 20;

// The byte offsets where each code point of UTF-8 `s` starts, and s.size().
std::vector<size_t> codePointStarts(const std::string &s) {
  std::vector<size_t> starts;
  for (size_t i = 0; i < s.size(); ++i)
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80)
      starts.push_back(i);
  starts.push_back(s.size());
  return starts;
}

// A list's or string's length in items (code points), and for a string
// where each code point starts (codePointStarts).
int64_t sequenceLength(const Value &v, std::vector<size_t> &starts) {
  if (v.kind() == Value::Kind::List)
    return int64_t(v.asList().size());
  starts = codePointStarts(v.asString());
  return int64_t(starts.size()) - 1;
}

class Interpreter {
public:
  explicit Interpreter(const Dict &globals) { scopes.push_back(globals); }

  llvm::Expected<std::string> run(const Body &program) {
    exec(program);
    if (!error.empty())
      return llvm::createStringError(llvm::inconvertibleErrorCode(), error);
    return std::move(out);
  }

private:
  enum class Flow { Normal, Break, Continue };

  Value fail(unsigned line, const llvm::Twine &message) {
    if (error.empty())
      error = ("line " + llvm::Twine(line) + ": " + message).str();
    return Value();
  }
  bool failed() const { return !error.empty(); }
  // Counts a step of work and `bytes` of text built; false (with an error)
  // past the budget.
  bool step(unsigned line, uint64_t bytes = 0) {
    steps += 1 + bytes / 256;
    if (steps <= kMaxSteps && bytes <= kMaxText && out.size() <= kMaxText)
      return true;
    fail(line, "the template does more work than any chat template "
               "(a loop without end, or text beyond 1 MiB)");
    return false;
  }
  // `text`, if the budget allows building it.
  Value built(unsigned line, std::string text) {
    return step(line, text.size()) ? Value::string(std::move(text)) : Value();
  }

  Value lookup(const std::string &name) const {
    for (auto scope = scopes.rbegin(); scope != scopes.rend(); ++scope)
      for (const auto &[key, value] : *scope)
        if (key == name)
          return value;
    return Value();
  }
  void assign(const std::string &name, Value v) {
    for (auto &[key, value] : scopes.back())
      if (key == name) {
        value = std::move(v);
        return;
      }
    scopes.back().emplace_back(name, std::move(v));
  }

  Flow exec(const Body &body);
  Flow execFor(const Stmt &s);
  Value eval(const Expr &e);
  Value evalBinary(const Expr &e);
  Value evalCall(const Expr &e);
  Value callMethod(const Expr &e, const Value &self, const std::string &name,
                   const std::vector<Value> &args);
  Value applyFilter(const Expr &e, const Value &v,
                    const std::vector<Value> &args);
  Value applyTest(const Expr &e, const Value &v,
                  const std::vector<Value> &args);
  bool evalArgs(const Expr &e, std::vector<Value> &args);
  Value kwarg(const Expr &e, llvm::StringRef name);
  Value subscript(const Expr &e, const Value &object, const Value &index);
  Value slice(const Expr &e, const Value &object);
  std::optional<List> iterate(const Expr &e, const Value &v);
  bool lessThan(const Expr &e, const Value &a, const Value &b);

  std::vector<Dict> scopes;
  std::string out;
  std::string error;
  uint64_t steps = 0;
};

Interpreter::Flow Interpreter::exec(const Body &body) {
  for (const StmtPtr &s : body) {
    if (failed() || !step(s->line))
      return Flow::Normal;
    switch (s->kind) {
    case Stmt::Kind::Text:
      out += s->text;
      break;
    case Stmt::Kind::Output: {
      Value v = eval(*s->expr);
      if (failed())
        break;
      std::string text = v.str(kMaxText);
      if (step(s->line, text.size()))
        out += text;
      break;
    }
    case Stmt::Kind::If:
      for (const auto &[cond, branch] : s->branches) {
        if (cond) {
          Value c = eval(*cond);
          if (failed() || !c.truthy())
            continue;
        }
        Flow flow = exec(branch);
        if (flow != Flow::Normal)
          return flow;
        break;
      }
      break;
    case Stmt::Kind::For:
      execFor(*s);
      break;
    case Stmt::Kind::Set: {
      Value v = eval(*s->expr);
      if (failed())
        break;
      if (s->targets.size() == 1) {
        assign(s->targets[0], std::move(v));
        break;
      }
      Value ns = lookup(s->targets[0]);
      if (ns.kind() != Value::Kind::Dict)
        fail(s->line, "'" + s->targets[0] + "' is not a namespace");
      else
        ns.set(s->targets[1], std::move(v));
      break;
    }
    case Stmt::Kind::SetBlock: {
      std::string saved = std::move(out);
      out.clear();
      exec(s->body);
      assign(s->targets[0], Value::string(std::move(out)));
      out = std::move(saved);
      break;
    }
    case Stmt::Kind::Break:
      return Flow::Break;
    case Stmt::Kind::Continue:
      return Flow::Continue;
    }
  }
  return Flow::Normal;
}

Interpreter::Flow Interpreter::execFor(const Stmt &s) {
  Value iterable = eval(*s.expr);
  if (failed())
    return Flow::Normal;
  std::optional<List> items = iterate(*s.expr, iterable);
  if (!items)
    return Flow::Normal;
  auto bind = [&](Dict &scope, const Value &item) {
    if (s.targets.size() == 1) {
      scope.emplace_back(s.targets[0], item);
      return true;
    }
    std::optional<List> parts = iterate(*s.expr, item);
    if (!parts || parts->size() != s.targets.size()) {
      fail(s.line, llvm::formatv("cannot unpack a {0} into {1} loop variables",
                                 item.typeName(), s.targets.size()));
      return false;
    }
    for (size_t n = 0; n < parts->size(); ++n)
      scope.emplace_back(s.targets[n], (*parts)[n]);
    return true;
  };
  if (s.filter) {
    // `for x in xs if cond`: the loop sees only the items that pass.
    List kept;
    for (const Value &item : *items) {
      scopes.emplace_back();
      bool ok = bind(scopes.back(), item);
      Value keep = ok ? eval(*s.filter) : Value();
      scopes.pop_back();
      if (failed())
        return Flow::Normal;
      if (keep.truthy())
        kept.push_back(item);
    }
    items = std::move(kept);
  }
  if (items->empty()) {
    scopes.emplace_back();
    exec(s.elseBody);
    scopes.pop_back();
    return Flow::Normal;
  }
  int64_t length = int64_t(items->size());
  for (int64_t n = 0; n < length; ++n) {
    if (!step(s.line))
      break;
    Value loop = Value::dict({
        {"index", Value::integer(n + 1)},
        {"index0", Value::integer(n)},
        {"revindex", Value::integer(length - n)},
        {"revindex0", Value::integer(length - n - 1)},
        {"first", Value::boolean(n == 0)},
        {"last", Value::boolean(n == length - 1)},
        {"length", Value::integer(length)},
        {"previtem", n > 0 ? (*items)[n - 1] : Value()},
        {"nextitem", n + 1 < length ? (*items)[n + 1] : Value()},
    });
    scopes.emplace_back();
    scopes.back().emplace_back("loop", loop);
    bool ok = bind(scopes.back(), (*items)[n]);
    Flow flow = ok ? exec(s.body) : Flow::Normal;
    scopes.pop_back();
    if (failed() || flow == Flow::Break)
      break;
  }
  return Flow::Normal;
}

std::optional<List> Interpreter::iterate(const Expr &e, const Value &v) {
  switch (v.kind()) {
  case Value::Kind::Undefined:
    return List();
  case Value::Kind::List:
    return v.asList();
  case Value::Kind::Dict: {
    List keys;
    for (const auto &[key, value] : v.asDict())
      keys.push_back(Value::string(key));
    return keys;
  }
  case Value::Kind::String: {
    List chars;
    if (!step(e.line, v.asString().size() * 64))
      return std::nullopt;
    std::vector<size_t> starts = codePointStarts(v.asString());
    for (size_t n = 0; n + 1 < starts.size(); ++n)
      chars.push_back(Value::string(
          v.asString().substr(starts[n], starts[n + 1] - starts[n])));
    return chars;
  }
  default:
    fail(e.line, llvm::Twine("cannot iterate over a ") + v.typeName());
    return std::nullopt;
  }
}

Value Interpreter::eval(const Expr &e) {
  if (failed() || !step(e.line))
    return Value();
  switch (e.kind) {
  case Expr::Kind::Literal:
    return e.literal;
  case Expr::Kind::Name:
    return lookup(e.name);
  case Expr::Kind::Attribute: {
    Value object = eval(*e.a);
    if (failed())
      return Value();
    if (object.isUndefined())
      return fail(e.line, "'." + e.name + "' of an undefined value");
    if (Value *v = object.find(e.name))
      return *v;
    return Value();
  }
  case Expr::Kind::Subscript: {
    Value object = eval(*e.a);
    Value index = eval(*e.b);
    return failed() ? Value() : subscript(e, object, index);
  }
  case Expr::Kind::Slice: {
    Value object = eval(*e.a);
    return failed() ? Value() : slice(e, object);
  }
  case Expr::Kind::Call:
    return evalCall(e);
  case Expr::Kind::Filter: {
    Value v = eval(*e.a);
    std::vector<Value> args;
    if (failed() || !evalArgs(e, args))
      return Value();
    return applyFilter(e, v, args);
  }
  case Expr::Kind::Test: {
    Value v = eval(*e.a);
    std::vector<Value> args;
    if (failed() || !evalArgs(e, args))
      return Value();
    Value result = applyTest(e, v, args);
    if (failed())
      return Value();
    return Value::boolean(result.truthy() != e.negated);
  }
  case Expr::Kind::Unary: {
    Value v = eval(*e.a);
    if (failed())
      return Value();
    if (e.name == "not")
      return Value::boolean(!v.truthy());
    if (!v.isNumber())
      return fail(e.line, "unary '" + e.name + "' of a " + v.typeName());
    if (e.name == "+")
      return v;
    if (v.kind() == Value::Kind::Int && v.asInt() == INT64_MIN)
      return fail(e.line, "integer overflow in unary '-'");
    return v.kind() == Value::Kind::Int ? Value::integer(-v.asInt())
                                        : Value::real(-v.asDouble());
  }
  case Expr::Kind::Binary:
    return evalBinary(e);
  case Expr::Kind::Ternary: {
    Value cond = eval(*e.b);
    if (failed())
      return Value();
    if (cond.truthy())
      return eval(*e.a);
    return e.c ? eval(*e.c) : Value();
  }
  case Expr::Kind::List: {
    List items;
    for (const ExprPtr &item : e.args)
      items.push_back(eval(*item));
    if (failed())
      return Value();
    return e.negated ? Value::tuple(std::move(items))
                     : Value::list(std::move(items));
  }
  case Expr::Kind::Dict: {
    Value d = Value::dict();
    for (size_t n = 0; n + 1 < e.args.size(); n += 2) {
      Value key = eval(*e.args[n]);
      Value value = eval(*e.args[n + 1]);
      if (failed())
        return Value();
      if (key.kind() != Value::Kind::String)
        return fail(e.line, "dict keys must be strings");
      d.set(key.asString(), std::move(value));
    }
    return d;
  }
  }
  return Value();
}

bool Interpreter::lessThan(const Expr &e, const Value &a, const Value &b) {
  if (a.isNumber() && b.isNumber())
    return a.asDouble() < b.asDouble();
  if (a.kind() == Value::Kind::String && b.kind() == Value::Kind::String)
    return a.asString() < b.asString();
  fail(e.line, llvm::Twine("cannot order a ") + a.typeName() + " and a " +
                   b.typeName());
  return false;
}

Value Interpreter::evalBinary(const Expr &e) {
  const std::string &op = e.name;
  Value a = eval(*e.a);
  if (failed())
    return Value();
  if (op == "and")
    return a.truthy() ? eval(*e.b) : a;
  if (op == "or")
    return a.truthy() ? a : eval(*e.b);
  Value b = eval(*e.b);
  if (failed())
    return Value();
  using K = Value::Kind;
  if (op == "==")
    return Value::boolean(a.equals(b));
  if (op == "!=")
    return Value::boolean(!a.equals(b));
  if (op == "<")
    return Value::boolean(lessThan(e, a, b));
  if (op == ">")
    return Value::boolean(lessThan(e, b, a));
  if (op == "<=")
    return Value::boolean(!lessThan(e, b, a));
  if (op == ">=")
    return Value::boolean(!lessThan(e, a, b));
  if (op == "in" || op == "not in") {
    bool found = false;
    if (b.kind() == K::String && a.kind() == K::String)
      found = b.asString().find(a.asString()) != std::string::npos;
    else if (b.kind() == K::List)
      found = llvm::any_of(b.asList(),
                           [&](const Value &item) { return item.equals(a); });
    else if (b.kind() == K::Dict && a.kind() == K::String)
      found = b.find(a.asString()) != nullptr;
    else if (!b.isUndefined())
      return fail(e.line, llvm::Twine("'in' a ") + b.typeName() + " of a " +
                              a.typeName());
    return Value::boolean(found != (op == "not in"));
  }
  if (op == "~")
    return built(e.line, a.str(kMaxText) + b.str(kMaxText));
  if (op == "+" && a.kind() == K::String && b.kind() == K::String)
    return built(e.line, a.asString() + b.asString());
  if (op == "+" && a.kind() == K::List && b.kind() == K::List) {
    if (!step(e.line, 8 * (a.asList().size() + b.asList().size())))
      return Value();
    List joined = a.asList();
    joined.insert(joined.end(), b.asList().begin(), b.asList().end());
    return Value::list(std::move(joined));
  }
  if (op == "*" && a.kind() == K::String && b.kind() == K::Int) {
    uint64_t times = uint64_t(std::clamp<int64_t>(b.asInt(), 0, kMaxText + 1));
    if (!step(e.line, a.asString().empty() ? 0 : times * a.asString().size()))
      return Value();
    std::string repeated;
    for (uint64_t n = 0; n < times && !a.asString().empty(); ++n)
      repeated += a.asString();
    return Value::string(std::move(repeated));
  }
  auto isNumeric = [](const Value &v) {
    return v.isNumber() || v.kind() == K::Bool;
  };
  if (!isNumeric(a) || !isNumeric(b))
    return fail(e.line, llvm::Twine("'") + op + "' of a " + a.typeName() +
                            " and a " + b.typeName());
  bool integers = a.kind() != K::Float && b.kind() != K::Float;
  int64_t x = a.asInt(), y = b.asInt();
  double fx = a.kind() == K::Float ? a.asDouble() : double(x);
  double fy = b.kind() == K::Float ? b.asDouble() : double(y);
  if ((op == "/" || op == "//" || op == "%") && fy == 0)
    return fail(e.line, "division by zero");
  int64_t exact;
  auto overflow = [&]() {
    return fail(e.line, "integer overflow in '" + op + "'");
  };
  if (op == "+" && integers)
    return __builtin_add_overflow(x, y, &exact) ? overflow()
                                                : Value::integer(exact);
  if (op == "-" && integers)
    return __builtin_sub_overflow(x, y, &exact) ? overflow()
                                                : Value::integer(exact);
  if (op == "*" && integers)
    return __builtin_mul_overflow(x, y, &exact) ? overflow()
                                                : Value::integer(exact);
  if (op == "+")
    return Value::real(fx + fy);
  if (op == "-")
    return Value::real(fx - fy);
  if (op == "*")
    return Value::real(fx * fy);
  if (op == "/")
    return Value::real(fx / fy);
  if (integers && (op == "//" || op == "%")) {
    if (x == INT64_MIN && y == -1)
      return overflow();
    // Python's floor division and modulo: the remainder takes y's sign.
    int64_t q = x / y, r = x % y;
    if (r != 0 && ((r < 0) != (y < 0))) {
      --q;
      r += y;
    }
    return Value::integer(op == "//" ? q : r);
  }
  if (op == "//")
    return Value::real(std::floor(fx / fy));
  if (op == "%")
    return Value::real(fx - fy * std::floor(fx / fy));
  if (op == "**" && integers && y >= 0) {
    if (x == 0 || x == 1)
      return Value::integer(y == 0 ? 1 : x);
    if (x == -1)
      return Value::integer(y % 2 ? -1 : 1);
    int64_t result = 1; // |x| >= 2 overflows within 63 factors
    for (int64_t n = 0; n < y; ++n)
      if (__builtin_mul_overflow(result, x, &result))
        return overflow();
    return Value::integer(result);
  }
  if (op == "**")
    return Value::real(std::pow(fx, fy));
  return fail(e.line, "unknown operator '" + op + "'");
}

Value Interpreter::subscript(const Expr &e, const Value &object,
                             const Value &index) {
  using K = Value::Kind;
  if (object.kind() == K::Dict) {
    if (index.kind() != K::String)
      return fail(e.line, llvm::Twine("a dict indexed by a ") +
                              index.typeName());
    Value *v = object.find(index.asString());
    return v ? *v : Value();
  }
  if (object.kind() == K::List || object.kind() == K::String) {
    if (index.kind() != K::Int)
      return fail(e.line, llvm::Twine("a ") + object.typeName() +
                              " indexed by a " + index.typeName());
    std::vector<size_t> starts;
    int64_t length = sequenceLength(object, starts);
    int64_t i = index.asInt() < 0 ? index.asInt() + length : index.asInt();
    if (i < 0 || i >= length)
      return Value(); // Jinja: undefined
    if (object.kind() == K::List)
      return object.asList()[i];
    return Value::string(
        object.asString().substr(starts[i], starts[i + 1] - starts[i]));
  }
  if (object.isUndefined())
    return fail(e.line, "indexing an undefined value");
  return fail(e.line, llvm::Twine("indexing a ") + object.typeName());
}

Value Interpreter::slice(const Expr &e, const Value &object) {
  using K = Value::Kind;
  if (object.kind() != K::List && object.kind() != K::String)
    return fail(e.line, llvm::Twine("slicing a ") + object.typeName());
  std::vector<size_t> starts;
  int64_t length = sequenceLength(object, starts);
  auto bound = [&](const ExprPtr &x, std::optional<int64_t> &result) {
    if (!x)
      return true;
    Value v = eval(*x);
    if (failed())
      return false;
    if (v.kind() == K::None)
      return true;
    if (v.kind() != K::Int) {
      fail(e.line, llvm::Twine("a slice bound that is a ") + v.typeName());
      return false;
    }
    result = v.asInt();
    return true;
  };
  std::optional<int64_t> start, stop, stepValue;
  if (!bound(e.b, start) || !bound(e.c, stop) || !bound(e.d, stepValue))
    return Value();
  int64_t step = stepValue.value_or(1);
  if (step == 0)
    return fail(e.line, "slice step cannot be zero");
  // Python's slice.indices().
  auto clamp = [&](std::optional<int64_t> x, int64_t fallback) {
    if (!x)
      return fallback;
    int64_t v = *x < 0 ? *x + length : *x;
    if (step > 0)
      return std::clamp<int64_t>(v, 0, length);
    return std::clamp<int64_t>(v, -1, length - 1);
  };
  int64_t first = clamp(start, step > 0 ? 0 : length - 1);
  int64_t last = clamp(stop, step > 0 ? length : -1);
  List items;
  std::string text;
  for (int64_t i = first; step > 0 ? i < last : i > last; i += step) {
    if (object.kind() == K::List)
      items.push_back(object.asList()[i]);
    else
      text += object.asString().substr(starts[i], starts[i + 1] - starts[i]);
  }
  return object.kind() == K::List ? Value::list(std::move(items))
                                  : Value::string(std::move(text));
}

bool Interpreter::evalArgs(const Expr &e, std::vector<Value> &args) {
  for (const ExprPtr &arg : e.args)
    args.push_back(eval(*arg));
  return !failed();
}

Value Interpreter::kwarg(const Expr &e, llvm::StringRef name) {
  for (const auto &[key, value] : e.kwargs)
    if (key == name)
      return eval(*value);
  return Value();
}

Value Interpreter::evalCall(const Expr &e) {
  std::vector<Value> args;
  if (e.a->kind == Expr::Kind::Attribute) {
    Value self = eval(*e.a->a);
    if (failed() || !evalArgs(e, args))
      return Value();
    return callMethod(e, self, e.a->name, args);
  }
  if (e.a->kind != Expr::Kind::Name)
    return fail(e.line, "only functions and methods can be called");
  const std::string &name = e.a->name;
  if (!evalArgs(e, args))
    return Value();
  if (name == "raise_exception")
    return fail(e.line, "the template raised an error: " +
                            (args.empty() ? std::string() : args[0].str()));
  if (name == "namespace" || name == "dict") {
    Value ns = Value::dict();
    if (!args.empty() && args[0].kind() == Value::Kind::Dict)
      for (const auto &[key, value] : args[0].asDict())
        ns.set(key, value);
    for (const auto &[key, value] : e.kwargs) {
      Value v = eval(*value);
      if (failed())
        return Value();
      ns.set(key, std::move(v));
    }
    return ns;
  }
  if (name == "range") {
    if (args.empty() || args.size() > 3 ||
        !llvm::all_of(args, [](const Value &v) {
          return v.kind() == Value::Kind::Int;
        }))
      return fail(e.line, "range() takes 1 to 3 integers");
    int64_t start = args.size() > 1 ? args[0].asInt() : 0;
    int64_t stop = args.size() > 1 ? args[1].asInt() : args[0].asInt();
    int64_t step = args.size() > 2 ? args[2].asInt() : 1;
    if (step == 0)
      return fail(e.line, "range() step cannot be zero");
    List items;
    for (int64_t i = start; step > 0 ? i < stop : i > stop;) {
      if (!this->step(e.line))
        return Value();
      items.push_back(Value::integer(i));
      if (__builtin_add_overflow(i, step, &i))
        break;
    }
    return Value::list(std::move(items));
  }
  return fail(e.line, "calls '" + name +
                          "', which tlmc's template renderer does not define");
}

// Python's str.strip family: `chars` or whitespace, from the left and/or
// the right.
std::string stripChars(const std::string &s, const Value &chars, bool left,
                       bool right) {
  std::string set = chars.kind() == Value::Kind::String ? chars.asString()
                                                        : kWhitespace;
  size_t begin = 0, end = s.size();
  if (left)
    while (begin < end && set.find(s[begin]) != std::string::npos)
      ++begin;
  if (right)
    while (end > begin && set.find(s[end - 1]) != std::string::npos)
      --end;
  return s.substr(begin, end - begin);
}

std::string changeCase(std::string s, int mode) {
  // 0 lower, 1 upper, 2 title, 3 capitalize (ASCII letters, as the
  // templates use them).
  bool wordStart = true;
  for (size_t i = 0; i < s.size(); ++i) {
    char &c = s[i];
    bool alpha = std::isalpha(static_cast<unsigned char>(c));
    if (mode == 0 || (mode == 3 && i > 0) || (mode == 2 && !wordStart))
      c = char(std::tolower(static_cast<unsigned char>(c)));
    else if (mode == 1 || alpha)
      c = char(std::toupper(static_cast<unsigned char>(c)));
    wordStart = !alpha;
  }
  return s;
}

Value Interpreter::callMethod(const Expr &e, const Value &self,
                              const std::string &name,
                              const std::vector<Value> &args) {
  using K = Value::Kind;
  auto arg = [&](size_t n) { return n < args.size() ? args[n] : Value(); };
  if (self.kind() == K::String) {
    const std::string &s = self.asString();
    if (name == "strip" || name == "lstrip" || name == "rstrip")
      return Value::string(stripChars(s, arg(0), name != "rstrip",
                                      name != "lstrip"));
    if (name == "startswith" || name == "endswith") {
      List candidates;
      if (arg(0).kind() == K::List)
        candidates = arg(0).asList();
      else
        candidates.push_back(arg(0));
      for (const Value &c : candidates) {
        if (c.kind() != K::String)
          return fail(e.line, name + "() takes strings");
        if (name == "startswith" ? llvm::StringRef(s).starts_with(c.asString())
                                 : llvm::StringRef(s).ends_with(c.asString()))
          return Value::boolean(true);
      }
      return Value::boolean(false);
    }
    if (name == "split") {
      Value sep = arg(0).isUndefined() ? kwarg(e, "sep") : arg(0);
      Value max = arg(1).isUndefined() ? kwarg(e, "maxsplit") : arg(1);
      int64_t maxSplit = max.kind() == K::Int ? max.asInt() : -1;
      List parts;
      if (sep.kind() == K::String) {
        if (sep.asString().empty())
          return fail(e.line, "split() with an empty separator");
        size_t from = 0;
        while (maxSplit < 0 || int64_t(parts.size()) < maxSplit) {
          size_t at = s.find(sep.asString(), from);
          if (at == std::string::npos)
            break;
          parts.push_back(Value::string(s.substr(from, at - from)));
          from = at + sep.asString().size();
        }
        parts.push_back(Value::string(s.substr(from)));
      } else {
        // Runs of whitespace; no empty parts.
        size_t i = 0;
        while (true) {
          while (i < s.size() && std::strchr(kWhitespace, s[i]) && s[i])
            ++i;
          if (i >= s.size())
            break;
          if (maxSplit >= 0 && int64_t(parts.size()) == maxSplit) {
            parts.push_back(
                Value::string(stripChars(s.substr(i), Value(), false, true)));
            break;
          }
          size_t j = i;
          while (j < s.size() && !(std::strchr(kWhitespace, s[j]) && s[j]))
            ++j;
          parts.push_back(Value::string(s.substr(i, j - i)));
          i = j;
        }
      }
      return Value::list(std::move(parts));
    }
    if (name == "lower" || name == "upper" || name == "title" ||
        name == "capitalize")
      return Value::string(changeCase(
          s, name == "lower" ? 0 : name == "upper" ? 1 : name == "title" ? 2 : 3));
    if (name == "replace") {
      if (arg(0).kind() != K::String || arg(1).kind() != K::String ||
          arg(0).asString().empty())
        return fail(e.line, "replace() takes two strings, the first not empty");
      int64_t count = arg(2).kind() == K::Int ? arg(2).asInt() : -1;
      std::string result;
      size_t from = 0, at;
      while (count != 0 &&
             (at = s.find(arg(0).asString(), from)) != std::string::npos) {
        result += s.substr(from, at - from) + arg(1).asString();
        from = at + arg(0).asString().size();
        --count;
        if (result.size() > kMaxText)
          break; // refused just below
      }
      return built(e.line, result + s.substr(from));
    }
    if (name == "join") {
      std::optional<List> items = iterate(e, arg(0));
      if (!items)
        return Value();
      std::string joined;
      for (size_t n = 0; n < items->size() && joined.size() <= kMaxText; ++n)
        joined += (n ? s : "") + (*items)[n].str(kMaxText);
      return built(e.line, std::move(joined));
    }
    if (name == "find" && arg(0).kind() == K::String) {
      size_t at = s.find(arg(0).asString());
      return Value::integer(at == std::string::npos
                                ? -1
                                : int64_t(codePointStarts(s.substr(0, at)).size()) - 1);
    }
  }
  if (self.kind() == K::Dict) {
    if (name == "items" || name == "keys" || name == "values") {
      List items;
      for (const auto &[key, value] : self.asDict())
        items.push_back(name == "items"  ? Value::tuple({Value::string(key), value})
                        : name == "keys" ? Value::string(key)
                                         : value);
      return Value::list(std::move(items));
    }
    if (name == "get") {
      if (arg(0).kind() != K::String)
        return fail(e.line, "get() takes a string key");
      Value *v = self.find(arg(0).asString());
      return v ? *v : (args.size() > 1 ? args[1] : Value::none());
    }
  }
  return fail(e.line, llvm::Twine("a ") + self.typeName() + " has no method '" +
                          name + "' tlmc's template renderer knows");
}

Value Interpreter::applyFilter(const Expr &e, const Value &v,
                               const std::vector<Value> &args) {
  using K = Value::Kind;
  const std::string &name = e.name;
  auto arg = [&](size_t n) { return n < args.size() ? args[n] : Value(); };
  if (name == "trim") {
    if (v.kind() != K::String)
      return fail(e.line, llvm::Twine("trim of a ") + v.typeName());
    return Value::string(stripChars(v.asString(), arg(0), true, true));
  }
  if (name == "length" || name == "count") {
    if (v.kind() == K::String)
      return Value::integer(int64_t(codePointStarts(v.asString()).size()) - 1);
    if (v.kind() == K::List)
      return Value::integer(int64_t(v.asList().size()));
    if (v.kind() == K::Dict)
      return Value::integer(int64_t(v.asDict().size()));
    if (v.isUndefined())
      return Value::integer(0);
    return fail(e.line, llvm::Twine("length of a ") + v.typeName());
  }
  if (name == "tojson") {
    Value indent = arg(0).isUndefined() ? kwarg(e, "indent") : arg(0);
    if (!indent.isUndefined() && indent.kind() != K::None)
      return fail(e.line, "tojson with an indent is not supported");
    return built(e.line, v.json(kMaxText));
  }
  if (name == "string")
    return built(e.line, v.str(kMaxText));
  if (name == "safe")
    return v;
  if (name == "upper" || name == "lower" || name == "title" ||
      name == "capitalize") {
    if (v.kind() != K::String)
      return fail(e.line, name + " of a " + v.typeName());
    return callMethod(e, v, name, {});
  }
  if (name == "first" || name == "last") {
    std::optional<List> items = iterate(e, v);
    if (!items || items->empty())
      return Value();
    return name == "first" ? items->front() : items->back();
  }
  if (name == "join") {
    Value attribute = kwarg(e, "attribute");
    std::optional<List> items = iterate(e, v);
    if (!items)
      return Value();
    std::string sep = arg(0).kind() == K::String ? arg(0).asString() : "";
    std::string joined;
    for (size_t n = 0; n < items->size(); ++n) {
      Value item = (*items)[n];
      if (attribute.kind() == K::String) {
        Value *field = item.find(attribute.asString());
        item = field ? *field : Value();
      }
      joined += (n ? sep : "") + item.str(kMaxText);
      if (joined.size() > kMaxText)
        break; // refused just below
    }
    return built(e.line, std::move(joined));
  }
  if (name == "default" || name == "d") {
    bool orFalsy = arg(1).truthy() || kwarg(e, "boolean").truthy();
    if (v.isUndefined() || (orFalsy && !v.truthy()))
      return arg(0).isUndefined() ? Value::string("") : arg(0);
    return v;
  }
  if (name == "reverse" || name == "list") {
    std::optional<List> items = iterate(e, v);
    if (!items)
      return Value();
    if (name == "reverse")
      std::reverse(items->begin(), items->end());
    if (name == "reverse" && v.kind() == K::String) {
      std::string s;
      for (const Value &c : *items)
        s += c.asString();
      return Value::string(s);
    }
    return Value::list(std::move(*items));
  }
  if (name == "int") {
    if (v.kind() == K::Float && !(std::fabs(v.asDouble()) < 9.2e18))
      return fail(e.line, "int of a float out of range");
    if (v.isNumber() || v.kind() == K::Bool)
      return Value::integer(v.kind() == K::Float ? int64_t(v.asDouble())
                                                 : v.asInt());
    int64_t i = 0;
    if (v.kind() == K::String &&
        !llvm::StringRef(v.asString()).trim().getAsInteger(10, i))
      return Value::integer(i);
    return Value::integer(arg(0).kind() == K::Int ? arg(0).asInt() : 0);
  }
  if (name == "abs" && v.kind() == K::Int && v.asInt() == INT64_MIN)
    return fail(e.line, "integer overflow in abs");
  if (name == "abs" && v.isNumber())
    return v.kind() == K::Int ? Value::integer(std::llabs(v.asInt()))
                              : Value::real(std::fabs(v.asDouble()));
  if (name == "items" && v.kind() == K::Dict)
    return callMethod(e, v, "items", {});
  if (name == "replace")
    return callMethod(e, v, "replace", args);
  if (name == "selectattr" || name == "rejectattr" || name == "select" ||
      name == "reject") {
    // xs | selectattr("role", "equalto", "system"), xs | select("string")
    bool byAttribute = llvm::StringRef(name).ends_with("attr");
    std::optional<List> items = iterate(e, v);
    if (!items)
      return Value();
    size_t testAt = byAttribute ? 1 : 0;
    if (byAttribute && arg(0).kind() != K::String)
      return fail(e.line, name + " needs an attribute name");
    Expr test(Expr::Kind::Test, e.line);
    test.name = arg(testAt).kind() == K::String ? arg(testAt).asString() : "";
    std::vector<Value> testArgs(args.begin() + std::min(args.size(), testAt + 1),
                                args.end());
    List kept;
    for (const Value &item : *items) {
      Value subject = item;
      if (byAttribute) {
        Value *field = item.find(arg(0).asString());
        subject = field ? *field : Value();
      }
      bool pass = test.name.empty() ? subject.truthy()
                                    : applyTest(test, subject, testArgs).truthy();
      if (failed())
        return Value();
      if (pass == (name == "select" || name == "selectattr"))
        kept.push_back(item);
    }
    return Value::list(std::move(kept));
  }
  if (name == "map") {
    Value attribute = kwarg(e, "attribute");
    std::optional<List> items = iterate(e, v);
    if (!items)
      return Value();
    List mapped;
    for (const Value &item : *items) {
      if (attribute.kind() == K::String) {
        Value *field = item.find(attribute.asString());
        mapped.push_back(field ? *field : kwarg(e, "default"));
      } else if (arg(0).kind() == K::String) {
        Expr filter(Expr::Kind::Filter, e.line);
        filter.name = arg(0).asString();
        mapped.push_back(applyFilter(filter, item, {}));
      } else {
        return fail(e.line, "map needs a filter name or attribute=");
      }
      if (failed())
        return Value();
    }
    return Value::list(std::move(mapped));
  }
  return fail(e.line,
              "filter '" + name + "' is not one tlmc's template renderer knows");
}

Value Interpreter::applyTest(const Expr &e, const Value &v,
                             const std::vector<Value> &args) {
  using K = Value::Kind;
  const std::string &name = e.name;
  auto is = [](bool b) { return Value::boolean(b); };
  auto arg = [&](size_t n) { return n < args.size() ? args[n] : Value(); };
  if (name == "defined")
    return is(!v.isUndefined());
  if (name == "undefined")
    return is(v.isUndefined());
  if (name == "none")
    return is(v.kind() == K::None);
  if (name == "string")
    return is(v.kind() == K::String);
  if (name == "number")
    return is(v.isNumber());
  if (name == "integer")
    return is(v.kind() == K::Int);
  if (name == "float")
    return is(v.kind() == K::Float);
  if (name == "boolean")
    return is(v.kind() == K::Bool);
  if (name == "true" || name == "false")
    return is(v.kind() == K::Bool && v.asBool() == (name == "true"));
  if (name == "iterable")
    return is(v.kind() == K::String || v.kind() == K::List ||
              v.kind() == K::Dict);
  if (name == "sequence")
    return is(v.kind() == K::String || v.kind() == K::List ||
              v.kind() == K::Dict);
  if (name == "mapping")
    return is(v.kind() == K::Dict);
  if (name == "callable")
    return is(false);
  if ((name == "odd" || name == "even") && v.kind() == K::Int)
    return is((v.asInt() % 2 != 0) == (name == "odd"));
  if (name == "divisibleby" && v.kind() == K::Int && arg(0).kind() == K::Int &&
      arg(0).asInt() != 0)
    return is(v.asInt() % arg(0).asInt() == 0);
  if (name == "eq" || name == "equalto" || name == "==" || name == "sameas")
    return is(v.equals(arg(0)) &&
              (name != "sameas" || v.kind() == arg(0).kind()));
  if (name == "ne" || name == "!=")
    return is(!v.equals(arg(0)));
  if (name == "in") {
    Value list = arg(0);
    if (list.kind() == K::List)
      return is(llvm::any_of(list.asList(),
                             [&](const Value &x) { return x.equals(v); }));
    if (list.kind() == K::String && v.kind() == K::String)
      return is(list.asString().find(v.asString()) != std::string::npos);
    if (list.kind() == K::Dict && v.kind() == K::String)
      return is(list.find(v.asString()) != nullptr);
    return fail(e.line, "'in' test of a " + std::string(list.typeName()));
  }
  if ((name == "lower" || name == "upper") && v.kind() == K::String)
    return is(changeCase(v.asString(), name == "lower" ? 0 : 1) == v.asString());
  return fail(e.line, "test '" + name + "' is not one tlmc's template renderer "
                                        "knows (or not for a " +
                          v.typeName() + ")");
}

} // namespace

llvm::Expected<std::string> Template::render(const Dict &variables) const {
  return Interpreter(variables).run(*program);
}
