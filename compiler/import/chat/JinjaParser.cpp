//===- JinjaParser.cpp - chat template text to a syntax tree ----------------===//
//
// Lexes and parses the Jinja subset of Jinja.h. Whitespace is handled as
// Hugging Face renders chat templates (and @huggingface/jinja, the reference
// the tests compare with): one trailing newline dropped, lstrip_blocks
// (spaces and tabs before a block tag or comment at the start of a line),
// trim_blocks (the newline right after a block tag or comment), and the `-`
// markers that strip all whitespace on their side. Operator precedence is
// Jinja's: or < and < not < comparisons < + - < ~ < * / // % < ** < unary <
// postfix (. [] ()) and filters/tests.
//
//===----------------------------------------------------------------------===//

#include "compiler/import/chat/Jinja.h"
#include "compiler/import/chat/JinjaAst.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"

#include <cctype>

using namespace tlmc::jinja;

namespace {

struct Token {
  enum Kind {
    Text,
    BlockBegin,
    BlockEnd,
    VarBegin,
    VarEnd,
    Name,
    String,
    Int,
    Float,
    Op,
    Eof
  };
  Kind kind;
  std::string text;
  unsigned line;
  int64_t integer = 0;
  double real = 0;
};

bool isSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
         c == '\v';
}

// trim_blocks and lstrip_blocks, applied to the source as the reference
// does: spaces and tabs from a line's start to a block tag or comment, and
// the newline right after one.
std::string preprocess(llvm::StringRef source) {
  if (source.ends_with("\n"))
    source = source.drop_back();
  std::string out;
  out.reserve(source.size());
  size_t lineStart = 0;
  for (size_t i = 0; i < source.size(); ++i) {
    char c = source[i];
    if (c == '\n') {
      out += c;
      lineStart = out.size();
      continue;
    }
    if (c == '{' && i + 1 < source.size() &&
        (source[i + 1] == '%' || source[i + 1] == '#')) {
      // lstrip_blocks: only blanks since the line began.
      size_t j = out.size();
      while (j > lineStart && (out[j - 1] == ' ' || out[j - 1] == '\t'))
        --j;
      if (j == lineStart)
        out.resize(j);
    }
    out += c;
    if ((c == '%' || c == '#') && i + 2 < source.size() &&
        source[i + 1] == '}' && source[i + 2] == '\n') {
      out += '}';
      i += 2; // trim_blocks: drop the newline
      lineStart = out.size();
    }
  }
  return out;
}

class Lexer {
public:
  explicit Lexer(llvm::StringRef source) : src(preprocess(source)) {}

  llvm::Expected<std::vector<Token>> run();

private:
  llvm::Error fail(const llvm::Twine &message) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "line " + llvm::Twine(line) + ": " +
                                       message);
  }
  void advance(size_t count) {
    for (size_t i = 0; i < count && pos < src.size(); ++i, ++pos)
      line += src[pos] == '\n';
  }
  llvm::Error lexTag(char closer);
  void push(Token::Kind kind, std::string text) {
    tokens.push_back({kind, std::move(text), line});
  }

  std::string src;
  size_t pos = 0;
  unsigned line = 1;
  std::vector<Token> tokens;
};

llvm::Expected<std::vector<Token>> Lexer::run() {
  bool stripLeading = false;
  while (pos < src.size()) {
    size_t open = src.find('{', pos);
    while (open != std::string::npos && open + 1 < src.size() &&
           src[open + 1] != '{' && src[open + 1] != '%' && src[open + 1] != '#')
      open = src.find('{', open + 1);
    if (open + 1 >= src.size())
      open = std::string::npos;
    size_t textEnd = open == std::string::npos ? src.size() : open;
    llvm::StringRef text(src.data() + pos, textEnd - pos);
    unsigned textLine = line;
    if (stripLeading)
      text = text.ltrim(" \t\n\r\f\v");
    bool stripTrailing = open != std::string::npos &&
                         open + 2 < src.size() && src[open + 2] == '-';
    if (stripTrailing)
      text = text.rtrim(" \t\n\r\f\v");
    if (!text.empty())
      tokens.push_back({Token::Text, text.str(), textLine});
    advance(textEnd - pos);
    if (open == std::string::npos)
      break;
    char kind = src[open + 1];
    advance(2 + stripTrailing);
    if (kind == '#') {
      size_t close = src.find("#}", pos);
      if (close == std::string::npos)
        return fail("comment '{#' is never closed with '#}'");
      stripLeading = close > pos && src[close - 1] == '-';
      advance(close + 2 - pos);
      continue;
    }
    tokens.push_back({kind == '%' ? Token::BlockBegin : Token::VarBegin,
                      "", line});
    if (llvm::Error err = lexTag(kind == '%' ? '%' : '}'))
      return std::move(err);
    stripLeading = tokens.back().text == "-";
  }
  tokens.push_back({Token::Eof, "", line});
  return std::move(tokens);
}

