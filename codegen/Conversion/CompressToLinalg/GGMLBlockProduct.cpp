//===- GGMLBlockProduct.cpp - products and lookups on GGUF blocks ----*- C++ -*-===//
//
// A GGUF Q8_0/Q4_0 weight (compress.quantized_weight with `ggml_blocks`) is
// read in the file's layout: row after row of 32-feature blocks, each an
// f16 scale then 32 int8 (34 bytes) or 16 bytes of nibbles biased by 8 (18
// bytes; low nibbles the block's first 16 values, high nibbles the next
// 16). This generated product is what targets without the runtime's VNNI
// kernels run; with them, tlm-use-ukernels replaces it by a kernel call on
// the same bytes, or on bytes packed in 16-row panels (GGMLPanels.h), which
// the lookup below also reads.
//
// The product's inner step, per block (register tiling: one output row,
// one 32-feature block; 16 f32 lanes per AVX-512 register):
//   q8: one unaligned 32-byte load (vmovdqu), sign-extend and convert to
//       2 x 16 f32, times the broadcast scale, two FMAs into 2 x 16 f32
//       accumulators against 32 contiguous inputs;
//   q4: one 16-byte load, two nibble extractions (and, shift), minus 8,
//       convert, times the scale, two FMAs.
// One horizontal sum per output. Decode is bound by the weight bytes read:
// 34/32 or 18/32 bytes per weight against the machine's read bandwidth
// (utils/bench/vs-llamacpp.sh measures both); the conversions are the
// compute cost that keeps this generated kernel below that roofline (the
// runtime's VNNI kernels use integer dot products instead).
//
//===----------------------------------------------------------------------===//

#include "codegen/Conversion/Patterns.h"
#include "codegen/Passes.h"
#include "codegen/Target/GGMLPanels.h"

#include "mlir/Dialect/Utils/StructuredOpsUtils.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace tlmc;

namespace {

int64_t blockBytes(compress::QuantizedWeightOp weight) {
  return weight.getBits() == 8 ? 34 : 18;
}

/// The f16 scale stored at byte `at` of `blocks` (memref<N x i8>), as f32.
/// The load is marked as the product's weight read (tlm-use-ukernels).
Value loadScale(OpBuilder &b, Location loc, Value blocks, Value at) {
  auto bytes = vector::LoadOp::create(
      b, loc, VectorType::get({2}, b.getI8Type()), blocks, ValueRange{at});
  bytes->setAttr(kUKernelWeightsAttr, b.getUnitAttr());
  Value half = vector::BitCastOp::create(
      b, loc, VectorType::get({1}, b.getF16Type()), bytes);
  Value scale = vector::ExtractOp::create(b, loc, half, ArrayRef<int64_t>{0});
  return arith::ExtFOp::create(b, loc, b.getF32Type(), scale);
}

} // namespace

