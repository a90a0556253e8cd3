//===- GraphEmitter.cpp - the tlm ops a family's block is made of ----*- C++ -*-===//

#include "compiler/import/family/GraphEmitter.h"
#include "compiler/import/family/Family.h"
#include "dialects/tlm/IR/TLMOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <cmath>

using namespace mlir;
using namespace tlmc;

/// Positions per block of the KV caches' capacity (16 f32 lanes: one
/// AVX-512 register of keys).
static constexpr uint64_t kCacheBlock = 16;

Type tlmc::getWeightElementType(Builder &b, tlm::StorageFormat format) {
  switch (format) {
  case tlm::StorageFormat::F16:
    return b.getF16Type();
  case tlm::StorageFormat::BF16:
    return b.getBF16Type();
  default:
    return b.getF32Type(); // f32, and the f32 view of encoded blocks
  }
}

GraphEmitter::GraphEmitter(OpBuilder &b, Location loc,
                           const ImportedModel &model, const Family &family,
                           bool kvCacheF16)
    : b(b), loc(loc), model(model), family(family), c(model.config),
      kvCacheF16(kvCacheF16) {}

std::string GraphEmitter::layerPrefix(int64_t layer) {
  return "blk." + std::to_string(layer) + ".";
}

void GraphEmitter::emit(StringRef name, int64_t tokens, bool lastOnly) {
  auto f32 = b.getF32Type();
  // The caches hold whole blocks of kCacheBlock positions: attention reads
  // keys a block (a vector) at a time, and a capacity that 16 does not
  // divide would narrow its blocks to the largest power of two that does
  // (SmolLM2 Q8_0 at a context of 1668: 4 keys per vector, prefill after
  // 1536 tokens 349-366 tok/s against 606-621 at 2048). The positions past
  // the context are never written or read.
  auto cacheType = MemRefType::get(
      {c.layers, int64_t(llvm::alignTo(c.context, kCacheBlock)),
       c.kvHeads * c.headDim},
      kvCacheF16 ? Type(b.getF16Type()) : Type(f32));
  auto logitsType =
      RankedTensorType::get({lastOnly ? 1 : tokens, c.vocab}, f32);
  auto fnType = b.getFunctionType(
      {RankedTensorType::get({tokens}, b.getI32Type()), b.getIndexType(),
       cacheType, cacheType},
      {logitsType});
  auto fn = func::FuncOp::create(b, loc, name, fnType);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(fn.addEntryBlock());
  Value tokenIds = fn.getArgument(0);
  pos = fn.getArgument(1);
  keyCache = fn.getArgument(2);
  valueCache = fn.getArgument(3);
  rows = tokens;

  Value x = tlm::EmbeddingOp::create(b, loc, act(c.dim), tokenIds,
                                     weight("token_embd"));
  x = family.emitInput(*this, x);
  for (int64_t l = 0; l < c.layers; ++l)
    x = family.emitBlock(*this, x, l);
  if (lastOnly && tokens > 1) {
    x = tensor::ExtractSliceOp::create(
        b, loc, RankedTensorType::get({1, c.dim}, f32), x, ValueRange{},
        ValueRange{}, ValueRange{}, b.getDenseI64ArrayAttr({tokens - 1, 0}),
        b.getDenseI64ArrayAttr({1, c.dim}), b.getDenseI64ArrayAttr({1, 1}));
    rows = 1;
  }
  Value h = family.emitOutputNorm(*this, x);
  Value logits = family.emitLogits(
      *this, linear(h, c.tiedEmbeddings ? "token_embd" : "output"));
  func::ReturnOp::create(b, loc, logits);
}

RankedTensorType GraphEmitter::act(int64_t width) {
  return RankedTensorType::get({rows, width}, b.getF32Type());
}

Value GraphEmitter::weight(StringRef name) {
  const ImportedTensor *t = model.findTensor(name);
  assert(t && "checkModel verified every tensor the family uses");
  auto type = RankedTensorType::get(t->shape, getWeightElementType(b, t->format));
  return tlm::WeightRefOp::create(b, loc, type, name);
}

