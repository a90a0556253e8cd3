//===- TLMDialect.td - the tlm dialect definition ----------*- tablegen -*-===//
//
// The `tlm` dialect: a decoder-only transformer graph at float semantics.
//
//===----------------------------------------------------------------------===//

#ifndef TLM_DIALECT_TD
#define TLM_DIALECT_TD

include "mlir/IR/OpBase.td"

def TLM_Dialect : Dialect {
  let name = "tlm";
  let cppNamespace = "::mlir::tlm";
  let summary = "Transformer graph of a tiny decoder-only language model";
  let description = [{
    The `tlm` dialect expresses LLaMA-family decoders (RMSNorm, RoPE, grouped
    query attention over a KV cache, SwiGLU) as a graph of tensor ops with
    float semantics. The model's configuration rides on the module as a
    `#tlm.config` attribute; weights are module-level `tlm.weight` symbols
    whose bytes live in `dense_resource` blobs (never dense literals), read in
    functions through `tlm.weight_ref`.
  }];
  let useDefaultAttributePrinterParser = 1;
  let hasOperationAttrVerify = 1;
  let extraClassDeclaration = [{
    /// Registers the attributes (defined in TLMAttrs.cpp, beside their
    /// storage classes).
    void registerAttributes();

    /// Name of the module attribute that carries the model configuration.
    static constexpr ::llvm::StringLiteral getConfigAttrName() {
      return ::llvm::StringLiteral("tlm.config");
    }
  }];
}

class TLM_Op<string mnemonic, list<Trait> traits = []>
    : Op<TLM_Dialect, mnemonic, traits>;

#endif // TLM_DIALECT_TD
