//===- EmitObject.h - LLVM dialect to a native object file ---------*- C++ -*-===//

#ifndef TLMC_CODEGEN_TARGET_EMITOBJECT_H
#define TLMC_CODEGEN_TARGET_EMITOBJECT_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Target/TargetMachine.h"

#include <string>

namespace tlmc {

/// What the object's `tlm_model` descriptor (runtime/include/tlm/tlm.h)
/// holds besides the two entry points.
struct ModelDescriptor {
  /// Symbol of the descriptor (`<name>_model`).
  std::string symbol;
  std::string decodeSymbol, prefillSymbol, prefillLastSymbol;
  uint32_t prefillChunk = 0;
  /// @prefill_wide and its tokens; empty and 0 when the model has none.
  std::string prefillWideSymbol;
  uint32_t prefillWideChunk = 0;
  uint64_t fingerprint = 0;
  uint64_t arenaBytes = 0;
  uint64_t weightsBytes = 0;
  /// The configuration the code indexes by (the runtime checks the
  /// container's against it).
  int32_t vocab = 0;
  int32_t context = 0;
  /// The container, placed in read-only data (--embed-weights); may be empty.
  llvm::ArrayRef<char> embeddedContainer;
  /// Also define `tlm_default_model` as an alias (for `--exe`).
  bool defineDefaultAlias = false;
};

/// Translates `module` (LLVM dialect) to LLVM IR, adds the descriptor,
/// optimizes at -O3 for `machine` and writes an object file to `path`.
llvm::Error emitObjectFile(mlir::ModuleOp module, llvm::TargetMachine &machine,
                           const ModelDescriptor &descriptor,
                           llvm::StringRef path);

} // namespace tlmc

#endif // TLMC_CODEGEN_TARGET_EMITOBJECT_H