// Tokens up to and including the tag's end ("%}" or "}}"); the end token's
// text is "-" when it strips the whitespace after it.
llvm::Error Lexer::lexTag(char closer) {
  const char *ops[] = {"//", "**", "==", "!=", "<=", ">=", "+", "-", "*",
                       "/",  "%",  "~",  "|",  ".",  ",",  ":", "(", ")",
                       "[",  "]",  "{",  "}",  "<",  ">",  "="};
  while (true) {
    while (pos < src.size() && isSpace(src[pos]))
      advance(1);
    if (pos >= src.size())
      return fail(closer == '%' ? "block tag '{%' is never closed with '%}'"
                                : "'{{' is never closed with '}}'");
    llvm::StringRef rest(src.data() + pos, src.size() - pos);
    for (bool strip : {true, false}) {
      std::string end = std::string(strip ? "-" : "") + closer + "}";
      if (rest.starts_with(end)) {
        tokens.push_back({closer == '%' ? Token::BlockEnd : Token::VarEnd,
                          strip ? "-" : "", line});
        advance(end.size());
        return llvm::Error::success();
      }
    }
    char c = rest[0];
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      size_t n = 1;
      while (n < rest.size() &&
             (std::isalnum(static_cast<unsigned char>(rest[n])) || rest[n] == '_'))
        ++n;
      push(Token::Name, rest.take_front(n).str());
      advance(n);
      continue;
    }
    if (std::isdigit(static_cast<unsigned char>(c))) {
      size_t n = 0;
      while (n < rest.size() && std::isdigit(static_cast<unsigned char>(rest[n])))
        ++n;
      bool isFloat = n + 1 < rest.size() && rest[n] == '.' &&
                     std::isdigit(static_cast<unsigned char>(rest[n + 1]));
      if (isFloat) {
        ++n;
        while (n < rest.size() && std::isdigit(static_cast<unsigned char>(rest[n])))
          ++n;
      }
      Token t{isFloat ? Token::Float : Token::Int, rest.take_front(n).str(),
              line};
      if (isFloat)
        t.real = std::strtod(t.text.c_str(), nullptr);
      else if (rest.take_front(n).getAsInteger(10, t.integer))
        return fail("integer '" + t.text + "' is out of range");
      tokens.push_back(std::move(t));
      advance(n);
      continue;
    }
    if (c == '\'' || c == '"') {
      std::string value;
      size_t n = 1;
      for (; n < rest.size() && rest[n] != c; ++n) {
        if (rest[n] != '\\' || n + 1 >= rest.size()) {
          value += rest[n];
          continue;
        }
        char e = rest[++n];
        switch (e) {
        case 'n':
          value += '\n';
          break;
        case 't':
          value += '\t';
          break;
        case 'r':
          value += '\r';
          break;
        case '\\':
        case '\'':
        case '"':
          value += e;
          break;
        default:
          value += '\\';
          value += e;
        }
      }
      if (n >= rest.size())
        return fail("string literal is never closed");
      push(Token::String, std::move(value));
      advance(n + 1);
      continue;
    }
    bool matched = false;
    for (const char *op : ops)
      if (rest.starts_with(op)) {
        push(Token::Op, op);
        advance(llvm::StringRef(op).size());
        matched = true;
        break;
      }
    if (!matched)
      return fail(llvm::formatv("unexpected character '{0}'", c).str());
  }
}

class Parser {
public:
  explicit Parser(std::vector<Token> tokens) : toks(std::move(tokens)) {}

