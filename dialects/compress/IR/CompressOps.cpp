//===- CompressOps.cpp - compress dialect ops and verifiers ---------*- C++ -*-===//

#include "dialects/compress/IR/CompressDialect.h"
#include "dialects/tlm/IR/TLMOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/OpImplementation.h"

using namespace mlir;
using namespace mlir::compress;

#include "dialects/compress/IR/CompressDialect.cpp.inc"

void CompressDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "dialects/compress/IR/CompressOps.cpp.inc"
      >();
}

int64_t QuantizedWeightOp::getStorageBytes() {
  if (getGgmlBlocks())
    return getRows() * getRowBytes(); // the scales are in the blocks
  int64_t scaleBytes =
      cast<ShapedType>(getScales()->getType()).getElementTypeBitWidth() / 8;
  int64_t bytes = getRows() * getRowBytes() + getRows() * getGroups() * scaleBytes;
  if (getZeroPoints())
    bytes += getRows() * getGroups();
  return bytes;
}

/// Checks that `value` is a dense_resource of `type` whose blob (when
/// loaded) holds exactly the bytes the type needs.
static LogicalResult verifyBlob(Operation *op, StringRef what,
                                ElementsAttr value, ShapedType type) {
  auto resource = dyn_cast<DenseResourceElementsAttr>(value);
  if (!resource)
    return op->emitOpError() << what << " must be a dense_resource blob";
  if (resource.getType() != type)
    return op->emitOpError() << what << " must be " << type << ", got "
                             << resource.getType();
  int64_t bytes = type.getNumElements() * (type.getElementTypeBitWidth() / 8);
  if (AsmResourceBlob *blob = resource.getRawHandle().getBlob())
    if (int64_t(blob->getData().size()) != bytes)
      return op->emitOpError() << what << " blob holds "
                               << blob->getData().size()
                               << " bytes, the type needs " << bytes;
  return success();
}

LogicalResult QuantizedWeightOp::verify() {
  int64_t bits = getBits(), group = getGroupSize();
  if (bits != 8 && bits != 4)
    return emitOpError("bits must be 8 or 4, got ") << bits;
  if (group <= 0 || group > getColumns())
    return emitOpError("group_size must be in [1, ")
           << getColumns() << "], got " << group;
  if (bits == 8 && !getSymmetric())
    return emitOpError("8-bit weights are symmetric");
  if (getSymmetric() == bool(getZeroPoints()))
    return emitOpError(getSymmetric()
                           ? "a symmetric weight has no zero points"
                           : "an asymmetric weight needs zero points");
  MLIRContext *ctx = getContext();
  Type i8 = IntegerType::get(ctx, 8), f32 = Float32Type::get(ctx);
  if (getGgmlBlocks()) {
    if (group != 32 || !getSymmetric() || getScales() ||
        getColumns() % 32 != 0)
      return emitOpError("ggml_blocks weights are symmetric, in groups of "
                         "32 whole features, with their scales in the blocks");
    return verifyBlob(*this, "values", getValues(),
                      RankedTensorType::get({getRows() * getRowBytes()}, i8));
  }
  if (!getScales())
    return emitOpError("needs scales (or ggml_blocks)");
  // Scales are f32, or f16 as GGUF blocks store them.
  Type scale = cast<ShapedType>(getScales()->getType()).getElementType();
  if (!scale.isF16())
    scale = f32;
  if (failed(verifyBlob(*this, "values", getValues(),
                        RankedTensorType::get({getRows(), getRowBytes()}, i8))) ||
      failed(verifyBlob(*this, "scales", *getScales(),
                        RankedTensorType::get({getRows(), getGroups()}, scale))))
    return failure();
  if (getZeroPoints() &&
      failed(verifyBlob(*this, "zero_points", *getZeroPoints(),
                        RankedTensorType::get({getRows(), getGroups()}, i8))))
    return failure();
  return success();
}

LogicalResult
QuantizedEmbeddingOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  auto weight = symbolTable.lookupNearestSymbolFrom<QuantizedWeightOp>(
      *this, getWeightAttr());
  if (!weight)
    return emitOpError("'") << getWeight()
                            << "' does not name a compress.quantized_weight";
  auto tokens = getTokens().getType(), result = getResult().getType();
  if (result.getDimSize(0) != tokens.getDimSize(0) ||
      result.getDimSize(1) != weight.getColumns())
    return emitOpError("result must be ")
           << tokens.getDimSize(0) << "x" << weight.getColumns()
           << " (one row of the table per token)";
  return success();
}

LogicalResult
QuantizedLinearOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  auto weight = symbolTable.lookupNearestSymbolFrom<QuantizedWeightOp>(
      *this, getWeightAttr());
  if (!weight)
    return emitOpError("'") << getWeight()
                            << "' does not name a compress.quantized_weight";
  auto input = getInput().getType(), result = getResult().getType();
  if (input.getDimSize(1) != weight.getColumns())
    return emitOpError("input width (")
           << input.getDimSize(1) << ") must equal the weight's in_features ("
           << weight.getColumns() << ")";
  if (result.getDimSize(1) != weight.getRows() ||
      result.getDimSize(0) != input.getDimSize(0))
    return emitOpError("result must be ")
           << input.getDimSize(0) << "x" << weight.getRows();
  return success();
}

LogicalResult SparseWeightOp::verify() {
  MLIRContext *ctx = getContext();
  int64_t rows = getTensorType().getDimSize(0);
  int64_t cols = getTensorType().getDimSize(1);
  if (cols > 32767)
    return emitOpError("columns are stored as i16: at most 32767 in_features");
  auto valuesType = dyn_cast<ShapedType>(getValues().getType());
  if (!valuesType || valuesType.getRank() != 1)
    return emitOpError("values must be 1-D");
  int64_t nnz = valuesType.getNumElements();
  if (nnz > rows * cols)
    return emitOpError("more values than the matrix has entries");
  if (failed(verifyBlob(*this, "values", getValues(),
                        RankedTensorType::get({nnz}, Float32Type::get(ctx)))) ||
      failed(verifyBlob(*this, "columns", getColumns(),
                        RankedTensorType::get({nnz}, IntegerType::get(ctx, 16)))) ||
      failed(verifyBlob(*this, "row_offsets", getRowOffsets(),
                        RankedTensorType::get({rows + 1},
                                              IntegerType::get(ctx, 32)))))
    return failure();
  return success();
}

LogicalResult
SparseLinearOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  auto weight = symbolTable.lookupNearestSymbolFrom<SparseWeightOp>(
      *this, getWeightAttr());
  if (!weight)
    return emitOpError("'") << getWeight()
                            << "' does not name a compress.sparse_weight";
  auto input = getInput().getType(), result = getResult().getType();
  if (input.getDimSize(1) != weight.getTensorType().getDimSize(1) ||
      result.getDimSize(1) != weight.getTensorType().getDimSize(0) ||
      result.getDimSize(0) != input.getDimSize(0))
    return emitOpError("shapes do not match the weight ")
           << weight.getTensorType();
  return success();
}

#define GET_OP_CLASSES
#include "dialects/compress/IR/CompressOps.cpp.inc"
