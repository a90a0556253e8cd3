//===- RowProduct.cpp - the frame of a hand-written product kernel ---*- C++ -*-===//
//
// The compressed products whose inner loops are written out (quantized
// groups, sparse blocks) share one frame: a linalg.generic over (token,
// output feature) that tlm-parallelize-rows can split by output feature,
// whose body computes one output from the input read as a buffer. Table
// lookups (embeddings, quantized or not) share another: (token, feature).
//
//===----------------------------------------------------------------------===//

#include "codegen/Conversion/Patterns.h"
#include "codegen/Passes.h"

#include "mlir/Dialect/Utils/StructuredOpsUtils.h"

using namespace mlir;
using namespace tlmc;

Value tlmc::buildRowProduct(
    OpBuilder &b, Location loc, Value input, RankedTensorType resultType,
    int64_t work,
    function_ref<Value(OpBuilder &, Location, Value, Value, Value)> body) {
  auto inputType = cast<RankedTensorType>(input.getType());
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{resultType}, ValueRange{},
      ValueRange{tensor::EmptyOp::create(b, loc, resultType.getShape(),
                                         b.getF32Type())},
      ArrayRef<AffineMap>{b.getMultiDimIdentityMap(2)},
      ArrayRef<utils::IteratorType>{utils::IteratorType::parallel,
                                    utils::IteratorType::parallel},
      [&](OpBuilder &nb, Location nl, ValueRange) {
        // The input as a buffer, taken inside the body: bufferization then
        // sees the tensor read here, not earlier, and keeps its buffer
        // alive until every product that reads it has run.
        Value x = bufferization::ToBufferOp::create(
            nb, nl,
            MemRefType::get(inputType.getShape(), inputType.getElementType()),
            input, /*read_only=*/true);
        Value token = linalg::IndexOp::create(nb, nl, 0);
        Value row = linalg::IndexOp::create(nb, nl, 1);
        linalg::YieldOp::create(nb, nl, body(nb, nl, x, token, row));
      });
  generic->setAttr(kParallelRowsAttr, b.getUnitAttr());
  generic->setAttr(kParallelWorkAttr, b.getI64IntegerAttr(work));
  return generic.getResult(0);
}

Value tlmc::buildRowLookup(
    OpBuilder &b, Location loc, Value tokens, RankedTensorType resultType,
    function_ref<Value(OpBuilder &, Location, Value, Value)> body) {
  AffineMap tokenMap =
      AffineMap::get(2, 0, {b.getAffineDimExpr(0)}, b.getContext());
  Value init =
      tensor::EmptyOp::create(b, loc, resultType.getShape(), b.getF32Type());
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{resultType}, ValueRange{tokens}, ValueRange{init},
      ArrayRef<AffineMap>{tokenMap, b.getMultiDimIdentityMap(2)},
      ArrayRef<utils::IteratorType>{utils::IteratorType::parallel,
                                    utils::IteratorType::parallel},
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        Value row =
            arith::IndexCastOp::create(nb, nl, nb.getIndexType(), args[0]);
        Value col = linalg::IndexOp::create(nb, nl, 1);
        linalg::YieldOp::create(nb, nl, body(nb, nl, row, col));
      });
  return generic.getResult(0);
}
