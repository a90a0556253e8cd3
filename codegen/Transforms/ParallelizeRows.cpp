//===- ParallelizeRows.cpp - split products across runtime threads ---*- C++ -*-===//
//
// Outlines each large matrix product into a kernel over a range of output
// features, and each loop marked parallel (attention's heads) into a kernel
// over a range of its iterations, and calls the runtime's parallel-for on
// it. After arena planning every buffer is a view at a constant offset of
// the weights or the arena (a layer function's KV caches are arguments that
// every caller passes as the same arena view), so all kernels of a model
// share one signature (weights, arena, begin, end, two index scalars: the
// position and the layer of attention, or the arena offsets of a layer's
// input and output, whose places change from call to call) and the runtime
// needs a single entry point for them.
//
//===----------------------------------------------------------------------===//

#include "codegen/Passes.h"
#include "codegen/Transforms/PlannedViews.h"
#include "codegen/Transforms/ProductEpilogues.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Transforms/RegionUtils.h"
#include "llvm/ADT/MapVector.h"

#include <functional>
#include <numeric>

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

  /// The byte offsets in `fn`'s arena of `arguments` (memref arguments the
  /// callers pass as arena views), computed before `at`: how a kernel
  /// finds a buffer whose place changes from call to call.
  static SmallVector<Value> getArenaOffsets(Operation *at, func::FuncOp fn,
                                            ArrayRef<Value> arguments) {
    OpBuilder cb(at);
    Location loc = at->getLoc();
    Value arena =
        memref::ExtractAlignedPointerAsIndexOp::create(cb, loc, fn.getArgument(1));
    SmallVector<Value> offsets;
    for (Value argument : arguments)
      offsets.push_back(arith::SubIOp::create(
          cb, loc,
          memref::ExtractAlignedPointerAsIndexOp::create(cb, loc, argument),
          arena));
    return offsets;
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

  /// A product a kernel can compute: the planned views it reads and
  /// writes (inputs, then the output) and what its body captures.
  struct OutlinableProduct {
    Operation *op = nullptr; // a linalg.generic
    int64_t work = 0;
    int64_t features = 0;
    int64_t grain = 1;
    SmallVector<PlannedView> views;
    SetVector<Value> captured;
    /// The buffers it reads: its inputs and the views its body loads from
    /// (the GGML block products read both weights and activations there).
    SmallVector<PlannedView> reads;
  };

  /// Where a kernel finds one of an epilogue's buffers: a planned view, or
  /// a layer argument the callers pass as different arena views (the
  /// layer's input and output), from its byte offset in the arena, which
  /// the call hands over as scalar `scalar`.
  struct EpilogueBuffer {
    std::optional<PlannedView> fixed;
    unsigned scalar = 0;
    MemRefType type;
  };

  /// A group's epilogue (ProductEpilogues.h) as the kernel computes it.
  struct OutlinableEpilogue {
    linalg::GenericOp op;
    /// Its output copied into a layer argument right before the return
    /// (bufferization's out-parameter): it writes there instead.
    memref::CopyOp copyOut;
    /// Its operands' buffers in order, the output last.
    SmallVector<EpilogueBuffer> buffers;
    /// The layer arguments whose offsets the call passes (%s0, %s1).
    SmallVector<Value> scalarArguments;
    /// Whether it reads every product of a group of several (SwiGLU on
    /// gate and up): the job then runs over their common features, each
    /// range computing its part of every product, then the epilogue on it.
    bool zipped = false;
  };

  /// `group`'s epilogue, if a kernel can run it on each range of the
  /// group's features after the products: what it reads and writes is
  /// found as EpilogueBuffers, it writes nothing the products read and
  /// reads nothing they write other than their outputs element by element
  /// (writing one of those in place is fine: a range is one thread's), and
  /// in a group of several it reads every output and all are as wide.
  std::optional<OutlinableEpilogue>
  analyzeEpilogue(func::FuncOp fn, ArrayRef<OutlinableProduct> group) {
    linalg::GenericOp op =
        findProductEpilogue(cast<linalg::GenericOp>(group.back().op));
    if (!op)
      return std::nullopt;
    ModuleOp module = fn->getParentOfType<ModuleOp>();
    OutlinableEpilogue epilogue;
    epilogue.op = op;
    int64_t features =
        cast<MemRefType>(op.getDpsInits()[0].getType()).getDimSize(1);
    // The views each buffer may be, for the overlap checks below.
    SmallVector<SmallVector<PlannedView, 1>> places;
    auto resolve = [&](Value v) -> bool {
      EpilogueBuffer buffer;
      buffer.type = cast<MemRefType>(v.getType());
      if (std::optional<PlannedView> view = getPlannedView(v, fn)) {
        buffer.fixed = view;
        places.push_back({*view});
      } else if (auto passed = getPassedArenaViews(v, fn, module)) {
        auto *known = llvm::find(epilogue.scalarArguments, v);
        if (known == epilogue.scalarArguments.end()) {
          if (epilogue.scalarArguments.size() == kKernelScalars)
            return false;
          epilogue.scalarArguments.push_back(v);
          known = std::prev(epilogue.scalarArguments.end());
        }
        buffer.scalar = known - epilogue.scalarArguments.begin();
        places.push_back(SmallVector<PlannedView, 1>(passed->begin(),
                                                     passed->end()));
      } else {
        return false;
      }
      epilogue.buffers.push_back(buffer);
      return true;
    };
    for (OpOperand *operand : op.getDpsInputOperands())
      if (!resolve(operand->get()))
        return std::nullopt;
    // The output, or the layer argument it is copied to before returning
    // (when the body does not read the output's old value).
    Value out = op.getDpsInits()[0];
    if (auto copy = dyn_cast_or_null<memref::CopyOp>(
            skipEffectFreeOps(op->getNextNode()))) {
      Operation *after = skipEffectFreeOps(copy->getNextNode());
      BlockArgument init =
          op.getRegion().front().getArguments().back();
      if (copy.getSource() == out && isa_and_nonnull<func::ReturnOp>(after) &&
          copy.getTarget().getType() == out.getType() && init.use_empty() &&
          getPlannedView(out, fn) &&
          getPassedArenaViews(copy.getTarget(), fn, module)) {
        epilogue.copyOut = copy;
        out = copy.getTarget();
      }
    }
    if (!resolve(out))
      return std::nullopt;

    // Which products' outputs it reads, element by element.
    SmallVector<bool> readsMember(group.size(), false);
    for (OpOperand *operand : op.getDpsInputOperands()) {
      if (getElementwiseAccess(op.getMatchingIndexingMap(operand)) !=
          ElementwiseAccess::Element)
        continue;
      const EpilogueBuffer &buffer =
          epilogue.buffers[operand->getOperandNumber()];
      for (auto [i, member] : llvm::enumerate(group))
        if (buffer.fixed && buffer.fixed->isSame(member.views.back()))
          readsMember[i] = true;
    }
    if (group.size() > 1) {
      if (!llvm::all_of(readsMember, [](bool b) { return b; }) ||
          !llvm::all_of(group, [&](const OutlinableProduct &member) {
            return member.features == features;
          }))
        return std::nullopt;
      epilogue.zipped = true;
    } else if (!readsMember[0] || group[0].features != features) {
      return std::nullopt;
    }
    // Against the products: reads only of their outputs as a whole, and
    // writes of nothing they read or write but an output in place.
    for (auto [index, operand] : llvm::enumerate(op->getOpOperands())) {
      bool written = op.isDpsInit(&operand);
      for (const PlannedView &place : places[index]) {
        for (const OutlinableProduct &member : group) {
          const PlannedView &output = member.views.back();
          if (place.overlaps(output) && !place.isSame(output))
            return std::nullopt;
          if (written && llvm::any_of(member.reads, [&](const PlannedView &r) {
                return r.overlaps(place);
              }))
            return std::nullopt;
        }
      }
    }
    return epilogue;
  }

  /// Computes `epilogue` on features [begin, end) at b, inside `kernel`:
  /// a loop over slices of kEpilogueColumns features, each the epilogue's
  /// generic on that slice (vectorized later, tlm-vectorize-elementwise).
  void emitEpilogue(OpBuilder &b, func::FuncOp kernel,
                    const OutlinableEpilogue &epilogue, Value begin,
                    Value end) {
    linalg::GenericOp op = epilogue.op;
    Location loc = op.getLoc();
    SmallVector<Value> buffers;
    for (const EpilogueBuffer &buffer : epilogue.buffers)
      buffers.push_back(
          buffer.fixed
              ? rebuildView(b, loc, kernel, *buffer.fixed)
              : memref::ViewOp::create(
                    b, loc, buffer.type, kernel.getArgument(1),
                    kernel.getArgument(4 + buffer.scalar), ValueRange{})
                    .getResult());
    IRMapping mapping;
    SetVector<Value> captured;
    getUsedValuesDefinedAbove(op.getRegion(), captured);
    for (Value v : captured)
      mapping.map(v, b.clone(*v.getDefiningOp())->getResult(0));
    auto slices = scf::ForOp::create(
        b, loc, begin, end,
        arith::ConstantIndexOp::create(b, loc, kEpilogueColumns));
    OpBuilder sb = OpBuilder::atBlockBegin(slices.getBody());
    Value column = slices.getInductionVar();
    OpFoldResult zero = sb.getIndexAttr(0), one = sb.getIndexAttr(1),
                 width = sb.getIndexAttr(kEpilogueColumns);
    SmallVector<Value> operands;
    for (OpOperand &operand : op->getOpOperands()) {
      Value full = buffers[operand.getOperandNumber()];
      auto type = cast<MemRefType>(full.getType());
      switch (*getElementwiseAccess(op.getMatchingIndexingMap(&operand))) {
      case ElementwiseAccess::Element:
        operands.push_back(memref::SubViewOp::create(
            sb, loc, full, {zero, column},
            {sb.getIndexAttr(type.getDimSize(0)), width}, {one, one}));
        break;
      case ElementwiseAccess::Column:
        operands.push_back(memref::SubViewOp::create(sb, loc, full, {column},
                                                     {width}, {one}));
        break;
      case ElementwiseAccess::Row:
        operands.push_back(full);
        break;
      }
    }
    auto slice = linalg::GenericOp::create(
        sb, loc, TypeRange{}, ArrayRef(operands).drop_back(),
        ValueRange{operands.back()}, op.getIndexingMapsArray(),
        op.getIteratorTypesArray());
    op.getRegion().cloneInto(&slice.getRegion(), mapping);
  }

  /// `op` as a product a kernel can compute, or nothing: not a product over
  /// output features, or (with a warning when it is large enough to split)
  /// one that reads what a kernel cannot rebuild.
  std::optional<OutlinableProduct> analyzeProduct(func::FuncOp fn,
                                                  linalg::GenericOp op) {
    // Output features are iteration dimension 1; every operand whose
    // indexing map reads it is narrowed along that result's dimension.
    if (op.getNumDpsInits() != 1 || op.getNumLoops() < 2)
      return std::nullopt;
    OutlinableProduct product;
    product.op = op;
    SmallVector<int64_t> bounds = op.getStaticLoopRanges();
    product.work = 1;
    for (int64_t b : bounds)
      product.work *= ShapedType::isDynamic(b) ? 1 : b;
    // Sparse products loop inside the body: count the stored weights.
    if (auto nnz = op->getAttrOfType<IntegerAttr>(kParallelWorkAttr))
      product.work = nnz.getInt() * bounds[0];

    // A product that reads anything but constant-offset views of the
    // weights and the arena (or constants) cannot be rebuilt in a kernel.
    // It stays on one thread, correct but slow: say so, loudly, since the
    // planned pipeline never produces one (a lost thread is a bug).
    auto leaveSerial = [&](StringRef what) -> std::optional<OutlinableProduct> {
      if (product.work < minWork)
        return std::nullopt;
      ++numSerial;
      op.emitWarning("tlm-parallelize-rows: a product of ")
          << product.work << " multiply-adds stays on one thread: it reads "
          << what;
      return std::nullopt;
    };
    for (OpOperand &operand : op->getOpOperands()) {
      std::optional<PlannedView> view = getPlannedView(operand.get(), fn);
      if (!view)
        return leaveSerial("a buffer that is not a planned view");
      product.views.push_back(*view);
    }
    getUsedValuesDefinedAbove(op.getRegion(), product.captured);
    for (Value v : product.captured) {
      Operation *def = v.getDefiningOp();
      std::optional<PlannedView> view = getPlannedView(v, fn);
      if (!def || (!def->hasTrait<OpTrait::ConstantLike>() && !view))
        return leaveSerial("a value a kernel cannot rebuild");
      if (view)
        product.reads.push_back(*view);
    }
    llvm::append_range(product.reads, ArrayRef(product.views).drop_back());
    product.features =
        cast<MemRefType>(op.getDpsInits()[0].getType()).getDimSize(1);
    // Weights packed in 16-row panels are split at panel boundaries.
    if (auto format = op->getAttrOfType<StringAttr>(kUKernelAttr);
        format && format.getValue().ends_with("x16"))
      product.grain = 16;
    return product;
  }

  /// Whether `next` can join `group` in one job, run where `next` is: it
  /// reads the same activations (the int8 kernels quantize them once for
  /// all), and every op from the group to `next`, `next` included, neither
  /// touches what the group writes nor writes what it reads, so the group
  /// can wait until `next` and run beside it.
  static bool canJoin(ArrayRef<OutlinableProduct> group,
                      const OutlinableProduct &next, func::FuncOp fn) {
    const OutlinableProduct &last = group.back();
    Operation *lastOp = last.op;
    // The activations they read (arena views), as operands or in the body.
    auto activations = [](const OutlinableProduct &product) {
      SmallVector<std::pair<int64_t, Type>> read;
      for (const PlannedView &view : product.reads)
        if (view.argument == 1)
          read.push_back({view.offset, view.type});
      llvm::stable_sort(read, [](const auto &a, const auto &b) {
        return a.first < b.first;
      });
      return read;
    };
    SmallVector<std::pair<int64_t, Type>> input = activations(group.front());
    if (lastOp->getBlock() != next.op->getBlock() || input.empty() ||
        input != activations(next))
      return false;
    SmallVector<PlannedView> reads, writes;
    for (const OutlinableProduct &member : group) {
      llvm::append_range(reads, member.reads);
      writes.push_back(member.views.back());
    }
    // `next` itself too: it must not write what the group reads or touch
    // what it writes, since they will run at the same time.
    for (Operation *op = lastOp->getNextNode(); op != next.op->getNextNode();
         op = op->getNextNode())
      if (!leavesAlone(op, reads, writes, fn))
        return false;
    // The job is split at the largest member's grain: every member must
    // start and end on it.
    int64_t grain = next.grain;
    for (const OutlinableProduct &member : group)
      grain = std::max(grain, member.grain);
    return next.features % grain == 0 &&
           llvm::all_of(group, [&](const OutlinableProduct &member) {
             return member.features % grain == 0;
           });
  }

  /// Builds `product` at b on output features [begin, begin + count) of
  /// its own, inside `kernel`.
  void emitNarrowedProduct(OpBuilder &b, func::FuncOp fn, func::FuncOp kernel,
                           const OutlinableProduct &product, Value begin,
                           Value count) {
    auto op = cast<linalg::GenericOp>(product.op);
    Location loc = op.getLoc();
    auto rebuild = [&](const PlannedView &view) -> Value {
      return rebuildView(b, loc, kernel, view);
    };
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
    for (size_t i = 0; i + 1 < product.views.size(); ++i)
      ins.push_back(narrow(rebuild(product.views[i]), maps[i]));
    Value out = narrow(rebuild(product.views.back()), maps.back());
    // Canonicalization hoists the body's constants into the function, and
    // sparse bodies read whole weight buffers: bring them along.
    IRMapping mapping;
    for (Value v : product.captured) {
      if (std::optional<PlannedView> view = getPlannedView(v, fn))
        mapping.map(v, rebuild(*view));
      else
        mapping.map(v, b.clone(*v.getDefiningOp())->getResult(0));
    }
    auto narrowed = linalg::GenericOp::create(
        b, loc, TypeRange{}, ins, ValueRange{out}, maps,
        op.getIteratorTypesArray());
    op.getRegion().cloneInto(&narrowed.getRegion(), mapping);
    // A runtime kernel may still compute it (tlm-use-ukernels).
    if (Attribute ukernel = op->getAttr(kUKernelAttr))
      narrowed->setAttr(kUKernelAttr, ukernel);
    // The kernel iterates features [0, count) of narrowed operands; a body
    // that asks for its feature index gets the one it had inline.
    narrowed.walk([&](linalg::IndexOp index) {
      if (index.getDim() != 1)
        return;
      OpBuilder ib(index);
      ib.setInsertionPointAfter(index);
      auto absolute = arith::AddIOp::create(ib, loc, index, begin);
      index.getResult().replaceAllUsesExcept(absolute, absolute);
    });
  }

  /// Outlines `group` (products that can share a job, canJoin) into one
  /// kernel over their output features one after another, called where
  /// the last of them was. A range that spans several products computes
  /// its part of each. With an epilogue, a range then runs it on the
  /// features it computed; a zipped epilogue's job runs over the products'
  /// common features instead, each range computing it in every product.
  LogicalResult outline(func::FuncOp fn, ArrayRef<OutlinableProduct> group,
                        const std::optional<OutlinableEpilogue> &epilogue,
                        int index) {
    int64_t work = 0, features = 0, grain = 1;
    for (const OutlinableProduct &member : group) {
      work += member.work;
      features += member.features;
      grain = std::max(grain, member.grain);
    }
    if (work < minWork)
      return success();
    if (epilogue) {
      grain = std::lcm(grain, kEpilogueColumns);
      if (epilogue->zipped)
        features = group.front().features;
    }
    std::string name = (fn.getSymName() + "_rows" + Twine(index)).str();
    Location loc = group.back().op->getLoc();
    func::FuncOp kernel = createKernel(fn, name, loc);
    OpBuilder b = OpBuilder::atBlockBegin(&kernel.getBody().front());
    Value begin = kernel.getArgument(2), end = kernel.getArgument(3);
    if (group.size() == 1 || (epilogue && epilogue->zipped)) {
      Value count = arith::SubIOp::create(b, loc, end, begin);
      for (const OutlinableProduct &member : group)
        emitNarrowedProduct(b, fn, kernel, member, begin, count);
    } else {
      // Each product's share of [begin, end): [max(begin, first),
      // min(end, first + features)) shifted to its own features.
      int64_t first = 0;
      for (const OutlinableProduct &member : group) {
        Value lo = arith::MaxSIOp::create(
            b, loc, begin, arith::ConstantIndexOp::create(b, loc, first));
        Value hi = arith::MinSIOp::create(
            b, loc, end,
            arith::ConstantIndexOp::create(b, loc, first + member.features));
        Value some =
            arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, lo, hi);
        auto ifOp = scf::IfOp::create(b, loc, some, /*withElseRegion=*/false);
        OpBuilder tb = ifOp.getThenBodyBuilder();
        Value own = arith::SubIOp::create(
            tb, loc, lo, arith::ConstantIndexOp::create(tb, loc, first));
        emitNarrowedProduct(tb, fn, kernel, member, own,
                            arith::SubIOp::create(tb, loc, hi, lo));
        first += member.features;
      }
    }
    if (epilogue)
      emitEpilogue(b, kernel, *epilogue, begin, end);
    func::ReturnOp::create(b, loc);
    // The layer arguments the epilogue reaches, as byte offsets in the
    // arena.
    SmallVector<Value> scalars;
    if (epilogue && !epilogue->scalarArguments.empty())
      scalars = getArenaOffsets(group.back().op, fn, epilogue->scalarArguments);
    if (failed(callParallelFor(group.back().op, fn, kernel, features, grain,
                               scalars)))
      return failure();
    for (const OutlinableProduct &member : group)
      member.op->erase();
    if (epilogue) {
      epilogue->op->erase();
      if (epilogue->copyOut)
        epilogue->copyOut->erase();
      ++numEpilogues;
    }
    ++numKernels;
    return success();
  }

  /// Outlines parallel loop `loop` of `fn` into a kernel over a range of
  /// its iterations. What the body reads from outside must be constants,
  /// planned views, views every caller passes, side-effect-free ops on
  /// those (recomputed in the kernel: a decode's `pos + 1` or a reshaped
  /// cache, which CSE hoists out of the loop), or at most kKernelScalars
  /// other index values (handed to the kernel as arguments).
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
    // Layer arguments the callers pass as different arena views (a layer's
    // input): the call hands their byte offsets in the arena as scalars,
    // after `scalars`.
    SmallVector<Value> arenaArguments;
    // Insertion-ordered, so kernels come out the same on every compile.
    llvm::MapVector<Value, PlannedView> views;
    // Ops the kernel runs again, operands before users.
    SetVector<Operation *> recomputed;
    std::function<bool(Value)> resolve = [&](Value v) {
      Operation *def = v.getDefiningOp();
      if (views.count(v) || llvm::is_contained(scalars, v) ||
          (def && recomputed.contains(def)))
        return true;
      std::optional<PlannedView> view = getPlannedView(v, fn);
      if (!view)
        view = getPassedView(v, fn, module);
      if (view) {
        views[v] = *view;
        return true;
      }
      if (llvm::is_contained(arenaArguments, v))
        return true;
      if (isa<MemRefType>(v.getType()) &&
          getPassedArenaViews(v, fn, module)) {
        if (scalars.size() + arenaArguments.size() >= kKernelScalars)
          return false;
        arenaArguments.push_back(v);
        return true;
      }
      if (def && def->getNumRegions() == 0 && def->getNumResults() == 1 &&
          isMemoryEffectFree(def) &&
          llvm::all_of(def->getOperands(), resolve)) {
        recomputed.insert(def);
        return true;
      }
      if (!v.getType().isIndex() ||
          scalars.size() + arenaArguments.size() >= kKernelScalars)
        return false;
      scalars.push_back(v);
      return true;
    };
    for (Value v : captured)
      if (!resolve(v))
        return leaveSerial("a value a kernel cannot rebuild");

    std::string name = (fn.getSymName() + "_loop" + Twine(index)).str();
    Location loc = loop.getLoc();
    func::FuncOp kernel = createKernel(fn, name, loc);
    OpBuilder b = OpBuilder::atBlockBegin(&kernel.getBody().front());
    IRMapping mapping;
    for (auto [v, view] : views)
      mapping.map(v, rebuildView(b, loc, kernel, view));
    for (auto [i, scalar] : llvm::enumerate(scalars))
      mapping.map(scalar, kernel.getArgument(4 + i));
    for (auto [i, argument] : llvm::enumerate(arenaArguments))
      mapping.map(argument,
                  memref::ViewOp::create(
                      b, loc, cast<MemRefType>(argument.getType()),
                      kernel.getArgument(1),
                      kernel.getArgument(4 + scalars.size() + i), ValueRange{})
                      .getResult());
    for (Operation *op : recomputed)
      b.clone(*op, mapping);
    auto range = scf::ForOp::create(b, loc, kernel.getArgument(2),
                                    kernel.getArgument(3),
                                    arith::ConstantIndexOp::create(b, loc, 1));
    mapping.map(loop.getInductionVar(), range.getInductionVar());
    b.setInsertionPointToStart(range.getBody());
    for (Operation &op : loop.getBody()->without_terminator())
      b.clone(op, mapping);
    b.setInsertionPointAfter(range);
    func::ReturnOp::create(b, loc);

    SmallVector<Value> passed(scalars);
    if (!arenaArguments.empty())
      llvm::append_range(passed, getArenaOffsets(loop, fn, arenaArguments));
    if (failed(callParallelFor(loop, fn, kernel, *upper, /*grain=*/1,
                               passed)))
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
      // Products that read the same input run as one job (q, k and v;
      // gate and up): one handoff to the threads instead of several.
      std::vector<SmallVector<OutlinableProduct, 3>> groups;
      for (linalg::GenericOp op : products) {
        std::optional<OutlinableProduct> product = analyzeProduct(fn, op);
        if (!product)
          continue;
        if (!groups.empty() && canJoin(groups.back(), *product, fn))
          groups.back().push_back(std::move(*product));
        else
          groups.push_back({std::move(*product)});
      }
      int index = 0;
      for (ArrayRef<OutlinableProduct> group : groups)
        if (failed(outline(fn, group, analyzeEpilogue(fn, group), index++)))
          return signalPassFailure();
      index = 0;
      for (scf::ForOp loop : loops)
        if (failed(outlineLoop(fn, loop, index++)))
          return signalPassFailure();
    }
  }
};

} // namespace
