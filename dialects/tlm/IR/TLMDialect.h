//===- TLMDialect.h - the tlm dialect ----------------------------*- C++ -*-===//
//
// Declares the `tlm` dialect, its enums and attributes.
//
//===----------------------------------------------------------------------===//

#ifndef TLMC_DIALECTS_TLM_IR_TLMDIALECT_H
#define TLMC_DIALECTS_TLM_IR_TLMDIALECT_H

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Dialect.h"

#include "dialects/tlm/IR/TLMDialect.h.inc"
#include "dialects/tlm/IR/TLMEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/tlm/IR/TLMAttrs.h.inc"

#endif // TLMC_DIALECTS_TLM_IR_TLMDIALECT_H
