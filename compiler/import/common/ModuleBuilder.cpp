//===- ModuleBuilder.cpp - an ImportedModel as tlm IR -----------------*- C++ -*-===//

#include "compiler/import/common/ModuleBuilder.h"
#include "compiler/import/family/Family.h"
#include "compiler/import/family/GraphEmitter.h"
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

/// Declares `tensor` as a tlm.weight whose value shares its bytes.
static void declareWeight(OpBuilder &b, Location loc,
                          const ImportedTensor &tensor) {
  auto type = RankedTensorType::get(tensor.shape,
                                    getWeightElementType(b, tensor.format));
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
  const Family *family = lookupFamily(model.config.arch);
  assert(family && "checkModel verified the architecture");
  GraphEmitter emitter(b, loc, model, *family, options.kvCacheF16);
  emitter.emit("decode", 1);
  int64_t chunk = std::min(options.prefillChunk, model.config.context);
  emitter.emit("prefill", chunk);
  emitter.emit("prefill_last", chunk, /*lastOnly=*/true);
  if (hasWidePrefill(options, model.config.context))
    emitter.emit("prefill_wide", options.prefillWideChunk, /*lastOnly=*/true);
  return module;
}
