//===- TLMAttrs.cpp - tlm attributes and enums ---------------------*- C++ -*-===//

#include "dialects/tlm/IR/TLMDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::tlm;

#include "dialects/tlm/IR/TLMEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/tlm/IR/TLMAttrs.cpp.inc"

void TLMDialect::registerAttributes() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "dialects/tlm/IR/TLMAttrs.cpp.inc"
      >();
}

LogicalResult ModelConfigAttr::verify(
    function_ref<InFlightDiagnostic()> emitError, StringRef arch,
    int64_t vocab, int64_t dim, int64_t ffnDim, int64_t layers, int64_t heads,
    int64_t kvHeads, int64_t headDim, int64_t context, FloatAttr ropeTheta,
    RopeStyle ropeStyle, FloatAttr normEps, bool tiedEmbeddings, int64_t bos,
    int64_t eos) {
  struct Named {
    const char *name;
    int64_t value;
  };
  for (Named n : {Named{"vocab", vocab}, Named{"dim", dim},
                  Named{"ffn_dim", ffnDim}, Named{"layers", layers},
                  Named{"heads", heads}, Named{"kv_heads", kvHeads},
                  Named{"head_dim", headDim}, Named{"context_length", context}})
    if (n.value <= 0)
      return emitError() << "'" << n.name << "' must be positive, got "
                         << n.value;
  if (heads % kvHeads != 0)
    return emitError() << "kv_heads (" << kvHeads
                       << ") must divide heads (" << heads << ")";
  if (headDim % 2 != 0)
    return emitError() << "head_dim (" << headDim
                       << ") must be even for RoPE";
  if (!ropeTheta.getType().isF32() || !(ropeTheta.getValueAsDouble() > 0))
    return emitError() << "'rope_theta' must be a positive f32";
  if (!normEps.getType().isF32() || !(normEps.getValueAsDouble() > 0))
    return emitError() << "'norm_eps' must be a positive f32";
  for (Named n : {Named{"bos", bos}, Named{"eos", eos}})
    if (n.value < 0 || n.value >= vocab)
      return emitError() << "'" << n.name << "' token id " << n.value
                         << " is outside the vocabulary [0, " << vocab << ")";
  return success();
}
