//===- ParallelizeRows.cpp - split products across runtime threads ---*- C++ -*-===//
//
// Outlines each large matrix product into a kernel over a range of output
// features and calls the runtime's parallel-for on it. After arena planning
// every operand is a view at a constant offset of the weights or the arena,
// so all kernels of a model share one signature (weights, arena, begin, end)
// and the runtime needs a single entry point for them.
//
//===----------------------------------------------------------------------===//

#include "codegen/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/IRMapping.h"

namespace tlmc {
#define GEN_PASS_DEF_TLMPARALLELIZEROWS
#include "codegen/Passes.h.inc"
} // namespace tlmc

using namespace mlir;
using namespace tlmc;

namespace {

constexpr llvm::StringLiteral kParallelForName = "tlmrt_parallel_for";

/// The constant-offset view of function argument `argIndex` that `value`
/// is, or null.
memref::ViewOp getArgumentView(Value value, func::FuncOp fn) {
  auto view = value.getDefiningOp<memref::ViewOp>();
  if (!view || !view.getSizes().empty())
    return {};
  auto arg = dyn_cast<BlockArgument>(view.getSource());
  if (!arg || arg.getOwner() != &fn.getBody().front() || arg.getArgNumber() > 1)
    return {};
  if (!view.getByteShift().getDefiningOp<arith::ConstantIndexOp>())
    return {};
  return view;
}

struct TLMParallelizeRowsPass
    : tlmc::impl::TLMParallelizeRowsBase<TLMParallelizeRowsPass> {
  using Base::Base;

  /// Declares tlmrt_parallel_for for kernels of `kernelType`.
  func::FuncOp getParallelFor(ModuleOp module, FunctionType kernelType) {
    if (auto existing = module.lookupSymbol<func::FuncOp>(kParallelForName))
      return existing;
    MLIRContext *ctx = module.getContext();
    auto type = FunctionType::get(
        ctx,
        {LLVM::LLVMPointerType::get(ctx), kernelType, kernelType.getInput(0),
         kernelType.getInput(1), IndexType::get(ctx)},
        {});
    OpBuilder b(module.getBodyRegion());
    auto decl = func::FuncOp::create(b, module.getLoc(), kParallelForName, type);
    decl.setPrivate();
    return decl;
  }

  LogicalResult outline(func::FuncOp fn, linalg::GenericOp op, int index) {
    if (op.getNumDpsInputs() != 2 || op.getNumDpsInits() != 1)
      return success();
    Value x = op.getDpsInputs()[0], w = op.getDpsInputs()[1],
          y = op.getDpsInits()[0];
    memref::ViewOp xv = getArgumentView(x, fn), wv = getArgumentView(w, fn),
                   yv = getArgumentView(y, fn);
    if (!xv || !wv || !yv)
      return success(); // not a planned product; leave it inline
    auto wType = cast<MemRefType>(w.getType());
    auto yType = cast<MemRefType>(y.getType());
    int64_t features = wType.getDimSize(0), inner = wType.getDimSize(1);
    if (features * inner * yType.getDimSize(0) < minWork)
      return success();

    ModuleOp module = fn->getParentOfType<ModuleOp>();
    MLIRContext *ctx = fn.getContext();
    Type weightsType = fn.getArgument(0).getType();
    Type arenaType = fn.getArgument(1).getType();
    Type indexType = IndexType::get(ctx);
    auto kernelType = FunctionType::get(
        ctx, {weightsType, arenaType, indexType, indexType}, {});

    // The kernel: rebuild the views from its own arguments, narrow the
    // weight rows and output columns to [begin, end), run the product.
    OpBuilder mb(module.getBodyRegion());
    mb.setInsertionPointAfter(fn);
    std::string name = (fn.getSymName() + "_rows" + Twine(index)).str();
    auto kernel = func::FuncOp::create(mb, op.getLoc(), name, kernelType);
    kernel.setPrivate();
    OpBuilder b = OpBuilder::atBlockBegin(kernel.addEntryBlock());
    Location loc = op.getLoc();
    auto rebuild = [&](memref::ViewOp view) -> Value {
      auto arg = cast<BlockArgument>(view.getSource());
      Value shift = arith::ConstantIndexOp::create(
          b, loc,
          view.getByteShift().getDefiningOp<arith::ConstantIndexOp>().value());
      return memref::ViewOp::create(b, loc, view.getType(),
                                    kernel.getArgument(arg.getArgNumber()),
                                    shift, ValueRange{});
    };
    Value begin = kernel.getArgument(2), end = kernel.getArgument(3);
    Value count = arith::SubIOp::create(b, loc, end, begin);
    OpFoldResult zero = b.getIndexAttr(0), one = b.getIndexAttr(1);
    Value kx = rebuild(xv);
    Value kw = memref::SubViewOp::create(
        b, loc, rebuild(wv), ArrayRef<OpFoldResult>{begin, zero},
        ArrayRef<OpFoldResult>{count, b.getIndexAttr(inner)},
        ArrayRef<OpFoldResult>{one, one});
    Value ky = memref::SubViewOp::create(
        b, loc, rebuild(yv), ArrayRef<OpFoldResult>{zero, begin},
        ArrayRef<OpFoldResult>{b.getIndexAttr(yType.getDimSize(0)), count},
        ArrayRef<OpFoldResult>{one, one});
    auto product = linalg::GenericOp::create(
        b, loc, TypeRange{}, ValueRange{kx, kw}, ValueRange{ky},
        op.getIndexingMapsArray(), op.getIteratorTypesArray());
    IRMapping mapping;
    op.getRegion().cloneInto(&product.getRegion(), mapping);
    func::ReturnOp::create(b, loc);

    // The call site.
    func::FuncOp parallelFor = getParallelFor(module, kernelType);
    if (parallelFor.getFunctionType().getInput(1) != kernelType)
      return op.emitOpError("kernels of one module must share a signature");
    OpBuilder cb(op);
    Value fnPtr = func::ConstantOp::create(cb, loc, kernelType,
                                           SymbolRefAttr::get(kernel));
    Value n = arith::ConstantIndexOp::create(cb, loc, features);
    func::CallOp::create(cb, loc, parallelFor,
                         ValueRange{fn.getArguments().back(), fnPtr,
                                    fn.getArgument(0), fn.getArgument(1), n});
    op.erase();
    ++numKernels;
    return success();
  }

  void runOnOperation() override {
    SmallVector<func::FuncOp> entries;
    for (auto fn : getOperation().getOps<func::FuncOp>())
      if (!fn.isExternal() && !fn.isPrivate())
        entries.push_back(fn);
    for (func::FuncOp fn : entries) {
      if (fn.getNumArguments() != 6 ||
          !isa<LLVM::LLVMPointerType>(fn.getArguments().back().getType())) {
        fn.emitOpError("expected the planned entry ABI (run tlm-plan-arena)");
        return signalPassFailure();
      }
      SmallVector<linalg::GenericOp> products;
      fn.walk([&](linalg::GenericOp op) {
        if (op->hasAttr(kParallelRowsAttr))
          products.push_back(op);
      });
      int index = 0;
      for (linalg::GenericOp op : products)
        if (failed(outline(fn, op, index++)))
          return signalPassFailure();
    }
  }
};

} // namespace
