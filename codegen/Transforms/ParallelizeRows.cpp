//===- ParallelizeRows.cpp - split products across runtime threads ---*- C++ -*-===//
//
// Outlines each large matrix product into a kernel over a range of output
// features, and each loop marked parallel (attention's heads) into a kernel
// over a range of its iterations, and calls the runtime's parallel-for on
// it. After arena planning every buffer is a view at a constant offset of
// the weights or the arena (a layer function's KV caches are arguments that
// every caller passes as the same arena view), so all kernels of a model
// share one signature (weights, arena, begin, end, two index scalars: the
// position and the layer of attention) and the runtime needs a single entry
// point for them.
//
//===----------------------------------------------------------------------===//

#include "codegen/Passes.h"
#include "codegen/Transforms/PlannedViews.h"

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

/// Values a kernel takes besides its range, as index arguments.
constexpr unsigned kKernelScalars = 2;

struct TLMParallelizeRowsPass
    : tlmc::impl::TLMParallelizeRowsBase<TLMParallelizeRowsPass> {
  using Base::Base;

  /// (weights, arena, begin, end, scalars...) of `fn`'s kernels.
  static FunctionType getKernelType(func::FuncOp fn) {
    MLIRContext *ctx = fn.getContext();
    SmallVector<Type> inputs = {fn.getArgument(0).getType(),
                                fn.getArgument(1).getType()};
    inputs.append(2 + kKernelScalars, IndexType::get(ctx));
    return FunctionType::get(ctx, inputs, {});
  }

  /// An empty private kernel `name` after `fn`, its entry block started.
  static func::FuncOp createKernel(func::FuncOp fn, StringRef name,
                                   Location loc) {
    OpBuilder mb(fn->getParentOfType<ModuleOp>().getBodyRegion());
    mb.setInsertionPointAfter(fn);
    auto kernel = func::FuncOp::create(mb, loc, name, getKernelType(fn));
    kernel.setPrivate();
    kernel.addEntryBlock();
    return kernel;
  }

  /// view<type>(kernel argument, offset) at b.
  static Value rebuildView(OpBuilder &b, Location loc, func::FuncOp kernel,
                           const PlannedView &view) {
    Value shift = arith::ConstantIndexOp::create(b, loc, view.offset);
    return memref::ViewOp::create(b, loc, view.type,
                                  kernel.getArgument(view.argument), shift,
                                  ValueRange{});
  }

  /// Replaces nothing: calls the runtime's parallel-for on `kernel` over
  /// [0, count) in ranges at multiples of `grain` before `at`, with
  /// `scalars` (padded with zeros).
  LogicalResult callParallelFor(Operation *at, func::FuncOp fn,
                                func::FuncOp kernel, int64_t count,
                                int64_t grain, ValueRange scalars) {
    ModuleOp module = fn->getParentOfType<ModuleOp>();
    FunctionType kernelType = kernel.getFunctionType();
    func::FuncOp parallelFor = getParallelFor(module, kernelType);
    if (parallelFor.getFunctionType().getInput(1) != kernelType)
      return at->emitOpError("kernels of one module must share a signature");
    OpBuilder cb(at);
    Location loc = at->getLoc();
    Value fnPtr = func::ConstantOp::create(cb, loc, kernelType,
                                           SymbolRefAttr::get(kernel));
    SmallVector<Value> operands = {
        fn.getArguments().back(), fnPtr, fn.getArgument(0), fn.getArgument(1),
        arith::ConstantIndexOp::create(cb, loc, count),
        arith::ConstantIndexOp::create(cb, loc, grain)};
    operands.append(scalars.begin(), scalars.end());
    while (operands.size() < 6 + kKernelScalars)
      operands.push_back(arith::ConstantIndexOp::create(cb, loc, 0));
    func::CallOp::create(cb, loc, parallelFor, operands);
    return success();
  }

  /// Declares tlmrt_parallel_for for kernels of `kernelType`.
  func::FuncOp getParallelFor(ModuleOp module, FunctionType kernelType) {
    if (auto existing = module.lookupSymbol<func::FuncOp>(kParallelForName))
      return existing;
    MLIRContext *ctx = module.getContext();
    SmallVector<Type> inputs = {LLVM::LLVMPointerType::get(ctx), kernelType,
                                kernelType.getInput(0), kernelType.getInput(1)};
    inputs.append(2 + kKernelScalars, IndexType::get(ctx)); // count, grain
    auto type = FunctionType::get(ctx, inputs, {});
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

    // The kernel: rebuild the views from its own arguments, narrow what
    // depends on the output feature to [begin, end), run the product.
    std::string name = (fn.getSymName() + "_rows" + Twine(index)).str();
    Location loc = op.getLoc();
    func::FuncOp kernel = createKernel(fn, name, loc);
    OpBuilder b = OpBuilder::atBlockBegin(&kernel.getBody().front());
    auto rebuild = [&](memref::ViewOp view) -> Value {
      return rebuildView(b, loc, kernel, *getPlannedView(view, fn));
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

    // Weights packed in 16-row panels are split at panel boundaries.
    int64_t grain = 1;
    if (auto format = op->getAttrOfType<StringAttr>(kUKernelAttr);
        format && format.getValue().ends_with("x16"))
      grain = 16;
    if (failed(callParallelFor(op, fn, kernel, features, grain, {})))
      return failure();
    op.erase();
    ++numKernels;
    return success();
  }

  /// Outlines parallel loop `loop` of `fn` into a kernel over a range of
  /// its iterations. What the body reads from outside must be constants,
  /// planned views, views every caller passes, or at most kKernelScalars
  /// index values (handed to the kernel as arguments).
  LogicalResult outlineLoop(func::FuncOp fn, scf::ForOp loop, int index) {
    std::optional<int64_t> lower = getConstantIntValue(loop.getLowerBound());
    std::optional<int64_t> upper = getConstantIntValue(loop.getUpperBound());
    std::optional<int64_t> step = getConstantIntValue(loop.getStep());
    if (!lower || *lower != 0 || !upper || !step || *step != 1 ||
        loop.getNumResults() != 0)
      return loop.emitOpError("tlm-parallelize-rows: a parallel loop must "
                              "run from 0 to a constant in steps of 1");
    if (*upper < 2)
      return success();
    auto leaveSerial = [&](StringRef what) {
      ++numSerial;
      loop.emitWarning("tlm-parallelize-rows: a parallel loop stays on one "
                       "thread: it reads ")
          << what;
      return success();
    };
    ModuleOp module = fn->getParentOfType<ModuleOp>();
    SetVector<Value> captured;
    getUsedValuesDefinedAbove(loop.getRegion(), captured);
    SmallVector<Value> scalars;
    DenseMap<Value, PlannedView> views;
    for (Value v : captured) {
      Operation *def = v.getDefiningOp();
      if (def && def->hasTrait<OpTrait::ConstantLike>())
        continue;
      std::optional<PlannedView> view = getPlannedView(v, fn);
      if (!view)
        view = getPassedView(v, fn, module);
      if (view)
        views[v] = *view;
      else if (v.getType().isIndex() && scalars.size() < kKernelScalars)
        scalars.push_back(v);
      else
        return leaveSerial("a value a kernel cannot rebuild");
    }

    std::string name = (fn.getSymName() + "_loop" + Twine(index)).str();
    Location loc = loop.getLoc();
    func::FuncOp kernel = createKernel(fn, name, loc);
    OpBuilder b = OpBuilder::atBlockBegin(&kernel.getBody().front());
    IRMapping mapping;
    for (Value v : captured) {
      if (auto it = views.find(v); it != views.end())
        mapping.map(v, rebuildView(b, loc, kernel, it->second));
      else if (Operation *def = v.getDefiningOp();
               def && def->hasTrait<OpTrait::ConstantLike>())
        mapping.map(v, b.clone(*def)->getResult(0));
    }
    for (auto [i, scalar] : llvm::enumerate(scalars))
      mapping.map(scalar, kernel.getArgument(4 + i));
    auto range = scf::ForOp::create(b, loc, kernel.getArgument(2),
                                    kernel.getArgument(3),
                                    arith::ConstantIndexOp::create(b, loc, 1));
    mapping.map(loop.getInductionVar(), range.getInductionVar());
    b.setInsertionPointToStart(range.getBody());
    for (Operation &op : loop.getBody()->without_terminator())
      b.clone(op, mapping);
    b.setInsertionPointAfter(range);
    func::ReturnOp::create(b, loc);

    if (failed(callParallelFor(loop, fn, kernel, *upper, /*grain=*/1,
                               scalars)))
      return failure();
    loop.erase();
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
      SmallVector<scf::ForOp> loops;
      fn.walk([&](Operation *op) {
        if (auto generic = dyn_cast<linalg::GenericOp>(op);
            generic && generic->hasAttr(kParallelRowsAttr))
          products.push_back(generic);
        if (auto loop = dyn_cast<scf::ForOp>(op);
            loop && loop->hasAttr(kParallelLoopAttr))
          loops.push_back(loop);
      });
      int index = 0;
      for (linalg::GenericOp op : products)
        if (failed(outline(fn, op, index++)))
          return signalPassFailure();
      index = 0;
      for (scf::ForOp loop : loops)
        if (failed(outlineLoop(fn, loop, index++)))
          return signalPassFailure();
    }
  }
};

} // namespace