Value tlmc::buildGGMLBlockProduct(OpBuilder &b, Location loc, Value input,
                                  Value weights,
                                  compress::QuantizedWeightOp weight,
                                  const WeightSlot &blocks,
                                  RankedTensorType resultType,
                                  bool panels) {
  Value blocksView = viewWeightSlot(b, loc, weights, blocks);
  bool q8 = weight.getBits() == 8;
  int64_t groups = weight.getColumns() / 32, bytes = blockBytes(weight);
  Value product = buildRowProduct(
      b, loc, input, resultType, weight.getTensorType().getNumElements(),
      [&](OpBuilder &nb, Location nl, Value x, Value token, Value row) {
        auto index = [&](OpBuilder &ib, int64_t v) {
          return arith::ConstantIndexOp::create(ib, nl, v).getResult();
        };
        Type f32 = nb.getF32Type(), i32 = nb.getI32Type(), i8 = nb.getI8Type();
        VectorType lanes = VectorType::get({16}, f32);
        Value zero = arith::ConstantOp::create(
            nb, nl, DenseElementsAttr::get(lanes, nb.getF32FloatAttr(0.0)));
        Value rowBase =
            arith::MulIOp::create(nb, nl, row, index(nb, groups * bytes));
        auto loop = scf::ForOp::create(
            nb, nl, index(nb, 0), index(nb, groups), index(nb, 1),
            ValueRange{zero, zero},
            [&](OpBuilder &lb, Location ll, Value g, ValueRange acc) {
              Value at = arith::AddIOp::create(
                  lb, ll, rowBase,
                  arith::MulIOp::create(lb, ll, g, index(lb, bytes)));
              Value scale = vector::BroadcastOp::create(
                  lb, ll, lanes, loadScale(lb, ll, blocksView, at));
              Value first = arith::AddIOp::create(lb, ll, at, index(lb, 2));
              Value feature = arith::MulIOp::create(lb, ll, g, index(lb, 32));
              auto inputs = [&](int64_t offset) -> Value {
                auto load = vector::LoadOp::create(
                    lb, ll, lanes, x,
                    ValueRange{token, arith::AddIOp::create(
                                          lb, ll, feature, index(lb, offset))});
                load->setAttr(kUKernelInputAttr, lb.getUnitAttr());
                return load;
              };
              auto weighted = [&](Value ints) -> Value {
                Value floats = arith::SIToFPOp::create(lb, ll, lanes, ints);
                return arith::MulFOp::create(lb, ll, floats, scale,
                                             kProductFastMath);
              };
              Value low, high;
              VectorType words = VectorType::get({16}, i32);
              if (q8) {
                auto load16 = [&](int64_t offset) -> Value {
                  Value q = vector::LoadOp::create(
                      lb, ll, VectorType::get({16}, i8), blocksView,
                      ValueRange{arith::AddIOp::create(lb, ll, first,
                                                       index(lb, offset))});
                  return arith::ExtSIOp::create(lb, ll, words, q);
                };
                low = weighted(load16(0));
                high = weighted(load16(16));
              } else {
                Value packed = vector::LoadOp::create(
                    lb, ll, VectorType::get({16}, i8), blocksView,
                    ValueRange{first});
                Value wide = arith::ExtUIOp::create(lb, ll, words, packed);
                auto splat = [&](int64_t v) -> Value {
                  return arith::ConstantOp::create(
                      lb, ll,
                      DenseElementsAttr::get(words, lb.getI32IntegerAttr(v)));
                };
                Value eight = splat(8);
                low = weighted(arith::SubIOp::create(
                    lb, ll, arith::AndIOp::create(lb, ll, wide, splat(15)),
                    eight));
                high = weighted(arith::SubIOp::create(
                    lb, ll, arith::ShRUIOp::create(lb, ll, wide, splat(4)),
                    eight));
              }
              Value a = vector::FMAOp::create(lb, ll, low, inputs(0), acc[0]);
              Value c = vector::FMAOp::create(lb, ll, high, inputs(16), acc[1]);
              scf::YieldOp::create(lb, ll, ValueRange{a, c});
            });
        Value sum = arith::AddFOp::create(nb, nl, loop.getResult(0),
                                          loop.getResult(1), kProductFastMath);
        return vector::ReductionOp::create(nb, nl, vector::CombiningKind::ADD,
                                           sum, Value(),
                                           arith::FastMathFlags::reassoc)
            .getResult();
      });
  // The runtime has faster kernels for these on some targets
  // (tlm-use-ukernels); the body above is the product everywhere else.
  std::string format = q8 ? "q8_0" : "q4_0";
  if (panels)
    format += "x16";
  product.getDefiningOp()->setAttr(kUKernelAttr, b.getStringAttr(format));
  return product;
}

