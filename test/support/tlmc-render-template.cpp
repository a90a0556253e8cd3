//===- tlmc-render-template.cpp - tlmc's Jinja renderer, for tests ---------===//
//
//   tlmc-render-template < cases.json
//
// Reads a JSON array of {"template": TEXT, "context": {...}} and writes a
// JSON array of {"text": RENDERED} or {"error": MESSAGE}, one per case, from
// the renderer `tlmc compile` runs chat templates with
// (compiler/import/chat/Jinja.h). test/e2e/jinja.py compares it with
// Python's Jinja2.
//
//===----------------------------------------------------------------------===//

#include "compiler/import/chat/Jinja.h"

#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

using namespace tlmc;

static jinja::Value fromJson(const llvm::json::Value &v) {
  using jinja::Value;
  switch (v.kind()) {
  case llvm::json::Value::Null:
    return Value::none();
  case llvm::json::Value::Boolean:
    return Value::boolean(*v.getAsBoolean());
  case llvm::json::Value::Number:
    if (std::optional<int64_t> i = v.getAsInteger())
      return Value::integer(*i);
    return Value::real(*v.getAsNumber());
  case llvm::json::Value::String:
    return Value::string(v.getAsString()->str());
  case llvm::json::Value::Array: {
    jinja::List items;
    for (const llvm::json::Value &item : *v.getAsArray())
      items.push_back(fromJson(item));
    return Value::list(std::move(items));
  }
  case llvm::json::Value::Object: {
    // llvm::json::Object does not keep the order; sort the keys so that
    // tests do not depend on it.
    std::vector<std::string> keys;
    for (const auto &entry : *v.getAsObject())
      keys.push_back(entry.first.str());
    std::sort(keys.begin(), keys.end());
    jinja::Dict d;
    for (const std::string &key : keys)
      d.emplace_back(key, fromJson(*v.getAsObject()->get(key)));
    return Value::dict(std::move(d));
  }
  }
  return Value();
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  auto input = llvm::MemoryBuffer::getSTDIN();
  if (!input) {
    llvm::errs() << "error: cannot read standard input\n";
    return 1;
  }
  auto cases = llvm::json::parse((*input)->getBuffer());
  if (!cases || !cases->getAsArray()) {
    llvm::errs() << "error: expected a JSON array of cases\n";
    return 1;
  }
  llvm::json::Array results;
  for (const llvm::json::Value &c : *cases->getAsArray()) {
    const llvm::json::Object *o = c.getAsObject();
    std::optional<llvm::StringRef> source =
        o ? o->getString("template") : std::nullopt;
    if (!source) {
      llvm::errs() << "error: a case without a \"template\"\n";
      return 1;
    }
    jinja::Dict variables;
    if (const llvm::json::Value *context = o->get("context"))
      if (jinja::Value v = fromJson(*context);
          v.kind() == jinja::Value::Kind::Dict)
        variables = v.asDict();
    auto parsed = jinja::Template::parse(*source);
    llvm::Expected<std::string> text =
        parsed ? parsed->render(variables)
               : llvm::Expected<std::string>(parsed.takeError());
    if (text)
      results.push_back(llvm::json::Object{{"text", *text}});
    else
      results.push_back(
          llvm::json::Object{{"error", llvm::toString(text.takeError())}});
  }
  llvm::outs() << llvm::json::Value(std::move(results)) << "\n";
  return 0;
}
