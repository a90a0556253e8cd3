//===- TLMDialect.cpp - tlm dialect registration ------------------*- C++ -*-===//

#include "dialects/tlm/IR/TLMDialect.h"
#include "dialects/tlm/IR/TLMOps.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::tlm;

#include "dialects/tlm/IR/TLMDialect.cpp.inc"

void TLMDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "dialects/tlm/IR/TLMOps.cpp.inc"
      >();
  registerAttributes();
}

/// `tlm.config` belongs on a module and must be a `#tlm.config`; the
/// attribute's own verifier has already checked its numbers.
LogicalResult TLMDialect::verifyOperationAttribute(Operation *op,
                                                   NamedAttribute attr) {
  if (attr.getName() != getConfigAttrName())
    return op->emitError() << "unknown tlm attribute '"
                           << attr.getName().getValue()
                           << "'";
  if (!isa<ModuleOp>(op))
    return op->emitError() << "'" << getConfigAttrName()
                           << "' must be attached to a module";
  if (!isa<ModelConfigAttr>(attr.getValue()))
    return op->emitError() << "'" << getConfigAttrName()
                           << "' must be a #tlm.config attribute";
  return success();
}