Value tlmc::buildGGMLBlockLookup(OpBuilder &b, Location loc, Value tokens,
                                 Value weights,
                                 compress::QuantizedWeightOp weight,
                                 const WeightSlot &blocks,
                                 RankedTensorType resultType, bool panels) {
  Value table = loadWeightSlot(b, loc, weights, blocks);
  bool q8 = weight.getBits() == 8;
  int64_t groups = weight.getColumns() / 32, bytes = blockBytes(weight);
  return buildRowLookup(
      b, loc, tokens, resultType,
      [&](OpBuilder &nb, Location nl, Value row, Value col) -> Value {
        Type i16 = nb.getI16Type(), i32 = nb.getI32Type();
        auto index = [&](int64_t v) {
          return arith::ConstantIndexOp::create(nb, nl, v).getResult();
        };
        auto i32c = [&](int64_t v) {
          return arith::ConstantIntOp::create(nb, nl, i32, v).getResult();
        };
        auto add = [&](Value x, Value y) -> Value {
          return arith::AddIOp::create(nb, nl, x, y);
        };
        auto mul = [&](Value x, int64_t y) -> Value {
          return arith::MulIOp::create(nb, nl, x, index(y));
        };
        auto div = [&](Value x, int64_t y) -> Value {
          return arith::DivUIOp::create(nb, nl, x, index(y));
        };
        auto rem = [&](Value x, int64_t y) -> Value {
          return arith::RemUIOp::create(nb, nl, x, index(y));
        };
        auto byteAt = [&](Value at) -> Value {
          return arith::ExtUIOp::create(
              nb, nl, i32, tensor::ExtractOp::create(nb, nl, table, ValueRange{at}));
        };
        // Where the value's f16 scale is, and the value's byte and whether
        // it is the byte's high nibble (Q4_0) or the whole byte (Q8_0).
        Value scaleAt, valueAt, highNibble;
        if (!panels) {
          // The file's blocks: the scale, then 32 int8 or 16 bytes whose
          // low nibbles are values 0..15 and high nibbles 16..31.
          Value j = rem(col, 32);
          scaleAt = add(mul(row, groups * bytes), mul(div(col, 32), bytes));
          Value first = add(scaleAt, index(2));
          valueAt = add(first, q8 ? j : rem(j, 16));
          highNibble = arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::uge,
                                             j, index(16));
        } else {
          // Panels (GGMLPanels.h): panel, block, then the value's column
          // group (Q4_0: of the low or high nibbles), row, column in group.
          int64_t weightBytes = q8 ? 512 : 256;
          int64_t blockBytes = weightBytes + 2 * kPanelRows;
          Value blockBase = add(mul(div(row, kPanelRows), groups * blockBytes),
                                mul(div(col, 32), blockBytes));
          Value r = rem(row, kPanelRows), j = rem(col, 32);
          Value group = div(q8 ? j : rem(j, 16), 4);
          scaleAt = add(add(blockBase, index(weightBytes)), mul(r, 2));
          valueAt = add(add(blockBase, mul(group, 64)),
                        add(mul(r, 4), rem(j, 4)));
          highNibble = arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::uge,
                                             j, index(16));
        }
        // The f16 scale, little-endian.
        Value lo = arith::TruncIOp::create(nb, nl, i16, byteAt(scaleAt));
        Value hi = arith::TruncIOp::create(nb, nl, i16,
                                           byteAt(add(scaleAt, index(1))));
        Value bits = arith::OrIOp::create(
            nb, nl, lo,
            arith::ShLIOp::create(
                nb, nl, hi, arith::ConstantIntOp::create(nb, nl, i16, 8)));
        Value half = arith::BitcastOp::create(nb, nl, nb.getF16Type(), bits);
        Value scale = arith::ExtFOp::create(nb, nl, nb.getF32Type(), half);
        Value byte = byteAt(valueAt), q;
        if (q8) {
          // The file's int8, or w + 128 in panels.
          q = panels ? arith::SubIOp::create(nb, nl, byte, i32c(128))
                              .getResult()
                        : arith::ExtSIOp::create(
                              nb, nl, i32,
                              arith::TruncIOp::create(nb, nl, nb.getI8Type(),
                                                      byte))
                              .getResult();
        } else {
          Value nibble = arith::SelectOp::create(
              nb, nl, highNibble, arith::ShRUIOp::create(nb, nl, byte, i32c(4)),
              arith::AndIOp::create(nb, nl, byte, i32c(15)));
          q = arith::SubIOp::create(nb, nl, nibble, i32c(8));
        }
        return arith::MulFOp::create(
                   nb, nl, arith::SIToFPOp::create(nb, nl, nb.getF32Type(), q),
                   scale)
            .getResult();
      });
}
