//===- TLMOps.h - tlm operations ---------------------------------*- C++ -*-===//

#ifndef TLMC_DIALECTS_TLM_IR_TLMOPS_H
#define TLMC_DIALECTS_TLM_IR_TLMOPS_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "dialects/tlm/IR/TLMDialect.h"

#define GET_OP_CLASSES
#include "dialects/tlm/IR/TLMOps.h.inc"

#endif // TLMC_DIALECTS_TLM_IR_TLMOPS_H
