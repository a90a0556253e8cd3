//===- Passes.h - tlmc code generation passes --------------------*- C++ -*-===//

#ifndef TLMC_CODEGEN_PASSES_H
#define TLMC_CODEGEN_PASSES_H

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace tlmc {

#define GEN_PASS_DECL
#include "codegen/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "codegen/Passes.h.inc"

/// Marks a linalg.generic whose iteration dimension 1 (output features) may
/// be split across threads (set on lowered tlm.linear ops).
constexpr llvm::StringLiteral kParallelRowsAttr = "tlmc.parallel_rows";
/// Marks an scf.for from 0 whose iterations are independent and may be
/// split across threads (attention's heads).
constexpr llvm::StringLiteral kParallelLoopAttr = "tlmc.parallel_loop";

/// On a product whose work is not its loop ranges (a sparse product): the
/// multiply-adds per row of its input.
constexpr llvm::StringLiteral kParallelWorkAttr = "tlmc.parallel_work";

/// On a product a runtime micro-kernel can compute (tlm-use-ukernels): the
/// weight format, e.g. "q8_0". Its body keeps the generated product, used
/// when the target has no kernel for it.
constexpr llvm::StringLiteral kUKernelAttr = "tlmc.ukernel";

/// On the loads in such a product's body that read its input and its
/// weights: how tlm-use-ukernels finds the two buffers.
constexpr llvm::StringLiteral kUKernelInputAttr = "tlmc.ukernel_input";
constexpr llvm::StringLiteral kUKernelWeightsAttr = "tlmc.ukernel_weights";
/// Marks the tensor of a float weight's bytes packed in 16-row panels
/// (codegen/Target/FloatPanels.h), for the ops that read it.
constexpr llvm::StringLiteral kFloatPanelsAttr = "tlmc.float_panels";

/// On a layer function (tlm-share-layers): the layer whose weight names it
/// uses; on a call of one: the layer it computes, whose weights it gets.
constexpr llvm::StringLiteral kLayerAttr = "tlmc.layer";

/// On a layer function: keep LLVM from inlining it (emitObjectFile applies
/// it; func-to-llvm does not carry func.func's unknown attributes over).
constexpr llvm::StringLiteral kNoInlineAttr = "tlmc.no_inline";

/// The layer N of a weight named "blk.N.<rest>", if it is one.
std::optional<int64_t> getWeightLayer(llvm::StringRef name);

/// "blk.N.<rest>" as "blk.<layer>.<rest>"; other names unchanged.
std::string renameWeightLayer(llvm::StringRef name, int64_t layer);

/// Name of the function attribute carrying an entry point's arena size.
constexpr llvm::StringLiteral kArenaBytesAttr = "tlmc.arena_bytes";

} // namespace tlmc

#endif // TLMC_CODEGEN_PASSES_H