  llvm::Expected<Body> parseProgram() {
    std::string endTag;
    Body body = parseBody({}, endTag);
    if (!error.empty())
      return llvm::createStringError(llvm::inconvertibleErrorCode(), error);
    if (peek().kind != Token::Eof)
      return llvm::createStringError(
          llvm::inconvertibleErrorCode(),
          "line " + llvm::Twine(peek().line) + ": unexpected '{% " + endTag +
              " %}'");
    return std::move(body);
  }

private:
  const Token &peek(size_t ahead = 0) const {
    return toks[std::min(p + ahead, toks.size() - 1)];
  }
  const Token &next() { return toks[std::min(p++, toks.size() - 1)]; }
  bool isOp(llvm::StringRef op, size_t ahead = 0) const {
    return peek(ahead).kind == Token::Op && peek(ahead).text == op;
  }
  bool isName(llvm::StringRef name, size_t ahead = 0) const {
    return peek(ahead).kind == Token::Name && peek(ahead).text == name;
  }
  bool acceptOp(llvm::StringRef op) {
    if (!isOp(op))
      return false;
    ++p;
    return true;
  }
  bool acceptName(llvm::StringRef name) {
    if (!isName(name))
      return false;
    ++p;
    return true;
  }
  std::nullptr_t fail(const llvm::Twine &message) {
    if (error.empty())
      error = ("line " + llvm::Twine(peek().line) + ": " + message).str();
    return nullptr;
  }
  std::string describe(const Token &t) const {
    switch (t.kind) {
    case Token::Eof:
      return "the end of the template";
    case Token::BlockEnd:
      return "'%}'";
    case Token::VarEnd:
      return "'}}'";
    case Token::Text:
      return "text";
    default:
      return "'" + t.text + "'";
    }
  }
  bool expectOp(llvm::StringRef op) {
    if (acceptOp(op))
      return true;
    fail("expected '" + op + "', found " + describe(peek()));
    return false;
  }
  bool expectBlockEnd() {
    if (peek().kind == Token::BlockEnd) {
      ++p;
      return true;
    }
    fail("expected '%}', found " + describe(peek()));
    return false;
  }

  // A hostile template must not exhaust the stack: nesting (of blocks and
  // of expressions) deeper than any real template is refused.
  static constexpr unsigned kMaxDepth = 200;
  struct Nest {
    Parser &parser;
    explicit Nest(Parser &p) : parser(p) { ++parser.depth; }
    ~Nest() { --parser.depth; }
    bool tooDeep() {
      if (parser.depth <= kMaxDepth)
        return false;
      parser.fail("nested more than " + llvm::Twine(kMaxDepth) + " deep");
      return true;
    }
  };

  Body parseBody(std::initializer_list<llvm::StringRef> terminators,
                 std::string &endTag);
  StmtPtr parseStatement();
  StmtPtr parseIf(unsigned line);
  StmtPtr parseFor(unsigned line);
  StmtPtr parseSet(unsigned line);

  ExprPtr parseExpr(bool allowTernary = true);
  ExprPtr parseOr();
  ExprPtr parseAnd();
  ExprPtr parseNot();
  ExprPtr parseCompare();
  ExprPtr parseAdd();
  ExprPtr parseConcat();
  ExprPtr parseMul();
  ExprPtr parsePow();
  ExprPtr parseUnary(bool withFilters);
  ExprPtr parsePrimary();
  ExprPtr parsePostfix(ExprPtr e);
  ExprPtr parseFiltersAndTests(ExprPtr e);
  bool parseArgs(Expr &call);
  ExprPtr binary(llvm::StringRef op, ExprPtr a, ExprPtr b, unsigned line) {
    if (!a || !b)
      return nullptr;
    auto e = std::make_unique<Expr>(Expr::Kind::Binary, line);
    e->name = op.str();
    e->a = std::move(a);
    e->b = std::move(b);
    return e;
  }

  std::vector<Token> toks;
  size_t p = 0;
  unsigned depth = 0;
  std::string error;
};

