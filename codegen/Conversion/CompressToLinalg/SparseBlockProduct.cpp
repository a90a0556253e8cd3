//===- SparseBlockProduct.cpp - sparse products over 32-feature blocks -*- C++ -*-===//
//
// The code for a compress.sparse_linear whose weight the layout stored in
// blocks (codegen/Target/SparseBlocks.h): per output, a loop over the row's
// blocks that loads the block's 32 inputs as two vectors, selects each
// stored value's input with AVX-512's two-source permute, and accumulates
// 16 products with one FMA. A last block cut short by the input width reads
// its inputs through a mask; its padding values are zero at index 0.
//
//===----------------------------------------------------------------------===//

#include "codegen/Conversion/Patterns.h"
#include "codegen/Passes.h"
#include "codegen/Target/SparseBlocks.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Utils/StructuredOpsUtils.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace tlmc;

namespace {

/// Emits the products of one row's blocks [first, first + count) (or the
/// one short last block, when `valid` < 32 inputs remain) into `acc`.
class BlockEmitter {
public:
  BlockEmitter(OpBuilder &b, Location loc, Value input, Value values,
               Value indices, Value token, Value row)
      : b(b), loc(loc), input(input), values(values), indices(indices),
        token(token), row(row) {
    auto f32 = b.getF32Type();
    floats = VectorType::get({kSparseBlockValues}, f32);
  }

  Value zeros() {
    return arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(floats, b.getF32FloatAttr(0.0)));
  }

  /// acc + the block `block`'s 16 products; `valid` inputs are in range.
  Value emitBlock(Value block, Value acc, int64_t valid) {
    Value features = arith::MulIOp::create(
        b, loc, block, arith::ConstantIndexOp::create(b, loc, kSparseBlockFeatures));
    Value low = loadInputs(features, std::min<int64_t>(valid, 16));
    Value high = loadInputs(
        arith::AddIOp::create(b, loc, features,
                              arith::ConstantIndexOp::create(b, loc, 16)),
        std::max<int64_t>(valid - 16, 0));
    Value slot = arith::MulIOp::create(
        b, loc, block, arith::ConstantIndexOp::create(b, loc, kSparseBlockValues));
    Value weightsVec =
        vector::LoadOp::create(b, loc, floats, values, ValueRange{row, slot});
    auto bytes = VectorType::get({kSparseBlockValues}, b.getI8Type());
    auto words = VectorType::get({kSparseBlockValues}, b.getI32Type());
    Value selector = arith::ExtUIOp::create(
        b, loc, words,
        vector::LoadOp::create(b, loc, bytes, indices, ValueRange{row, slot}));
    Value picked =
        LLVM::CallIntrinsicOp::create(
            b, loc, floats,
            b.getStringAttr("llvm.x86.avx512.vpermi2var.ps.512"),
            ValueRange{low, selector, high})
            .getResult(0);
    return vector::FMAOp::create(b, loc, weightsVec, picked, acc);
  }

private:
  /// 16 inputs from feature `first`; only `valid` of them exist (the rest
  /// read as zero).
  Value loadInputs(Value first, int64_t valid) {
    if (valid == 16)
      return vector::LoadOp::create(b, loc, floats, input,
                                    ValueRange{token, first});
    if (valid == 0)
      return zeros();
    auto maskType = VectorType::get({kSparseBlockValues}, b.getI1Type());
    Value mask = vector::ConstantMaskOp::create(
        b, loc, maskType, ArrayRef<int64_t>{valid});
    return vector::MaskedLoadOp::create(b, loc, floats, input,
                                        ValueRange{token, first}, mask,
                                        zeros());
  }

  OpBuilder &b;
  Location loc;
  Value input, values, indices, token, row;
  VectorType floats;
};

} // namespace

Value tlmc::buildSparseBlockProduct(OpBuilder &b, Location loc, Value input,
                                    Value weights, const WeightSlot &values,
                                    const WeightSlot &indices,
                                    RankedTensorType resultType,
                                    int64_t features, int64_t nonZeros) {
  Value valuesView = viewWeightSlot(b, loc, weights, values);
  Value indicesView = viewWeightSlot(b, loc, weights, indices);
  int64_t fullBlocks = features / kSparseBlockFeatures;
  int64_t tail = features % kSparseBlockFeatures;
  return buildRowProduct(
      b, loc, input, resultType, nonZeros,
      [&](OpBuilder &nb, Location nl, Value x, Value token, Value row) {
        BlockEmitter top(nb, nl, x, valuesView, indicesView, token, row);
        auto loop = scf::ForOp::create(
            nb, nl, arith::ConstantIndexOp::create(nb, nl, 0),
            arith::ConstantIndexOp::create(nb, nl, fullBlocks),
            arith::ConstantIndexOp::create(nb, nl, 1), ValueRange{top.zeros()},
            [&](OpBuilder &lb, Location ll, Value block, ValueRange acc) {
              BlockEmitter in(lb, ll, x, valuesView, indicesView, token, row);
              scf::YieldOp::create(
                  lb, ll, in.emitBlock(block, acc[0], kSparseBlockFeatures));
            });
        Value acc = loop.getResult(0);
        if (tail)
          acc = top.emitBlock(arith::ConstantIndexOp::create(nb, nl, fullBlocks),
                              acc, tail);
        return vector::ReductionOp::create(nb, nl, vector::CombiningKind::ADD,
                                           acc, Value(),
                                           arith::FastMathFlags::reassoc)
            .getResult();
      });
}
