//===- Patterns.h - lowering patterns shared by the conversions ---*- C++ -*-===//

#ifndef TLMC_CODEGEN_CONVERSION_PATTERNS_H
#define TLMC_CODEGEN_CONVERSION_PATTERNS_H

#include "codegen/Target/WeightLayout.h"
#include "dialects/compress/IR/CompressDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/PatternMatch.h"

namespace tlmc {

/// Fast-math flags of the multiply and add in a matrix product's reduction:
/// the sum may be reassociated (so LLVM vectorizes it into partial sums)
/// and contracted into FMAs. The order differs from a sequential C loop by
/// rounding only (logits within ~1e-5 of llama2.c's); it does not depend on
/// the thread count, since each output is still summed by one thread.
/// Softmax keeps the reference's order; RMSNorm's sum of squares is only
/// reassociated (TLMToLinalg.cpp).
constexpr mlir::arith::FastMathFlags kProductFastMath =
    mlir::arith::FastMathFlags::reassoc | mlir::arith::FastMathFlags::contract;

/// Tokens from which the per-token loops a lowering writes between two
/// products (RoPE's rotation, attention's appending to the KV caches) are
/// marked `tlmc.parallel_loop`, for tlm-parallelize-rows to split across
/// the threads as it splits the products. On the calling thread alone they
/// read rows both cores' products wrote, cache line by cache line from the
/// other core: a 128-token SmolLM2 layer spent ~135K TSC ticks there on 2
/// threads against ~54K on 1, ~77K as jobs (rdtsc per job,
/// utils/bench/job-profile.sh); the prefill ran 1.025x as fast, faster in
/// 11 of 12 alternations, 1 thread level. A decode step's token stays
/// inline.
constexpr int64_t kParallelTokenLoopRows = 64;

/// The tensor stored in `slot` of the weights buffer `weights` (the leading
/// argument the lowering gives each entry point): a view at the slot's
/// offset, as a read-only tensor.
mlir::Value loadWeightSlot(mlir::OpBuilder &b, mlir::Location loc,
                           mlir::Value weights, const WeightSlot &slot);

/// The same slot as a buffer: a `memref.view` of `weights`, for kernels that
/// read weights with vector loads.
mlir::Value viewWeightSlot(mlir::OpBuilder &b, mlir::Location loc,
                           mlir::Value weights, const WeightSlot &slot);

/// tlm.attention -> scf loops on its caches (AttentionLowering.cpp); the
/// scores of up to `headsPerPass` query heads of a KV group are computed in
/// one pass over the keys.
void populateAttentionLoweringPatterns(mlir::RewritePatternSet &patterns,
                                       int64_t headsPerPass);

/// tlm.rope -> tables of its angles and a rotation, vector loops where a
/// head is whole vectors (RoPELowering.cpp).
void populateRoPELoweringPatterns(mlir::RewritePatternSet &patterns);

/// A product written out by hand: a linalg.generic over (token, output
/// feature), marked for row threading with `work` multiply-adds per token,
/// whose body is `body(builder, loc, inputBuffer, token, row)` -> the
/// output. Absolute `row` also inside threaded kernels.
mlir::Value buildRowProduct(
    mlir::OpBuilder &b, mlir::Location loc, mlir::Value input,
    mlir::RankedTensorType resultType, int64_t work,
    llvm::function_ref<mlir::Value(mlir::OpBuilder &, mlir::Location,
                                   mlir::Value, mlir::Value, mlir::Value)>
        body);

/// A table lookup: the rows `tokens` (tensor<T x i32>) of a table, as a
/// linalg.generic over (token, feature) whose body computes feature `col`
/// of table row `row` (both index) with `body(builder, loc, row, col)`.
mlir::Value buildRowLookup(
    mlir::OpBuilder &b, mlir::Location loc, mlir::Value tokens,
    mlir::RankedTensorType resultType,
    llvm::function_ref<mlir::Value(mlir::OpBuilder &, mlir::Location,
                                   mlir::Value, mlir::Value)>
        body);

/// x times the transpose of a sparse weight stored in 32-feature blocks
/// (slots `values` and `indices`, see codegen/Target/SparseBlocks.h): a
/// linalg.generic over (token, output feature) marked for row threading,
/// whose body runs the AVX-512 block kernel. `features` is the input
/// width, `nonZeros` the stored values.
mlir::Value buildSparseBlockProduct(mlir::OpBuilder &b, mlir::Location loc,
                                    mlir::Value input, mlir::Value weights,
                                    const WeightSlot &values,
                                    const WeightSlot &indices,
                                    mlir::RankedTensorType resultType,
                                    int64_t features, int64_t nonZeros);

/// x times the transpose of a quantized weight (slots `values` -- for int4
/// in the split-nibble layout -- `scales` and, if asymmetric, `zeros`):
/// a linalg.generic over (token, output
/// feature) marked for row threading whose body sums each group's integers
/// times the inputs, then scales once per group.
mlir::Value buildGroupedQuantizedProduct(
    mlir::OpBuilder &b, mlir::Location loc, mlir::Value input,
    mlir::Value weights, mlir::compress::QuantizedWeightOp weight,
    const WeightSlot &values, const WeightSlot &scales, const WeightSlot *zeros,
    mlir::RankedTensorType resultType);

/// x times the transpose of a GGUF Q8_0/Q4_0 weight read in its own blocks
/// (`ggml_blocks`; slot `blocks`): a linalg.generic over (token, output
/// feature) marked for row threading (GGMLBlockProduct.cpp). With
/// `panels` the slot holds the blocks packed for the runtime's kernels
/// (GGMLPanels.h), which must then compute it: the generic's body reads
/// the file's layout.
mlir::Value buildGGMLBlockProduct(mlir::OpBuilder &b, mlir::Location loc,
                                  mlir::Value input, mlir::Value weights,
                                  mlir::compress::QuantizedWeightOp weight,
                                  const WeightSlot &blocks,
                                  mlir::RankedTensorType resultType,
                                  bool panels = false);

/// The rows `tokens` of a GGUF Q8_0/Q4_0 table read in its own blocks (or
/// packed in 16-row panels, GGMLPanels.h, with `panels`: a tied
/// classifier's table), dequantized as they are read.
mlir::Value buildGGMLBlockLookup(mlir::OpBuilder &b, mlir::Location loc,
                                 mlir::Value tokens, mlir::Value weights,
                                 mlir::compress::QuantizedWeightOp weight,
                                 const WeightSlot &blocks,
                                 mlir::RankedTensorType resultType,
                                 bool panels = false);

/// compress.quantized_linear -> linalg.generic that dequantizes each value
/// as it reads it.
void populateCompressToLinalgPatterns(mlir::RewritePatternSet &patterns,
                                      const WeightLayout &layout);

/// Gives each call of a layer function (tlm-share-layers) the weights
/// buffer advanced to its layer's first weight, as a new first operand;
/// fails where two layers sharing code are not laid out alike.
mlir::LogicalResult addLayerWeightOperands(mlir::ModuleOp module,
                                           const WeightLayout &layout);

/// In each layer function, makes the weight views relative to its layer's
/// first weight (run after the ops are lowered to views).
mlir::LogicalResult rebaseLayerWeightViews(mlir::ModuleOp module,
                                           const WeightLayout &layout);

} // namespace tlmc

#endif // TLMC_CODEGEN_CONVERSION_PATTERNS_H