Body Parser::parseBody(std::initializer_list<llvm::StringRef> terminators,
                       std::string &endTag) {
  Body body;
  while (error.empty()) {
    const Token &t = peek();
    if (t.kind == Token::Eof)
      return body;
    if (t.kind == Token::Text) {
      auto s = std::make_unique<Stmt>(Stmt::Kind::Text, t.line);
      s->text = t.text;
      ++p;
      body.push_back(std::move(s));
      continue;
    }
    if (t.kind == Token::VarBegin) {
      auto s = std::make_unique<Stmt>(Stmt::Kind::Output, t.line);
      ++p;
      s->expr = parseExpr();
      if (!s->expr)
        return body;
      if (peek().kind != Token::VarEnd) {
        fail("expected '}}', found " + describe(peek()));
        return body;
      }
      ++p;
      body.push_back(std::move(s));
      continue;
    }
    if (t.kind != Token::BlockBegin) {
      fail("unexpected " + describe(t));
      return body;
    }
    const Token &tag = peek(1);
    if (tag.kind == Token::Name &&
        llvm::is_contained(terminators, llvm::StringRef(tag.text))) {
      endTag = tag.text;
      p += 2;
      return body;
    }
    if (tag.kind == Token::Name &&
        llvm::is_contained({"endif", "elif", "else", "endfor", "endset"},
                           llvm::StringRef(tag.text))) {
      ++p;
      fail("unexpected '{% " + tag.text + " %}'");
      return body;
    }
    ++p;
    if (StmtPtr s = parseStatement())
      body.push_back(std::move(s));
  }
  return body;
}

StmtPtr Parser::parseStatement() {
  Nest nest(*this);
  if (nest.tooDeep())
    return nullptr;
  const Token &tag = next();
  unsigned line = tag.line;
  if (tag.kind != Token::Name)
    return fail("expected a tag name after '{%', found " + describe(tag));
  if (tag.text == "if")
    return parseIf(line);
  if (tag.text == "for")
    return parseFor(line);
  if (tag.text == "set")
    return parseSet(line);
  if (tag.text == "break" || tag.text == "continue") {
    auto s = std::make_unique<Stmt>(
        tag.text == "break" ? Stmt::Kind::Break : Stmt::Kind::Continue, line);
    return expectBlockEnd() ? std::move(s) : nullptr;
  }
  if (tag.text == "generation" || tag.text == "endgeneration") {
    // transformers' marker for assistant text; it renders nothing.
    if (!expectBlockEnd())
      return nullptr;
    return std::make_unique<Stmt>(Stmt::Kind::Text, line);
  }
  return fail("'{% " + tag.text + " %}' is not supported");
}

StmtPtr Parser::parseIf(unsigned line) {
  auto s = std::make_unique<Stmt>(Stmt::Kind::If, line);
  ExprPtr cond = parseExpr();
  if (!cond || !expectBlockEnd())
    return nullptr;
  while (true) {
    std::string endTag;
    Body body = parseBody({"elif", "else", "endif"}, endTag);
    if (!error.empty())
      return nullptr;
    if (endTag.empty())
      return fail("'{% if %}' from line " + llvm::Twine(line) +
                  " is never closed with '{% endif %}'");
    s->branches.emplace_back(std::move(cond), std::move(body));
    if (endTag == "endif")
      return expectBlockEnd() ? std::move(s) : nullptr;
    if (endTag == "elif") {
      cond = parseExpr();
      if (!cond)
        return nullptr;
    } else {
      cond = nullptr; // else
    }
    if (!expectBlockEnd())
      return nullptr;
    if (endTag == "else") {
      Body elseBody = parseBody({"endif"}, endTag);
      if (!error.empty())
        return nullptr;
      if (endTag != "endif")
        return fail("'{% if %}' from line " + llvm::Twine(line) +
                    " is never closed with '{% endif %}'");
      s->branches.emplace_back(nullptr, std::move(elseBody));
      return expectBlockEnd() ? std::move(s) : nullptr;
    }
  }
}

StmtPtr Parser::parseFor(unsigned line) {
  auto s = std::make_unique<Stmt>(Stmt::Kind::For, line);
  do {
    if (peek().kind != Token::Name)
      return fail("expected a loop variable, found " + describe(peek()));
    s->targets.push_back(next().text);
  } while (acceptOp(","));
  if (!acceptName("in"))
    return fail("expected 'in', found " + describe(peek()));
  s->expr = parseExpr(/*allowTernary=*/false);
  if (!s->expr)
    return nullptr;
  if (acceptName("if") && !(s->filter = parseExpr(/*allowTernary=*/false)))
    return nullptr;
  if (isName("recursive"))
    return fail("recursive loops are not supported");
  if (!expectBlockEnd())
    return nullptr;
  std::string endTag;
  s->body = parseBody({"else", "endfor"}, endTag);
  if (!error.empty())
    return nullptr;
  if (endTag == "else") {
    if (!expectBlockEnd())
      return nullptr;
    s->elseBody = parseBody({"endfor"}, endTag);
    if (!error.empty())
      return nullptr;
  }
  if (endTag != "endfor")
    return fail("'{% for %}' from line " + llvm::Twine(line) +
                " is never closed with '{% endfor %}'");
  return expectBlockEnd() ? std::move(s) : nullptr;
}

