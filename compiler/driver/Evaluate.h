//===- Evaluate.h - measure a compressed model on native code ------*- C++ -*-===//

#ifndef TLMC_COMPILER_DRIVER_EVALUATE_H
#define TLMC_COMPILER_DRIVER_EVALUATE_H

#include "compiler/driver/Compile.h"

#include "llvm/Support/JSON.h"

namespace tlmc {

/// Compiles `model` twice — as it is and with `options.compression` — to
/// executables in a temporary folder, runs both over `options.evalText`
/// (llama2.c's perplexity protocol) and compares them: perplexity of each,
/// mean KL divergence of the next-token distributions (original ||
/// compressed) and top-1 agreement.
llvm::Expected<llvm::json::Object> evaluateCompression(
    const ImportedModel &model, const CompileOptions &options);

} // namespace tlmc

#endif // TLMC_COMPILER_DRIVER_EVALUATE_H
