//===- TLMOps.cpp - tlm operation verifiers -------------------------*- C++ -*-===//

#include "dialects/tlm/IR/TLMOps.h"
#include "dialects/tlm/IR/WeightStore.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpImplementation.h"

#include <cmath>

using namespace mlir;
using namespace mlir::tlm;

//===----------------------------------------------------------------------===//
// WeightOp
//===----------------------------------------------------------------------===//

int64_t WeightOp::getStorageBytes() {
  // Only called on verified ops, whose encoded shapes are whole blocks.
  return tlm::getStorageBytes(tlm::getStorageFormat(*this),
                              getTensorType().getNumElements())
      .value_or(0);
}

LogicalResult WeightOp::verify() {
  RankedTensorType type = getTensorType();
  if (!type.hasStaticShape())
    return emitOpError("weight type must have a static shape, got ") << type;
  if (getEncoding()) {
    if (!type.getElementType().isF32())
      return emitOpError("an encoded weight is seen as f32, got element type ")
             << type.getElementType();
    int64_t inner = type.getShape().back();
    if (inner % kGgmlBlockValues != 0)
      return emitOpError("encoded weight's innermost dimension (")
             << inner << ") must be a multiple of " << kGgmlBlockValues;
  }
  ElementsAttr value = getValueAttr();
  if (!value)
    return success();
  if (!isa<DenseResourceElementsAttr>(value))
    return emitOpError("value must be a dense_resource blob, never a literal");
  auto valueType = cast<ShapedType>(value.getType());
  int64_t bytes = getStorageBytes();
  if (getEncoding()) {
    if (valueType.getRank() != 1 || !valueType.getElementType().isInteger(8) ||
        valueType.getNumElements() != bytes)
      return emitOpError("encoded value must be tensor<")
             << bytes << "xi8>, got " << valueType;
  } else if (valueType != type) {
    return emitOpError("value type ")
           << valueType << " does not match the weight type " << type;
  }
  // A blob that is present (not a dangling handle) must hold exactly the
  // bytes the type promises, or readers would run off its end.
  auto resource = cast<DenseResourceElementsAttr>(value);
  if (AsmResourceBlob *blob = resource.getRawHandle().getBlob())
    if (static_cast<int64_t>(blob->getData().size()) != bytes)
      return emitOpError("blob holds ")
             << blob->getData().size() << " bytes, the type needs " << bytes;
  return success();
}

//===----------------------------------------------------------------------===//
// WeightRefOp
//===----------------------------------------------------------------------===//

LogicalResult
WeightRefOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  auto weight =
      symbolTable.lookupNearestSymbolFrom<WeightOp>(*this, getNameAttr());
  if (!weight)
    return emitOpError("'") << getName() << "' does not name a tlm.weight";
  if (weight.getTensorType() != getType())
    return emitOpError("result type ")
           << getType() << " does not match weight '" << getName()
           << "' of type " << weight.getTensorType();
  return success();
}

//===----------------------------------------------------------------------===//
// Graph ops
//===----------------------------------------------------------------------===//

/// Emits "<what> (<a>) must equal <other> (<b>)" unless a == b.
static LogicalResult expectEqual(Operation *op, int64_t a, StringRef what,
                                 int64_t b, StringRef other) {
  if (a == b || ShapedType::isDynamic(a) || ShapedType::isDynamic(b))
    return success();
  return op->emitOpError() << what << " (" << a << ") must equal " << other
                           << " (" << b << ")";
}

LogicalResult EmbeddingOp::verify() {
  auto table = getTable().getType();
  auto result = getResult().getType();
  if (table.getRank() != 2)
    return emitOpError("table must be 2-D (vocab x dim), got ") << table;
  if (failed(expectEqual(*this, result.getDimSize(0), "result rows",
                         getTokens().getType().getDimSize(0), "token count")))
    return failure();
  return expectEqual(*this, result.getDimSize(1), "result width",
                     table.getDimSize(1), "table width");
}

LogicalResult RMSNormOp::verify() {
  auto weight = getWeight().getType();
  if (weight.getRank() != 1)
    return emitOpError("weight must be 1-D, got ") << weight;
  if (!(getEps().convertToFloat() > 0))
    return emitOpError("eps must be positive");
  int64_t length = weight.getDimSize(0);
  int64_t width = getInput().getType().getDimSize(1);
  if (ShapedType::isDynamic(length) || ShapedType::isDynamic(width) ||
      (length > 0 && width % length == 0))
    return success();
  return emitOpError("weight length (")
         << length << ") must divide the input width (" << width << ")";
}

LogicalResult AddBiasOp::verify() {
  auto bias = getBias().getType();
  if (bias.getRank() != 1)
    return emitOpError("bias must be 1-D, got ") << bias;
  return expectEqual(*this, bias.getDimSize(0), "bias length",
                     getInput().getType().getDimSize(1), "input width");
}

LogicalResult LayerNormOp::verify() {
  int64_t width = getInput().getType().getDimSize(1);
  for (auto [what, type] : {std::pair{"weight", getWeight().getType()},
                            std::pair{"bias", getBias().getType()}}) {
    if (type.getRank() != 1)
      return emitOpError(what) << " must be 1-D, got " << type;
    if (failed(expectEqual(*this, type.getDimSize(0),
                           (llvm::Twine(what) + " length").str(), width,
                           "input width")))
      return failure();
  }
  return success();
}