Value GraphEmitter::norm(Value x, StringRef w) {
  return tlm::RMSNormOp::create(b, loc, x.getType(), x, weight(w),
                                b.getF32FloatAttr(c.normEps));
}

Value GraphEmitter::linear(Value x, StringRef w) {
  Value matrix = weight(w);
  int64_t outWidth = cast<RankedTensorType>(matrix.getType()).getDimSize(0);
  return tlm::LinearOp::create(b, loc, act(outWidth), x, matrix);
}

Value GraphEmitter::addBias(Value x, StringRef bias) {
  return tlm::AddBiasOp::create(b, loc, x.getType(), x, weight(bias));
}

Value GraphEmitter::rope(Value x, int64_t layer) {
  DenseF32ArrayAttr factors;
  if (!c.ropeFreqFactors.empty())
    factors = b.getDenseF32ArrayAttr(c.ropeFreqFactors);
  bool local = family.appliesSlidingWindow() && c.isLocalLayer(layer);
  float theta = local && c.ropeThetaLocal > 0 ? c.ropeThetaLocal : c.ropeTheta;
  return tlm::RoPEOp::create(
      b, loc, x.getType(), x, pos, b.getI64IntegerAttr(c.headDim),
      b.getF32FloatAttr(theta),
      tlm::RopeStyleAttr::get(b.getContext(), c.ropeStyle), factors);
}

Value GraphEmitter::attention(Value q, Value k, Value v, int64_t layer) {
  IntegerAttr window;
  if (family.appliesSlidingWindow() && c.isLocalLayer(layer))
    window = b.getI64IntegerAttr(c.slidingWindow);
  FloatAttr scaleAttr, softcap;
  if (c.queryPreAttnScalar > 0)
    scaleAttr = b.getF32FloatAttr(1.0f / std::sqrt(c.queryPreAttnScalar));
  if (family.appliesLogitSoftcapping() && c.attnLogitSoftcap > 0)
    softcap = b.getF32FloatAttr(c.attnLogitSoftcap);
  return tlm::AttentionOp::create(
      b, loc, act(c.heads * c.headDim), q, k, v, keyCache, valueCache, pos,
      /*layer_index=*/Value(), b.getI64IntegerAttr(layer),
      b.getI64IntegerAttr(c.heads), b.getI64IntegerAttr(c.kvHeads),
      b.getI64IntegerAttr(c.headDim), window, scaleAttr, softcap);
}

Value Family::emitOutputNorm(GraphEmitter &g, Value x) const {
  return g.norm(x, "output_norm");
}

Value GraphEmitter::layerNorm(Value x, StringRef w) {
  return tlm::LayerNormOp::create(b, loc, x.getType(), x, weight(w),
                                  weight((w + ".bias").str()),
                                  b.getF32FloatAttr(c.normEps));
}

Value GraphEmitter::gelu(Value x) { return tlm::GELUOp::create(b, loc, x); }

Value GraphEmitter::addPositions(Value x, StringRef table) {
  return tlm::AddPositionsOp::create(b, loc, x.getType(), x, weight(table),
                                     pos);
}

Value GraphEmitter::geglu(Value gate, Value up) {
  return tlm::GeGLUOp::create(b, loc, gate, up);
}

Value GraphEmitter::softcap(Value x, float cap) {
  return tlm::SoftcapOp::create(b, loc, x, b.getF32FloatAttr(cap));
}

Value GraphEmitter::scale(Value x, float factor) {
  return tlm::ScaleOp::create(b, loc, x, b.getF32FloatAttr(factor));
}

Value GraphEmitter::swiglu(Value gate, Value up) {
  return tlm::SwiGLUOp::create(b, loc, gate, up);
}

Value GraphEmitter::add(Value x, Value y) {
  return tlm::AddOp::create(b, loc, x, y);
}
