//===- AdoptGGMLBlocks.cpp - GGUF Q8_0/Q4_0 weights as they are -----*- C++ -*-===//

#include "dialects/compress/Transforms/LinearUses.h"
#include "dialects/compress/Transforms/Passes.h"
#include "dialects/tlm/IR/WeightStore.h"

#include "mlir/IR/Builders.h"

#include <cstring>

namespace mlir::compress {
#define GEN_PASS_DEF_COMPRESSADOPTGGMLBLOCKS
#include "dialects/compress/Transforms/Passes.h.inc"
} // namespace mlir::compress

using namespace mlir;
using namespace mlir::compress;

namespace {

struct CompressAdoptGGMLBlocksPass
    : mlir::compress::impl::CompressAdoptGGMLBlocksBase<
          CompressAdoptGGMLBlocksPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    for (auto weight :
         llvm::make_early_inc_range(module.getOps<tlm::WeightOp>())) {
      std::optional<tlm::WeightEncoding> encoding = weight.getEncoding();
      if (!encoding || weight.getTensorType().getRank() != 2)
        continue;
      FailureOr<WeightUses> uses = getWeightUses(weight, module);
      if (failed(uses) ||
          (uses->linears.empty() && uses->embeddings.empty()))
        continue; // read by something else: decoded to f32 when stored
      FailureOr<ArrayRef<char>> bytes = tlm::getWeightBytes(weight);
      if (failed(bytes))
        return signalPassFailure();
      adopt(weight, *encoding, *bytes, *uses);
    }
  }

  /// Makes the weight a compress.quantized_weight with `ggml_blocks` whose
  /// values are the very blocks of the file (the same blob: nothing is
  /// copied), and points the linears and embeddings at it.
  void adopt(tlm::WeightOp weight, tlm::WeightEncoding encoding,
             ArrayRef<char> blocks, const WeightUses &uses) {
    bool q8 = encoding == tlm::WeightEncoding::Q8_0;
    int64_t rows = weight.getTensorType().getDimSize(0);
    int64_t cols = weight.getTensorType().getDimSize(1);
    OpBuilder b(weight);
    std::string name = weight.getSymName().str();
    auto quantized = QuantizedWeightOp::create(
        b, weight.getLoc(), b.getStringAttr(name),
        TypeAttr::get(weight.getTensorType()), b.getI64IntegerAttr(q8 ? 8 : 4),
        b.getI64IntegerAttr(32), b.getBoolAttr(true), *weight.getValue(),
        ElementsAttr(), ElementsAttr(), b.getUnitAttr());
    (void)blocks;
    quantized->setAttr(kFloatBytesAttr, b.getI64IntegerAttr(rows * cols * 4));
    quantized->setAttr(kRelativeErrorAttr, b.getF64FloatAttr(0.0));
    auto symbol = FlatSymbolRefAttr::get(b.getContext(), quantized.getSymName());
    for (tlm::EmbeddingOp embedding : uses.embeddings) {
      OpBuilder eb(embedding);
      auto lookup = QuantizedEmbeddingOp::create(
          eb, embedding.getLoc(), embedding.getType(), embedding.getTokens(),
          symbol);
      Operation *ref = embedding.getTable().getDefiningOp();
      embedding.replaceAllUsesWith(lookup.getResult());
      embedding.erase();
      if (ref->use_empty())
        ref->erase();
    }
    replaceLinears<QuantizedLinearOp>(weight, quantized.getSymName(),
                                      uses.linears);
    ++numAdopted;
  }
};

} // namespace
