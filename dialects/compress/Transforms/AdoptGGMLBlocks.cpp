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

/// The ops that read a weight through tlm.weight_ref: linears (as their
/// weight) and embeddings (as their table); failure for anything else.
struct WeightUses {
  SmallVector<tlm::LinearOp> linears;
  SmallVector<tlm::EmbeddingOp> embeddings;
};

FailureOr<WeightUses> getWeightUses(tlm::WeightOp weight, ModuleOp module) {
  WeightUses uses;
  auto symbolUses = SymbolTable::getSymbolUses(weight, module);
  if (!symbolUses)
    return failure();
  for (const SymbolTable::SymbolUse &use : *symbolUses) {
    auto ref = dyn_cast<tlm::WeightRefOp>(use.getUser());
    if (!ref)
      return failure();
    for (OpOperand &operand : ref->getUses()) {
      Operation *user = operand.getOwner();
      if (auto linear = dyn_cast<tlm::LinearOp>(user);
          linear && operand.getOperandNumber() == 1)
        uses.linears.push_back(linear);
      else if (auto embedding = dyn_cast<tlm::EmbeddingOp>(user);
               embedding && operand.getOperandNumber() == 1)
        uses.embeddings.push_back(embedding);
      else
        return failure();
    }
  }
  return uses;
}

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
      // The blocks were copied out: their pages of the model file may go.
      tlm::releaseWeightPages(*bytes);
    }
  }

  /// Re-lays the blocks out as a compress.quantized_weight (integers per
  /// row, the blocks' f16 scales as they are: the same bytes as the file)
  /// and points the linears and embeddings at it.
  void adopt(tlm::WeightOp weight, tlm::WeightEncoding encoding,
             ArrayRef<char> blocks, const WeightUses &uses) {
    bool q8 = encoding == tlm::WeightEncoding::Q8_0;
    int64_t rows = weight.getTensorType().getDimSize(0);
    int64_t cols = weight.getTensorType().getDimSize(1);
    int64_t groups = cols / tlm::kGgmlBlockValues;
    int64_t blockBytes = q8 ? 34 : 18;
    int64_t rowBytes = q8 ? cols : cols / 2;
    std::vector<int8_t> values(rows * rowBytes, 0);
    std::vector<uint16_t> scales(rows * groups);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t g = 0; g < groups; ++g) {
        const char *block = blocks.data() + (r * groups + g) * blockBytes;
        std::memcpy(&scales[r * groups + g], block, 2);
        for (int64_t j = 0; j < 32; ++j) {
          int64_t k = g * 32 + j;
          if (q8) {
            values[r * rowBytes + k] = int8_t(block[2 + j]);
            continue;
          }
          // GGML: value j < 16 is the low nibble of byte j, value j >= 16
          // the high nibble of byte j - 16. Ours: value k is in byte k/2,
          // low nibble for even k. Both store q + 8.
          uint8_t byte = uint8_t(block[2 + (j % 16)]);
          uint8_t nibble = j < 16 ? (byte & 0xF) : (byte >> 4);
          uint8_t &dst = reinterpret_cast<uint8_t &>(values[r * rowBytes + k / 2]);
          dst |= k % 2 == 0 ? nibble : uint8_t(nibble << 4);
        }
      }
    OpBuilder b(weight);
    std::string name = weight.getSymName().str();
    auto asBytes = [](const auto &v) {
      return ArrayRef<char>(reinterpret_cast<const char *>(v.data()),
                            v.size() * sizeof(v[0]));
    };
    auto quantized = QuantizedWeightOp::create(
        b, weight.getLoc(), b.getStringAttr(name),
        TypeAttr::get(weight.getTensorType()), b.getI64IntegerAttr(q8 ? 8 : 4),
        b.getI64IntegerAttr(32), b.getBoolAttr(true),
        makeBlob(RankedTensorType::get({rows, rowBytes}, b.getIntegerType(8)),
                 name + ".values", asBytes(values)),
        makeBlob(RankedTensorType::get({rows, groups}, b.getF16Type()),
                 name + ".scales", asBytes(scales)),
        ElementsAttr());
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