LogicalResult AddPositionsOp::verify() {
  auto table = getTable().getType();
  if (table.getRank() != 2)
    return emitOpError("table must be 2-D (positions x width), got ") << table;
  return expectEqual(*this, table.getDimSize(1), "table width",
                     getInput().getType().getDimSize(1), "input width");
}

LogicalResult LinearOp::verify() {
  auto input = getInput().getType();
  auto weight = getWeight().getType();
  auto result = getResult().getType();
  if (weight.getRank() != 2)
    return emitOpError("weight must be 2-D (out x in), got ") << weight;
  if (failed(expectEqual(*this, weight.getDimSize(1), "weight in_features",
                         input.getDimSize(1), "input width")) ||
      failed(expectEqual(*this, result.getDimSize(1), "result width",
                         weight.getDimSize(0), "weight out_features")))
    return failure();
  return expectEqual(*this, result.getDimSize(0), "result rows",
                     input.getDimSize(0), "input rows");
}

LogicalResult RoPEOp::verify() {
  int64_t headDim = getHeadDim();
  if (headDim <= 0 || headDim % 2 != 0)
    return emitOpError("head_dim must be positive and even, got ") << headDim;
  int64_t width = getInput().getType().getDimSize(1);
  if (!ShapedType::isDynamic(width) && width % headDim != 0)
    return emitOpError("input width (")
           << width << ") must be a multiple of head_dim (" << headDim << ")";
  if (!(getTheta().convertToFloat() > 0))
    return emitOpError("theta must be positive");
  if (std::optional<ArrayRef<float>> factors = getFreqFactors()) {
    if (int64_t(factors->size()) != headDim / 2)
      return emitOpError("freq_factors must hold head_dim / 2 (")
             << headDim / 2 << ") values, got " << factors->size();
    for (float f : *factors)
      if (!(f > 0) || !std::isfinite(f))
        return emitOpError("freq_factors must be positive and finite, got ")
               << f;
  }
  return success();
}

LogicalResult AttentionOp::verify() {
  int64_t heads = getHeads(), kvHeads = getKvHeads(), headDim = getHeadDim();
  if (heads <= 0 || kvHeads <= 0 || headDim <= 0)
    return emitOpError("heads, kv_heads and head_dim must be positive");
  if (heads % kvHeads != 0)
    return emitOpError("kv_heads (")
           << kvHeads << ") must divide heads (" << heads << ")";
  auto query = getQuery().getType();
  auto key = getKey().getType();
  auto value = getValue().getType();
  if (key != value)
    return emitOpError("key and value must have the same type");
  if (failed(expectEqual(*this, query.getDimSize(1), "query width",
                         heads * headDim, "heads * head_dim")) ||
      failed(expectEqual(*this, key.getDimSize(1), "key width",
                         kvHeads * headDim, "kv_heads * head_dim")) ||
      failed(expectEqual(*this, key.getDimSize(0), "key rows",
                         query.getDimSize(0), "query rows")) ||
      failed(expectEqual(*this, getResult().getType().getDimSize(1),
                         "result width", query.getDimSize(1), "query width")))
    return failure();
  if (getKeyCache().getType() != getValueCache().getType())
    return emitOpError("key and value caches must have the same type");
  auto cache = getKeyCache().getType();
  if (failed(expectEqual(*this, cache.getDimSize(2), "cache width",
                         kvHeads * headDim, "kv_heads * head_dim")))
    return failure();
  int64_t layer = getLayer();
  if (getLayerIndex() && layer != 0)
    return emitOpError("layer must be 0 when a layer_index operand gives it");
  if (layer < 0 || (!cache.isDynamicDim(0) && layer >= cache.getDimSize(0)))
    return emitOpError("layer ")
           << layer << " is outside the cache's " << cache.getDimSize(0)
           << " layers";
  if (!cache.isDynamicDim(1) && !query.isDynamicDim(0) &&
      query.getDimSize(0) > cache.getDimSize(1))
    return emitOpError("cannot append ")
           << query.getDimSize(0) << " tokens to a cache of capacity "
           << cache.getDimSize(1);
  if (std::optional<int64_t> window = getWindow(); window && *window <= 0)
    return emitOpError("window must be positive, got ") << *window;
  if (std::optional<llvm::APFloat> scale = getScale();
      scale && !(scale->convertToFloat() > 0 &&
                 std::isfinite(scale->convertToFloat())))
    return emitOpError("scale must be positive and finite");
  if (std::optional<llvm::APFloat> cap = getSoftcap();
      cap && !(cap->convertToFloat() > 0 && std::isfinite(cap->convertToFloat())))
    return emitOpError("softcap must be positive and finite");
  return success();
}

LogicalResult SoftcapOp::verify() {
  float cap = getCap().convertToFloat();
  if (!(cap > 0 && std::isfinite(cap)))
    return emitOpError("cap must be positive and finite, got ") << cap;
  return success();
}

void AttentionOp::getEffects(
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
        &effects) {
  effects.emplace_back(MemoryEffects::Read::get(), &getKeyCacheMutable());
  effects.emplace_back(MemoryEffects::Write::get(), &getKeyCacheMutable());
  effects.emplace_back(MemoryEffects::Read::get(), &getValueCacheMutable());
  effects.emplace_back(MemoryEffects::Write::get(), &getValueCacheMutable());
}

#define GET_OP_CLASSES
#include "dialects/tlm/IR/TLMOps.cpp.inc"
