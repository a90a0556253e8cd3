//===- CompressDialect.h - the compress dialect -------------------*- C++ -*-===//

#ifndef TLMC_DIALECTS_COMPRESS_IR_COMPRESSDIALECT_H
#define TLMC_DIALECTS_COMPRESS_IR_COMPRESSDIALECT_H

#include "dialects/tlm/IR/TLMDialect.h"

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "dialects/compress/IR/CompressDialect.h.inc"

#define GET_OP_CLASSES
#include "dialects/compress/IR/CompressOps.h.inc"

#endif // TLMC_DIALECTS_COMPRESS_IR_COMPRESSDIALECT_H
