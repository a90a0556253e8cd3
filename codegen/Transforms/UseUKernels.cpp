//===- UseUKernels.cpp - products computed by the runtime's micro-kernels -===//
//
// A product marked `tlmc.ukernel` becomes a call of the runtime kernel for
// its weight format and the target's instruction set, on raw pointers to
// the same buffers the generic read. Runs after tlm-parallelize-rows, so a
// thread kernel's generic (already narrowed to its output rows) becomes a
// call over exactly those rows: the first row is the output view's column
// offset, which is where the weights pointer starts too.
//
//===----------------------------------------------------------------------===//

#include "codegen/Passes.h"
#include "codegen/Target/TargetOptions.h"
#include "runtime/src/ProductKernels.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

namespace tlmc {
#define GEN_PASS_DEF_TLMUSEUKERNELS
#include "codegen/Passes.h.inc"
} // namespace tlmc

using namespace mlir;
using namespace tlmc;

namespace {


/// Bytes per 32 weights of a format ("q8_0", "q4_0", or either "x16", packed
/// in 16-row panels: the same bytes per row).
int64_t blockBytes(StringRef format) {
  return format.starts_with("q8_0") ? 34 : 18;
}

/// The buffer read by the body's load marked `attr`, if it is defined
/// outside the generic.
Value findMarkedBuffer(linalg::GenericOp op, StringRef attr) {
  Value found;
  op.getRegion().walk([&](vector::LoadOp load) {
    if (!load->hasAttr(attr))
      return WalkResult::advance();
    found = load.getBase();
    return WalkResult::interrupt();
  });
  if (found && op->isAncestor(found.getParentBlock()->getParentOp()))
    return {};
  return found;
}

/// Whether `type`'s innermost dimension is contiguous.
bool hasUnitInnerStride(MemRefType type) {
  SmallVector<int64_t> strides;
  int64_t offset;
  return succeeded(type.getStridesAndOffset(strides, offset)) &&
         !strides.empty() && strides.back() == 1;
}

struct TLMUseUKernelsPass
    : tlmc::impl::TLMUseUKernelsBase<TLMUseUKernelsPass> {
  using Base::Base;

  func::FuncOp getKernel(ModuleOp module, StringRef name) {
    if (auto existing = module.lookupSymbol<func::FuncOp>(name))
      return existing;
    MLIRContext *ctx = module.getContext();
    Type ptr = LLVM::LLVMPointerType::get(ctx), i64 = IntegerType::get(ctx, 64);
    auto type = FunctionType::get(ctx, {ptr, i64, i64, ptr, i64, i64, ptr, i64},
                                  {});
    OpBuilder b(module.getBodyRegion());
    auto decl = func::FuncOp::create(b, module.getLoc(), name, type);
    decl.setPrivate();
    return decl;
  }

  /// Replaces `op` by a kernel call; false if its buffers or shape are not
  /// what the kernels take. Block formats read their input and weights in
  /// the body (marked loads), the weights one blob from its first row; f16
  /// and f32 products take them as operands (input (t, k), weights (n, k),
  /// already narrowed to the thread's rows).
  /// Replaces `op` by a call of `tlmrt_uk_<format>_<suffix>`; false when the
  /// kernels do not take its shape.
  bool replace(linalg::GenericOp op, StringRef format, StringRef suffix) {
    bool isFloat = format == "f16" || format == "f32" || format == "f16x16";
    if (op.getNumDpsInits() != 1 ||
        op.getNumDpsInputs() != (isFloat ? 2u : 0u))
      return false;
    Value x = isFloat ? op.getDpsInputs()[0]
                      : findMarkedBuffer(op, kUKernelInputAttr);
    Value w = isFloat ? op.getDpsInputs()[1]
                      : findMarkedBuffer(op, kUKernelWeightsAttr);
    if (!x || !w)
      return false;
    Value y = op.getDpsInits()[0];
    auto xType = dyn_cast<MemRefType>(x.getType());
    auto yType = dyn_cast<MemRefType>(y.getType());
    auto wType = dyn_cast<MemRefType>(w.getType());
    if (!xType || !yType || !wType || xType.getRank() != 2 ||
        yType.getRank() != 2 || wType.getRank() != (isFloat ? 2 : 1) ||
        !hasUnitInnerStride(xType) || !hasUnitInnerStride(yType) ||
        !hasUnitInnerStride(wType) || xType.isDynamicDim(1))
      return false;
    int64_t columns = xType.getDimSize(1);
    // Panel-packed f16 goes column by column; the row kernels take 16
    // columns, the block ones 32.
    int64_t unit = format == "f16x16" ? 1 : isFloat ? 16 : 32;
    if (columns % unit || columns > TLMRT_UK_MAX_COLUMNS)
      return false;
    if (isFloat) {
      // The product the lowering built: y[t][n] = sum_k x[t][k] * w[n][k],
      // weights of the format's type, rows contiguous.
      AffineExpr t, n, k;
      bindDims(op.getContext(), t, n, k);
      auto maps = op.getIndexingMapsArray();
      auto mapOf = [&](ArrayRef<AffineExpr> exprs) {
        return AffineMap::get(3, 0, exprs, op.getContext());
      };
      if (maps.size() != 3 || maps[0] != mapOf({t, k}) ||
          maps[1] != mapOf({n, k}) || maps[2] != mapOf({t, n}) ||
          wType.getElementType() !=
              (format == "f32" ? Type(Float32Type::get(op.getContext()))
                               : Type(Float16Type::get(op.getContext()))) ||
          wType.isDynamicDim(1) || wType.getDimSize(1) != columns)
        return false;
      SmallVector<int64_t> strides;
      int64_t offset;
      if (failed(wType.getStridesAndOffset(strides, offset)) ||
          strides[0] != columns)
        return false;
    }

    OpBuilder b(op);
    Location loc = op.getLoc();
    MLIRContext *ctx = op.getContext();
    Type i64 = b.getI64Type(), ptrType = LLVM::LLVMPointerType::get(ctx);
    auto toI64 = [&](Value index) -> Value {
      return arith::IndexCastOp::create(b, loc, i64, index);
    };
    auto index = [&](int64_t v) -> Value {
      return arith::ConstantIndexOp::create(b, loc, v);
    };
    // Address of element `offset` of `buffer`, whose elements are `bytes`
    // wide, as a pointer.
    auto pointerAt = [&](Value buffer, Value offset, int64_t bytes) -> Value {
      Value base =
          memref::ExtractAlignedPointerAsIndexOp::create(b, loc, buffer);
      Value address = arith::AddIOp::create(
          b, loc, base, arith::MulIOp::create(b, loc, offset, index(bytes)));
      return LLVM::IntToPtrOp::create(b, loc, ptrType, toI64(address));
    };
    auto xMeta = memref::ExtractStridedMetadataOp::create(b, loc, x);
    auto yMeta = memref::ExtractStridedMetadataOp::create(b, loc, y);
    auto wMeta = memref::ExtractStridedMetadataOp::create(b, loc, w);
    Value yStride = yMeta.getStrides()[0];
    // The output view's first row: its offset within the token row (a
    // thread kernel's view starts at its first feature).
    Value firstRow =
        arith::RemUIOp::create(b, loc, yMeta.getOffset(), yStride);
    // Float weights come narrowed to the thread's rows; a blob of blocks
    // starts at row 0.
    Value weightOffset =
        isFloat ? wMeta.getOffset()
                : arith::AddIOp::create(
                      b, loc, wMeta.getOffset(),
                      arith::MulIOp::create(
                          b, loc, firstRow,
                          index(columns / 32 * blockBytes(format))))
                      .getResult();
    int64_t weightBytes = format == "f32" ? 4 : isFloat ? 2 : 1;
    std::string name = ("tlmrt_uk_" + format + "_" + suffix).str();
    func::FuncOp kernel = getKernel(op->getParentOfType<ModuleOp>(), name);
    func::CallOp::create(
        b, loc, kernel,
        ValueRange{pointerAt(x, xMeta.getOffset(), 4),
                   toI64(xMeta.getStrides()[0]), toI64(yMeta.getSizes()[0]),
                   pointerAt(w, weightOffset, weightBytes),
                   toI64(yMeta.getSizes()[1]),
                   arith::ConstantIntOp::create(b, loc, i64, columns),
                   pointerAt(y, yMeta.getOffset(), 4), toI64(yStride)});
    op.erase();
    ++numCalls;
    return true;
  }

  void runOnOperation() override {
    const ProductKernelSet *kernels = lookupProductKernels(isa);
    if (!isa.empty() && !kernels) {
      getOperation().emitError("tlm-use-ukernels: unknown instruction set '")
          << isa << "' (known: " << listProductKernelSets() << ")";
      return signalPassFailure();
    }
    SmallVector<std::pair<linalg::GenericOp, std::string>> products;
    getOperation().walk([&](linalg::GenericOp op) {
      if (!op.hasPureBufferSemantics())
        return;
      if (auto format = op->getAttrOfType<StringAttr>(kUKernelAttr))
        products.emplace_back(op, format.getValue().str());
    });
    for (auto &[op, format] : products) {
      // Weights packed for the kernels (GGMLPanels.h) have no generated
      // product: leaving one would compute garbage, so it is an error.
      bool packed = format == "q8_0x16" || format == "q4_0x16" ||
                    format == "f16x16";
      bool isFloat = format == "f16" || format == "f32" || format == "f16x16";
      if (!packed && !isFloat && format != "q8_0" && format != "q4_0") {
        op.emitOpError("tlm-use-ukernels: unknown weight format '")
            << format << "'";
        return signalPassFailure();
      }
      // The set's kernel for this format (float rows and panels, GGUF
      // blocks, GGUF panels), if it has one.
      StringRef suffix = !kernels ? StringRef()
                         : isFloat ? kernels->floatSuffix
                         : packed  ? kernels->panelSuffix
                                   : kernels->int8Suffix;
      bool available = !suffix.empty();
      // Panels streamed on the hardware prefetchers alone: the kernels'
      // `_hwprefetch` twins (prefersHardwarePrefetch).
      std::string name = suffix.str();
      if (packed && hardwarePrefetch)
        name += "_hwprefetch";
      if (!available || !replace(op, format, name)) {
        if (!packed)
          continue;
        op.emitOpError("tlm-use-ukernels: weights packed in panels need "
                       "a runtime kernel, and none takes this product")
            << (available ? "" : " (the instruction set has none)");
        return signalPassFailure();
      }
    }
  }
};

} // namespace
