//===- ModuleBuilder.cpp - an ImportedModel as tlm IR -----------------*- C++ -*-===//

#include "compiler/import/common/ModuleBuilder.h"
#include "dialects/tlm/IR/TLMOps.h"
#include "dialects/tlm/IR/WeightStore.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Builders.h"

using namespace mlir;
using namespace tlmc;

tlm::ModelConfigAttr tlmc::getConfigAttr(MLIRContext &context,
                                         const ModelConfig &c) {
  Builder b(&context);
  return tlm::ModelConfigAttr::get(
      &context, c.arch, c.vocab, c.dim, c.ffnDim, c.layers, c.heads, c.kvHeads,
      c.headDim, c.context, b.getF32FloatAttr(c.ropeTheta), c.ropeStyle,
      b.getF32FloatAttr(c.normEps), c.tiedEmbeddings, c.bos, c.eos);
}

static Type getElementType(Builder &b, tlm::StorageFormat format) {
  switch (format) {
  case tlm::StorageFormat::F16:
    return b.getF16Type();
  case tlm::StorageFormat::BF16:
    return b.getBF16Type();
  default:
    return b.getF32Type(); // f32, and the f32 view of encoded blocks
  }
}

/// Declares `tensor` as a tlm.weight whose value shares its bytes.
static void declareWeight(OpBuilder &b, Location loc,
                          const ImportedTensor &tensor) {
  auto type = RankedTensorType::get(tensor.shape,
                                    getElementType(b, tensor.format));
  std::optional<tlm::WeightEncoding> encoding;
  ShapedType storageType = type;
  if (tensor.format == tlm::StorageFormat::Q8_0)
    encoding = tlm::WeightEncoding::Q8_0;
  else if (tensor.format == tlm::StorageFormat::Q4_0)
    encoding = tlm::WeightEncoding::Q4_0;
  if (encoding)
    storageType = RankedTensorType::get(
        {static_cast<int64_t>(tensor.bytes.size())}, b.getIntegerType(8));
  auto value = tlm::makeWeightBlob(storageType, tensor.name, tensor.bytes,
                                   tensor.owner);
  auto encodingAttr =
      encoding ? tlm::WeightEncodingAttr::get(b.getContext(), *encoding)
               : tlm::WeightEncodingAttr();
  tlm::WeightOp::create(b, loc, StringRef(tensor.name), type, encodingAttr,
                        value);
}

namespace {
/// Emits one entry point's graph.
class GraphEmitter {
public:
  GraphEmitter(OpBuilder &b, Location loc, const ImportedModel &model,
               bool kvCacheF16)
      : b(b), loc(loc), model(model), c(model.config),
        kvCacheF16(kvCacheF16) {}

  /// One entry point over `tokens` tokens; with `lastOnly`, logits for
  /// the last token alone (what generation needs after a prompt chunk).
  void emit(StringRef name, int64_t tokens, bool lastOnly = false) {
    auto f32 = b.getF32Type();
    auto cacheType =
        MemRefType::get({c.layers, c.context, c.kvHeads * c.headDim},
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
    for (int64_t l = 0; l < c.layers; ++l)
      x = emitBlock(x, l);
    if (lastOnly && tokens > 1) {
      x = tensor::ExtractSliceOp::create(
          b, loc, RankedTensorType::get({1, c.dim}, f32), x, ValueRange{},
          ValueRange{}, ValueRange{}, b.getDenseI64ArrayAttr({tokens - 1, 0}),
          b.getDenseI64ArrayAttr({1, c.dim}), b.getDenseI64ArrayAttr({1, 1}));
      rows = 1;
    }
    Value h = norm(x, "output_norm");
    Value logits =
        linear(h, c.tiedEmbeddings ? "token_embd" : "output", c.vocab);
    func::ReturnOp::create(b, loc, logits);
  }

private:
  RankedTensorType act(int64_t width) {
    return RankedTensorType::get({rows, width}, b.getF32Type());
  }

  Value weight(StringRef name) {
    const ImportedTensor *t = model.findTensor(name);
    auto type = RankedTensorType::get(t->shape, getElementType(b, t->format));
    return tlm::WeightRefOp::create(b, loc, type, name);
  }

  Value norm(Value x, StringRef w) {
    return tlm::RMSNormOp::create(b, loc, x.getType(), x, weight(w),
                                  b.getF32FloatAttr(c.normEps));
  }

  Value linear(Value x, StringRef w, int64_t outWidth) {
    return tlm::LinearOp::create(b, loc, act(outWidth), x, weight(w));
  }

  Value rope(Value x) {
    return tlm::RoPEOp::create(
        b, loc, x.getType(), x, pos, b.getI64IntegerAttr(c.headDim),
        b.getF32FloatAttr(c.ropeTheta),
        tlm::RopeStyleAttr::get(b.getContext(), c.ropeStyle));
  }

  Value emitBlock(Value x, int64_t layer) {
    std::string p = "blk." + std::to_string(layer) + ".";
    int64_t kvDim = c.kvHeads * c.headDim;
    Value h = norm(x, p + "attn_norm");
    Value q = rope(linear(h, p + "attn_q", c.dim));
    Value k = rope(linear(h, p + "attn_k", kvDim));
    Value v = linear(h, p + "attn_v", kvDim);
    Value attn = tlm::AttentionOp::create(
        b, loc, act(c.dim), q, k, v, keyCache, valueCache, pos,
        /*layer_index=*/Value(), b.getI64IntegerAttr(layer), b.getI64IntegerAttr(c.heads),
        b.getI64IntegerAttr(c.kvHeads), b.getI64IntegerAttr(c.headDim));
    x = tlm::AddOp::create(b, loc, x,
                           linear(attn, p + "attn_output", c.dim));
    Value f = norm(x, p + "ffn_norm");
    Value gate = linear(f, p + "ffn_gate", c.ffnDim);
    Value up = linear(f, p + "ffn_up", c.ffnDim);
    Value act = tlm::SwiGLUOp::create(b, loc, gate, up);
    return tlm::AddOp::create(b, loc, x, linear(act, p + "ffn_down", c.dim));
  }

  OpBuilder &b;
  Location loc;
  const ImportedModel &model;
  const ModelConfig &c;
  bool kvCacheF16;
  Value pos, keyCache, valueCache;
  int64_t rows = 1;
};
} // namespace

OwningOpRef<ModuleOp> tlmc::buildModule(MLIRContext &context,
                                        const ImportedModel &model,
                                        const GraphOptions &options) {
  context.loadDialect<tlm::TLMDialect, func::FuncDialect,
                      memref::MemRefDialect, tensor::TensorDialect>();
  Location loc = FileLineColLoc::get(&context, model.path, 0, 0);
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
  module->getOperation()->setAttr(tlm::TLMDialect::getConfigAttrName(),
                                  getConfigAttr(context, model.config));
  OpBuilder b(&context);
  b.setInsertionPointToEnd(module->getBody());
  // Weights in the canonical order, whatever order the file had them in,
  // so that every format of a model prints the same module.
  for (auto &[name, shape] : getExpectedTensors(model.config))
    declareWeight(b, loc, *model.findTensor(name));
  GraphEmitter emitter(b, loc, model, options.kvCacheF16);
  emitter.emit("decode", 1);
  int64_t chunk = std::min(options.prefillChunk, model.config.context);
  emitter.emit("prefill", chunk);
  emitter.emit("prefill_last", chunk, /*lastOnly=*/true);
  return module;
}
