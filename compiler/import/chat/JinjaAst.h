//===- JinjaAst.h - a parsed chat template ------------------------*- C++ -*-===//
//
// The syntax tree JinjaParser builds and JinjaInterpreter walks: expressions
// and statements of the Jinja subset chat templates are written in. One node
// type each, with a kind, keeps the tree plain data.
//
//===----------------------------------------------------------------------===//

#ifndef TLMC_COMPILER_IMPORT_CHAT_JINJAAST_H
#define TLMC_COMPILER_IMPORT_CHAT_JINJAAST_H

#include "compiler/import/chat/JinjaValue.h"

#include <memory>
#include <string>
#include <vector>

namespace tlmc::jinja {

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
  enum class Kind {
    Literal,   ///< `literal`
    Name,      ///< a variable: `name`
    Attribute, ///< `a.name`
    Subscript, ///< `a[b]`
    Slice,     ///< `a[b:c:d]`; absent bounds are null
    Call,      ///< `a(args, kwargs)`
    Filter,    ///< `a | name(args, kwargs)`
    Test,      ///< `a is [not] name(args)`; `negated` for `is not`
    Unary,     ///< `name a`: "not", "-", "+"
    Binary,    ///< `a name b`: arithmetic, comparison, "and", "or", "in"
    Ternary,   ///< `a if b else c` (c may be null)
    List,      ///< `[args]`, or a tuple `(args)` when `negated` is set
    Dict,      ///< `{args[0]: args[1], ...}`
  };
  Kind kind;
  unsigned line;
  Value literal;
  std::string name;
  ExprPtr a, b, c, d;
  std::vector<ExprPtr> args;
  std::vector<std::pair<std::string, ExprPtr>> kwargs;
  /// Test: `is not`. List: a tuple.
  bool negated = false;

  Expr(Kind kind, unsigned line) : kind(kind), line(line) {}
};

struct Stmt;
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

struct Stmt {
  enum class Kind {
    Text,     ///< literal text
    Output,   ///< `{{ expr }}`
    If,       ///< branches: (condition, body)...; a null condition is else
    For,      ///< `for targets in expr [if filter]` body [else elseBody]
    Set,      ///< `set targets = expr`: one name, or namespace and attribute
    SetBlock, ///< `set name` body `endset`
    Break,
    Continue,
  };
  Kind kind;
  unsigned line;
  std::string text;
  ExprPtr expr, filter;
  std::vector<std::string> targets;
  std::vector<std::pair<ExprPtr, Body>> branches;
  Body body, elseBody;

  Stmt(Kind kind, unsigned line) : kind(kind), line(line) {}
};

} // namespace tlmc::jinja

#endif // TLMC_COMPILER_IMPORT_CHAT_JINJAAST_H
