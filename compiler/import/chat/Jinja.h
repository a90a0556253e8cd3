//===- Jinja.h - chat templates, rendered at compile time ---------*- C++ -*-===//
//
// Models ship their chat format as a Jinja template (GGUF
// `tokenizer.chat_template`, HF `tokenizer_config.json`). A device carries no
// template engine: the compiler renders the template (ChatTemplate.h) and the
// container stores the text between messages. This is the subset of Jinja
// chat templates are written in, with the whitespace handling Hugging Face
// renders them with (trim_blocks, lstrip_blocks): if/elif/else, for with
// `loop` and else, set (also into a namespace and as a block), break and
// continue; Python's operators, string/list/dict methods, and the filters
// and tests templates use. Anything else fails with its line, never
// renders differently.
//
//===----------------------------------------------------------------------===//

#ifndef TLMC_COMPILER_IMPORT_CHAT_JINJA_H
#define TLMC_COMPILER_IMPORT_CHAT_JINJA_H

#include "compiler/import/chat/JinjaValue.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <memory>
#include <string>

namespace tlmc::jinja {

struct Stmt;

class Template {
public:
  /// Parses `source`; errors name the line ("line 3: ...").
  static llvm::Expected<Template> parse(llvm::StringRef source);

  /// Renders with `variables` as the template's globals (besides Jinja's
  /// own: namespace, range, raise_exception). A raise_exception() call or an
  /// operation on values of the wrong type fails with its line.
  llvm::Expected<std::string> render(const Dict &variables) const;

private:
  std::shared_ptr<const std::vector<std::unique_ptr<Stmt>>> program;
};

} // namespace tlmc::jinja

#endif // TLMC_COMPILER_IMPORT_CHAT_JINJA_H