StmtPtr Parser::parseSet(unsigned line) {
  auto s = std::make_unique<Stmt>(Stmt::Kind::Set, line);
  if (peek().kind != Token::Name)
    return fail("expected a name after 'set', found " + describe(peek()));
  s->targets.push_back(next().text);
  if (acceptOp(".")) {
    if (peek().kind != Token::Name)
      return fail("expected an attribute name, found " + describe(peek()));
    s->targets.push_back(next().text);
  }
  if (isOp(","))
    return fail("'set' with several targets is not supported");
  if (peek().kind == Token::BlockEnd && s->targets.size() == 1) {
    ++p;
    s->kind = Stmt::Kind::SetBlock;
    std::string endTag;
    s->body = parseBody({"endset"}, endTag);
    if (!error.empty())
      return nullptr;
    if (endTag != "endset")
      return fail("'{% set %}' from line " + llvm::Twine(line) +
                  " is never closed with '{% endset %}'");
    return expectBlockEnd() ? std::move(s) : nullptr;
  }
  if (!expectOp("="))
    return nullptr;
  s->expr = parseExpr();
  if (!s->expr)
    return nullptr;
  if (isOp(",")) {
    // `set x = a, b` makes a tuple.
    auto list = std::make_unique<Expr>(Expr::Kind::List, line);
    list->negated = true;
    list->args.push_back(std::move(s->expr));
    while (acceptOp(","))
      if (ExprPtr item = parseExpr())
        list->args.push_back(std::move(item));
      else
        return nullptr;
    s->expr = std::move(list);
  }
  return expectBlockEnd() ? std::move(s) : nullptr;
}

ExprPtr Parser::parseExpr(bool allowTernary) {
  Nest nest(*this);
  if (nest.tooDeep())
    return nullptr;
  unsigned line = peek().line;
  ExprPtr e = parseOr();
  if (!e || !allowTernary || !acceptName("if"))
    return e;
  auto t = std::make_unique<Expr>(Expr::Kind::Ternary, line);
  t->a = std::move(e);
  t->b = parseOr();
  if (!t->b)
    return nullptr;
  if (acceptName("else") && !(t->c = parseExpr()))
    return nullptr;
  return t;
}

ExprPtr Parser::parseOr() {
  ExprPtr e = parseAnd();
  while (e && isName("or")) {
    unsigned line = next().line;
    e = binary("or", std::move(e), parseAnd(), line);
  }
  return e;
}

ExprPtr Parser::parseAnd() {
  ExprPtr e = parseNot();
  while (e && isName("and")) {
    unsigned line = next().line;
    e = binary("and", std::move(e), parseNot(), line);
  }
  return e;
}

ExprPtr Parser::parseNot() {
  if (!isName("not"))
    return parseCompare();
  Nest nest(*this);
  if (nest.tooDeep())
    return nullptr;
  unsigned line = next().line;
  ExprPtr operand = parseNot();
  if (!operand)
    return nullptr;
  auto e = std::make_unique<Expr>(Expr::Kind::Unary, line);
  e->name = "not";
  e->a = std::move(operand);
  return e;
}

ExprPtr Parser::parseCompare() {
  ExprPtr e = parseAdd();
  while (e) {
    unsigned line = peek().line;
    std::string op;
    for (const char *candidate : {"==", "!=", "<=", ">=", "<", ">"})
      if (isOp(candidate))
        op = candidate;
    if (!op.empty()) {
      ++p;
    } else if (isName("in")) {
      ++p;
      op = "in";
    } else if (isName("not") && isName("in", 1)) {
      p += 2;
      op = "not in";
    } else {
      return e;
    }
    e = binary(op, std::move(e), parseAdd(), line);
  }
  return e;
}

