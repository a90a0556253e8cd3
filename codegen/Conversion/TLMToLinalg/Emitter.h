//===- Emitter.h - shorthands for the generated arithmetic ---------*- C++
//-*-===//

#ifndef TLMC_CODEGEN_CONVERSION_TLMTOLINALG_EMITTER_H
#define TLMC_CODEGEN_CONVERSION_TLMTOLINALG_EMITTER_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StructuredOpsUtils.h"
#include "mlir/IR/Builders.h"

namespace tlmc {

/// Shorthands for building the generated arithmetic.
struct Emitter {
  using IteratorType = mlir::utils::IteratorType;

  mlir::OpBuilder &b;
  mlir::Location loc;

  mlir::Value f32(double v) {
    return mlir::arith::ConstantOp::create(b, loc, b.getF32FloatAttr(v));
  }
  mlir::Value index(int64_t v) {
    return mlir::arith::ConstantIndexOp::create(b, loc, v);
  }
  mlir::Value add(mlir::Value x, mlir::Value y) {
    return mlir::arith::AddFOp::create(b, loc, x, y);
  }
  /// Index arithmetic.
  mlir::Value addIndex(mlir::Value x, mlir::Value y) {
    return mlir::arith::AddIOp::create(b, loc, x, y);
  }
  mlir::Value subIndex(mlir::Value x, mlir::Value y) {
    return mlir::arith::SubIOp::create(b, loc, x, y);
  }
  mlir::Value mulIndex(mlir::Value x, mlir::Value y) {
    return mlir::arith::MulIOp::create(b, loc, x, y);
  }
  mlir::Value sub(mlir::Value x, mlir::Value y) {
    return mlir::arith::SubFOp::create(b, loc, x, y);
  }
  mlir::Value mul(mlir::Value x, mlir::Value y) {
    return mlir::arith::MulFOp::create(b, loc, x, y);
  }
  mlir::Value div(mlir::Value x, mlir::Value y) {
    return mlir::arith::DivFOp::create(b, loc, x, y);
  }
  /// Extends an f16/bf16 weight element to f32.
  mlir::Value toF32(mlir::Value v) {
    if (v.getType().isF32())
      return v;
    return mlir::arith::ExtFOp::create(b, loc, b.getF32Type(), v);
  }
  mlir::Value emptyF32(llvm::ArrayRef<int64_t> shape) {
    return mlir::tensor::EmptyOp::create(b, loc, shape, b.getF32Type());
  }
  mlir::Value zeros(llvm::ArrayRef<int64_t> shape) {
    return mlir::linalg::FillOp::create(b, loc, mlir::ValueRange{f32(0.0)},
                                        mlir::ValueRange{emptyF32(shape)})
        .getResult(0);
  }
  /// `tensor` as a read-only buffer, for ops lowered to loops on buffers
  /// (attention, RoPE's vector rotation).
  mlir::Value readOnlyBuffer(mlir::Value tensor) {
    auto type = mlir::cast<mlir::RankedTensorType>(tensor.getType());
    return mlir::bufferization::ToBufferOp::create(
        b, loc,
        mlir::MemRefType::get(type.getShape(), type.getElementType()), tensor,
        /*read_only=*/true);
  }
  /// An elementwise generic over a 2-D result shaped like `shape`.
  mlir::Value
  elementwise(llvm::ArrayRef<int64_t> shape, mlir::ValueRange inputs,
              llvm::function_ref<mlir::Value(mlir::ValueRange)> body) {
    llvm::SmallVector<mlir::AffineMap> maps(inputs.size() + 1,
                                            b.getMultiDimIdentityMap(2));
    llvm::SmallVector<IteratorType> iterators(2, IteratorType::parallel);
    return mlir::linalg::GenericOp::create(
               b, loc,
               mlir::TypeRange{
                   mlir::RankedTensorType::get(shape, b.getF32Type())},
               inputs, mlir::ValueRange{emptyF32(shape)}, maps, iterators,
               [&](mlir::OpBuilder &nb, mlir::Location nl,
                   mlir::ValueRange args) {
                 mlir::Value out = body(args.drop_back());
                 mlir::linalg::YieldOp::create(nb, nl, out);
               })
        .getResult(0);
  }
};

} // namespace tlmc

#endif // TLMC_CODEGEN_CONVERSION_TLMTOLINALG_EMITTER_H
