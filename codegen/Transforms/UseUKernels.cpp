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


/// What a `tlmc.ukernel` format name says about the product's weights.
struct WeightFormat {
  /// Float weights (f16, bf16, f32) the generic takes as its second input,
  /// of this element type; else GGUF blocks the body reads (marked loads).
  Type floatElement;
  /// Packed in 16-row panels (GGMLPanels.h, FloatPanels.h): there is no
  /// generated product to fall back on.
  bool panels = false;
  /// Bytes per weight (float), or per 32 weights (GGUF blocks).
  int64_t bytes = 0;
};

/// The format named `name`, if it is one the kernels have.
std::optional<WeightFormat> parseWeightFormat(StringRef name,
                                              MLIRContext *ctx) {
  bool panels = name.consume_back("x16");
  WeightFormat format;
  format.panels = panels;
  if (name == "q8_0" || name == "q4_0") {
    format.bytes = name == "q8_0" ? 34 : 18;
    return format;
  }
  if (name == "f16")
    format.floatElement = Float16Type::get(ctx);
  else if (name == "bf16" && panels) // bf16 has only the panel kernels
    format.floatElement = BFloat16Type::get(ctx);
  else if (name == "f32")
    format.floatElement = Float32Type::get(ctx);
  else
    return std::nullopt;
  format.bytes = format.floatElement.getIntOrFloatBitWidth() / 8;
  return format;
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

  /// Replaces `op` by a call of `tlmrt_uk_<name>_<suffix>`; false if its
  /// buffers or shape are not what the kernels take. Block formats read
  /// their input and weights in the body (marked loads), the weights one
  /// blob from its first row; float products take them as operands (input
  /// (t, k), weights (n, k), already narrowed to the thread's rows).
  bool replace(linalg::GenericOp op, StringRef name, const WeightFormat &format,
               StringRef suffix) {
    bool isFloat = bool(format.floatElement);
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
    // Float panels go column by column; the row kernels take 16 columns,
    // the block ones 32.
    int64_t unit = isFloat && format.panels ? 1 : isFloat ? 16 : 32;
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
          wType.getElementType() != format.floatElement ||
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
                          index(columns / 32 * format.bytes)))
                      .getResult();
    int64_t weightBytes = isFloat ? format.bytes : 1;
    func::FuncOp kernel = getKernel(op->getParentOfType<ModuleOp>(),
                                    ("tlmrt_uk_" + name + "_" + suffix).str());
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
    for (auto &[op, name] : products) {
      std::optional<WeightFormat> format =
          parseWeightFormat(name, op.getContext());
      if (!format) {
        op.emitOpError("tlm-use-ukernels: unknown weight format '")
            << name << "'";
        return signalPassFailure();
      }
      // The set's kernel for this format (float rows and panels, GGUF
      // blocks, GGUF panels), if it has one.
      StringRef suffix = !kernels                ? StringRef()
                         : format->floatElement ? kernels->floatSuffix
                         : format->panels       ? kernels->panelSuffix
                                                : kernels->int8Suffix;
      bool available = !suffix.empty();
      // Panels streamed on the hardware prefetchers alone: the kernels'
      // `_hwprefetch` twins (prefersHardwarePrefetch).
      std::string kernel = suffix.str();
      if (format->panels && hardwarePrefetch)
        kernel += "_hwprefetch";
      // Weights packed for the kernels have no generated product: leaving
      // one would compute garbage, so it is an error.
      if (!available || !replace(op, name, *format, kernel)) {
        if (!format->panels)
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