ExprPtr Parser::parseAdd() {
  ExprPtr e = parseConcat();
  while (e && (isOp("+") || isOp("-"))) {
    const Token &op = next();
    e = binary(op.text, std::move(e), parseConcat(), op.line);
  }
  return e;
}

ExprPtr Parser::parseConcat() {
  ExprPtr e = parseMul();
  while (e && isOp("~")) {
    unsigned line = next().line;
    e = binary("~", std::move(e), parseMul(), line);
  }
  return e;
}

ExprPtr Parser::parseMul() {
  ExprPtr e = parsePow();
  while (e && (isOp("*") || isOp("/") || isOp("//") || isOp("%"))) {
    const Token &op = next();
    e = binary(op.text, std::move(e), parsePow(), op.line);
  }
  return e;
}

ExprPtr Parser::parsePow() {
  ExprPtr e = parseUnary(/*withFilters=*/true);
  while (e && isOp("**")) {
    unsigned line = next().line;
    e = binary("**", std::move(e), parseUnary(true), line);
  }
  return e;
}

ExprPtr Parser::parseUnary(bool withFilters) {
  Nest nest(*this);
  if (nest.tooDeep())
    return nullptr;
  ExprPtr e;
  if (isOp("-") || isOp("+")) {
    const Token &op = next();
    ExprPtr operand = parseUnary(/*withFilters=*/false);
    if (!operand)
      return nullptr;
    e = std::make_unique<Expr>(Expr::Kind::Unary, op.line);
    e->name = op.text;
    e->a = std::move(operand);
  } else {
    e = parsePrimary();
  }
  e = parsePostfix(std::move(e));
  return withFilters ? parseFiltersAndTests(std::move(e)) : std::move(e);
}

ExprPtr Parser::parsePrimary() {
  const Token &t = peek();
  unsigned line = t.line;
  auto literal = [&](Value v) {
    auto e = std::make_unique<Expr>(Expr::Kind::Literal, line);
    e->literal = std::move(v);
    return e;
  };
  switch (t.kind) {
  case Token::Name: {
    ++p;
    if (t.text == "true" || t.text == "True")
      return literal(Value::boolean(true));
    if (t.text == "false" || t.text == "False")
      return literal(Value::boolean(false));
    if (t.text == "none" || t.text == "None")
      return literal(Value::none());
    auto e = std::make_unique<Expr>(Expr::Kind::Name, line);
    e->name = t.text;
    return e;
  }
  case Token::String: {
    std::string s;
    while (peek().kind == Token::String) // adjacent literals join
      s += next().text;
    return literal(Value::string(std::move(s)));
  }
  case Token::Int:
    ++p;
    return literal(Value::integer(t.integer));
  case Token::Float:
    ++p;
    return literal(Value::real(t.real));
  case Token::Op:
    if (t.text == "(") {
      ++p;
      auto list = std::make_unique<Expr>(Expr::Kind::List, line);
      list->negated = true; // a tuple
      if (acceptOp(")"))
        return list;
      ExprPtr first = parseExpr();
      if (!first)
        return nullptr;
      if (acceptOp(")"))
        return first;
      list->args.push_back(std::move(first));
      while (acceptOp(",")) {
        if (isOp(")"))
          break;
        if (ExprPtr item = parseExpr())
          list->args.push_back(std::move(item));
        else
          return nullptr;
      }
      return expectOp(")") ? std::move(list) : nullptr;
    }
    if (t.text == "[" || t.text == "{") {
      bool isDict = t.text == "{";
      ++p;
      auto e = std::make_unique<Expr>(isDict ? Expr::Kind::Dict
                                             : Expr::Kind::List,
                                      line);
      const char *close = isDict ? "}" : "]";
      while (!isOp(close)) {
        ExprPtr item = parseExpr();
        if (!item)
          return nullptr;
        e->args.push_back(std::move(item));
        if (isDict) {
          if (!expectOp(":"))
            return nullptr;
          if (ExprPtr value = parseExpr())
            e->args.push_back(std::move(value));
          else
            return nullptr;
        }
        if (!acceptOp(","))
          break;
      }
      return expectOp(close) ? std::move(e) : nullptr;
    }
    break;
  default:
    break;
  }
  return fail("expected an expression, found " + describe(t));
}

