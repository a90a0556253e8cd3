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
#include "mlir/Transforms/RegionUtils.h"

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
    // Output features are iteration dimension 1; every operand whose
    // indexing map reads it is narrowed along that result's dimension.
    if (op.getNumDpsInits() != 1 || op.getNumLoops() < 2)
      return success();
    SmallVector<int64_t> bounds = op.getStaticLoopRanges();
    int64_t work = 1;
    for (int64_t b : bounds)
      work *= ShapedType::isDynamic(b) ? 1 : b;
    // Sparse products loop inside the body: count the stored weights.
    if (auto nnz = op->getAttrOfType<IntegerAttr>(kParallelWorkAttr))
      work = nnz.getInt() * bounds[0];
    if (work < minWork)
      return success();

    // A product that reads anything but constant-offset views of the
    // weights and the arena (or constants) cannot be rebuilt in a kernel.
    // It stays on one thread, correct but slow: say so, loudly, since the
    // planned pipeline never produces one (a lost thread is a bug).
    auto leaveSerial = [&](StringRef what) {
      ++numSerial;
      op.emitWarning("tlm-parallelize-rows: a product of ")
          << work << " multiply-adds stays on one thread: it reads " << what;
      return success();
    };
    SmallVector<memref::ViewOp> views;
    for (OpOperand &operand : op->getOpOperands()) {
      memref::ViewOp view = getArgumentView(operand.get(), fn);
      if (!view)
        return leaveSerial("a buffer that is not a planned view");
      views.push_back(view);
    }
    SetVector<Value> captured;
    getUsedValuesDefinedAbove(op.getRegion(), captured);
    for (Value v : captured) {
      Operation *def = v.getDefiningOp();
      if (!def || (!def->hasTrait<OpTrait::ConstantLike>() &&
                   !getArgumentView(v, fn)))
        return leaveSerial("a value a kernel cannot rebuild");
    }
    auto yType = cast<MemRefType>(op.getDpsInits()[0].getType());
    int64_t features = yType.getDimSize(1);

    ModuleOp module = fn->getParentOfType<ModuleOp>();
    MLIRContext *ctx = fn.getContext();
    Type weightsType = fn.getArgument(0).getType();
    Type arenaType = fn.getArgument(1).getType();
    Type indexType = IndexType::get(ctx);
    auto kernelType = FunctionType::get(
        ctx, {weightsType, arenaType, indexType, indexType}, {});

    // The kernel: rebuild the views from its own arguments, narrow what
    // depends on the output feature to [begin, end), run the product.
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
    auto narrow = [&](Value full, AffineMap map) -> Value {
      auto type = cast<MemRefType>(full.getType());
      std::optional<unsigned> dim;
      for (unsigned r = 0; r < map.getNumResults(); ++r)
        if (map.getResult(r) == b.getAffineDimExpr(1))
          dim = r;
      if (!dim)
        return full;
      SmallVector<OpFoldResult> offsets(type.getRank(), zero), sizes,
          strides(type.getRank(), one);
      for (int64_t d : type.getShape())
        sizes.push_back(b.getIndexAttr(d));
      offsets[*dim] = begin;
      sizes[*dim] = count;
      return memref::SubViewOp::create(b, loc, full, offsets, sizes, strides);
    };
    SmallVector<AffineMap> maps = op.getIndexingMapsArray();
    SmallVector<Value> ins;
    for (size_t i = 0; i + 1 < views.size(); ++i)
      ins.push_back(narrow(rebuild(views[i]), maps[i]));
    Value out = narrow(rebuild(views.back()), maps.back());
    // Canonicalization hoists the body's constants into the function, and
    // sparse bodies read whole weight buffers: bring them along.
    IRMapping mapping;
    for (Value v : captured) {
      if (memref::ViewOp view = getArgumentView(v, fn))
        mapping.map(v, rebuild(view));
      else
        mapping.map(v, b.clone(*v.getDefiningOp())->getResult(0));
    }
    auto product = linalg::GenericOp::create(
        b, loc, TypeRange{}, ins, ValueRange{out}, maps,
        op.getIteratorTypesArray());
    op.getRegion().cloneInto(&product.getRegion(), mapping);
    // A runtime kernel may still compute it (tlm-use-ukernels).
    if (Attribute ukernel = op->getAttr(kUKernelAttr))
      product->setAttr(kUKernelAttr, ukernel);
    // The kernel iterates features [0, count) of narrowed operands; a body
    // that asks for its feature index gets the one it had inline.
    product.walk([&](linalg::IndexOp index) {
      if (index.getDim() != 1)
        return;
      OpBuilder ib(index);
      ib.setInsertionPointAfter(index);
      auto absolute = arith::AddIOp::create(ib, loc, index, begin);
      index.getResult().replaceAllUsesExcept(absolute, absolute);
    });
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
    // Entry points and the layer functions they call: both take (weights,
    // arena, ..., ctx) once planned.
    SmallVector<func::FuncOp> functions;
    for (auto fn : getOperation().getOps<func::FuncOp>())
      if (!fn.isExternal() && (!fn.isPrivate() || fn->hasAttr(kLayerAttr)))
        functions.push_back(fn);
    for (func::FuncOp fn : functions) {
      bool entry = !fn.isPrivate();
      if ((entry && fn.getNumArguments() != 6) || fn.getNumArguments() < 3 ||
          !isa<LLVM::LLVMPointerType>(fn.getArguments().back().getType())) {
        fn.emitOpError("expected the planned ABI (run tlm-plan-arena)");
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