ExprPtr Parser::parsePostfix(ExprPtr e) {
  while (e) {
    unsigned line = peek().line;
    if (acceptOp(".")) {
      const Token &name = next();
      if (name.kind != Token::Name && name.kind != Token::Int)
        return fail("expected an attribute name after '.', found " +
                    describe(name));
      auto attr = std::make_unique<Expr>(Expr::Kind::Attribute, line);
      attr->a = std::move(e);
      attr->name = name.text;
      e = std::move(attr);
    } else if (acceptOp("[")) {
      ExprPtr index;
      if (!isOp(":") && !(index = parseExpr()))
        return nullptr;
      if (!isOp(":")) {
        if (!expectOp("]"))
          return nullptr;
        auto sub = std::make_unique<Expr>(Expr::Kind::Subscript, line);
        sub->a = std::move(e);
        sub->b = std::move(index);
        e = std::move(sub);
        continue;
      }
      auto slice = std::make_unique<Expr>(Expr::Kind::Slice, line);
      slice->a = std::move(e);
      slice->b = std::move(index);
      ++p; // ':'
      if (!isOp(":") && !isOp("]") && !(slice->c = parseExpr()))
        return nullptr;
      if (acceptOp(":") && !isOp("]") && !(slice->d = parseExpr()))
        return nullptr;
      if (!expectOp("]"))
        return nullptr;
      e = std::move(slice);
    } else if (isOp("(")) {
      auto call = std::make_unique<Expr>(Expr::Kind::Call, line);
      call->a = std::move(e);
      if (!parseArgs(*call))
        return nullptr;
      e = std::move(call);
    } else {
      return e;
    }
  }
  return e;
}

// `(positional, ..., name=value, ...)`
bool Parser::parseArgs(Expr &call) {
  if (!expectOp("("))
    return false;
  while (!isOp(")")) {
    if (peek().kind == Token::Name && isOp("=", 1)) {
      std::string name = next().text;
      ++p;
      ExprPtr value = parseExpr();
      if (!value)
        return false;
      call.kwargs.emplace_back(std::move(name), std::move(value));
    } else if (ExprPtr arg = parseExpr()) {
      call.args.push_back(std::move(arg));
    } else {
      return false;
    }
    if (!acceptOp(","))
      break;
  }
  return expectOp(")");
}

ExprPtr Parser::parseFiltersAndTests(ExprPtr e) {
  while (e) {
    unsigned line = peek().line;
    if (acceptOp("|")) {
      if (peek().kind != Token::Name)
        return fail("expected a filter name after '|', found " +
                    describe(peek()));
      auto filter = std::make_unique<Expr>(Expr::Kind::Filter, line);
      filter->name = next().text;
      filter->a = std::move(e);
      if (isOp("(") && !parseArgs(*filter))
        return nullptr;
      e = std::move(filter);
    } else if (acceptName("is")) {
      auto test = std::make_unique<Expr>(Expr::Kind::Test, line);
      test->negated = acceptName("not");
      if (peek().kind != Token::Name)
        return fail("expected a test name after 'is', found " +
                    describe(peek()));
      test->name = next().text;
      test->a = std::move(e);
      if (isOp("(")) {
        if (!parseArgs(*test))
          return nullptr;
      } else {
        // One argument without parentheses: `is sameas false`.
        const Token &t = peek();
        bool argument =
            t.kind == Token::String || t.kind == Token::Int ||
            t.kind == Token::Float ||
            (t.kind == Token::Op && (t.text == "[" || t.text == "{")) ||
            (t.kind == Token::Name &&
             !llvm::is_contained({"and", "or", "else", "if", "in", "is",
                                  "not"},
                                 llvm::StringRef(t.text)));
        if (argument) {
          ExprPtr arg = parsePostfix(parsePrimary());
          if (!arg)
            return nullptr;
          test->args.push_back(std::move(arg));
        }
      }
      e = std::move(test);
    } else {
      return e;
    }
  }
  return e;
}

} // namespace

llvm::Expected<Template> Template::parse(llvm::StringRef source) {
  auto tokens = Lexer(source).run();
  if (!tokens)
    return tokens.takeError();
  auto body = Parser(std::move(*tokens)).parseProgram();
  if (!body)
    return body.takeError();
  Template t;
  t.program = std::make_shared<const Body>(std::move(*body));
  return t;
}
