//===- Passes.td - compression passes ----------------------*- tablegen -*-===//

#ifndef COMPRESS_PASSES_TD
#define COMPRESS_PASSES_TD

include "mlir/Pass/PassBase.td"

def CompressQuantizeWeights : Pass<"compress-quantize-weights", "mlir::ModuleOp"> {
  let summary = "Quantize the weights of linear ops to 8 or 4 bits";
  let description = [{
    Every `tlm.weight` read only as the weight of `tlm.linear` ops becomes a
    `compress.quantized_weight` (round to nearest; int8 symmetric per output
    channel, or int4 per group of `group-size` input features, symmetric or
    with zero points; a row's last group may be shorter), and those linears
    become `compress.quantized_linear`. Weights with other uses (a tied
    embedding table) stay as they are. `keep` (regexes on weight names)
    leaves weights in float; `override` (`REGEX=SCHEME`, SCHEME one of
    `int8`, `int4:gN`, `int4:gN:asym`, `float`) picks another scheme for
    matching weights, for mixed precision. Each quantized weight records
    its float size and relative error (||W - Q(W)|| / ||W||) as
    `compress.float_bytes` and `compress.relative_error`.

    With `method=gptq`, a weight that carries `compress.hessian` (the sum of
    x x^T over calibration inputs of its linears, `tensor<in x in x f64>`,
    attached by `tlmc compile --calibrate`) is quantized column by column,
    each column's rounding error pushed onto the columns after it through
    the inverse Hessian (GPTQ), so that outputs on such inputs move least.
    `damping` regularizes the Hessian (H + damping * mean(diag H) * I): the
    GPTQ paper uses 0.01 with 128 x 2048 calibration tokens; with a few
    thousand tokens that overfits them, and 1.0 (between GPTQ and plain
    rounding) measured best on stories260K.

    Before:
    ```mlir
    tlm.weight @w : tensor<172x64xf32> = dense_resource<w> : tensor<172x64xf32>
    %r = tlm.weight_ref @w : tensor<172x64xf32>
    %y = tlm.linear %x, %r : tensor<1x64xf32>, tensor<172x64xf32> -> tensor<1x172xf32>
    ```
    After (`bits=4 group-size=32 symmetric=false`):
    ```mlir
    compress.quantized_weight @w : tensor<172x64xf32> {bits = 4 : i64, ...}
        values = dense_resource<w.values> : tensor<172x32xi8>
        scales = dense_resource<w.scales> : tensor<172x2xf32>
        zero_points = dense_resource<w.zeros> : tensor<172x2xi8>
    %y = compress.quantized_linear %x, @w : tensor<1x64xf32> -> tensor<1x172xf32>
    ```
  }];
  let dependentDialects = ["mlir::compress::CompressDialect"];
  let options = [
    Option<"bits", "bits", "int64_t", "8", "Bits per value: 8 or 4">,
    Option<"groupSize", "group-size", "int64_t", "0",
           "Input features per scale (0: one scale per output channel)">,
    Option<"symmetric", "symmetric", "bool", "true",
           "Symmetric (no zero points); 4 bits may be asymmetric">,
    ListOption<"keep", "keep", "std::string",
               "Regexes of weight names to leave in float">,
    ListOption<"overrides", "override", "std::string",
               "REGEX=SCHEME pairs: another scheme for matching weights">,
    Option<"method", "method", "std::string", "\"rtn\"",
           "rtn (round to nearest) or gptq (error-compensating rounding, "
           "for weights that carry a compress.hessian)">,
    Option<"damping", "damping", "double", "1.0",
           "GPTQ: added to the Hessian's diagonal, times its mean">
  ];
  let statistics = [
    Statistic<"numQuantized", "quantized-weights", "weights quantized">,
    Statistic<"floatBytes", "float-bytes", "bytes of the quantized weights before">,
    Statistic<"quantizedBytes", "quantized-bytes", "bytes of the quantized weights after">
  ];
}

def CompressAdoptGGMLBlocks : Pass<"compress-adopt-ggml-blocks", "mlir::ModuleOp"> {
  let summary = "Compute on GGUF Q8_0/Q4_0 weights in their own blocks";
  let description = [{
    A `tlm.weight` imported from GGUF as `encoding(q8_0)` or
    `encoding(q4_0)` and read by linear and embedding ops becomes a
    `compress.quantized_weight` (8 or 4 bits, symmetric, groups of 32) with
    the very same integers and f16 scales: a lossless re-layout (Q4_0's
    nibbles reordered) of exactly the file's bytes, never a dequantize-
    requantize round trip. Its linears become `compress.quantized_linear`
    and its embedding lookups `compress.quantized_embedding`, so a tied
    table is stored once, quantized, for both. The model file's pages of a
    weight are released once it is re-laid out.

    Before:
    ```mlir
    tlm.weight @w : tensor<64x64xf32> encoding(q8_0) = dense_resource<w> : tensor<4352xi8>
    ```
    After:
    ```mlir
    compress.quantized_weight @w : tensor<64x64xf32> {bits = 8 : i64, group_size = 32 : i64, symmetric = true}
        values = dense_resource<w.values> : tensor<64x64xi8>
        scales = dense_resource<w.scales> : tensor<64x2xf16>
    ```
  }];
  let dependentDialects = ["mlir::compress::CompressDialect"];
  let statistics = [
    Statistic<"numAdopted", "adopted-weights", "block weights adopted">
  ];
}

def CompressPruneFFN : Pass<"compress-prune-ffn", "mlir::ModuleOp"> {
  let summary = "Remove the least important FFN channels of every layer";
  let description = [{
    Structured pruning: for every gated block `down(act(gate(x), up(x)))`
    (`act` SwiGLU or GeGLU, both elementwise)
    the channels (rows of gate and up, columns of down) are ranked by
    importance ||gate_c|| * ||up_c|| * ||down_c|| (L2 norms of the channel's
    row/column) and the lowest `ratio` of them are removed. The matrices
    physically shrink and so do the graph's shapes: the result is a smaller
    dense model, no sparse format needed. Each pruned weight records its
    size before as `compress.float_bytes`.

    Before (`ratio=0.25`, 172 channels):
    ```mlir
    tlm.weight @blk.0.ffn_gate : tensor<172x64xf32> = ...
    %g = tlm.linear %x, %wg : tensor<1x64xf32>, tensor<172x64xf32> -> tensor<1x172xf32>
    ```
    After (129 channels kept):
    ```mlir
    tlm.weight @blk.0.ffn_gate : tensor<129x64xf32> = ...
    %g = tlm.linear %x, %wg : tensor<1x64xf32>, tensor<129x64xf32> -> tensor<1x129xf32>
    ```
  }];
  let options = [
    Option<"ratio", "ratio", "double", "0.25",
           "Fraction of each block's channels to remove, in [0, 1)">
  ];
  let statistics = [
    Statistic<"numChannels", "pruned-channels", "FFN channels removed">,
    Statistic<"numBlocks", "pruned-blocks", "gated FFN blocks pruned">
  ];
}

def CompressLowRank : Pass<"compress-lowrank", "mlir::ModuleOp"> {
  let summary = "Factor linear weights as U x V where that saves bytes";
  let description = [{
    Each weight W (out x in) read only by linear ops is decomposed by SVD
    (one-sided Jacobi), W = sum_i s_i u_i v_i^T, and truncated to rank r:
    the smallest r keeping `energy` of sum s_i^2, or, with `ratio`, the
    largest r whose factors hold at most `ratio` of W's parameters. Only
    where r * (out + in) < out * in is `linear(x, W)` rewritten into
    `linear(linear(x, V), U)` with V = V_r^T (r x in) and U = U_r diag(s_r)
    (out x r), new weights `@W.v` and `@W.u`; later passes may quantize
    them. Records each factored weight's rank, size before and relative
    error on the factors as `compress.*` attributes.

    Before:
    ```mlir
    %y = tlm.linear %x, %w : tensor<1x64xf32>, tensor<172x64xf32> -> tensor<1x172xf32>
    ```
    After (rank 16):
    ```mlir
    %t = tlm.linear %x, %v : tensor<1x64xf32>, tensor<16x64xf32> -> tensor<1x16xf32>
    %y = tlm.linear %t, %u : tensor<1x16xf32>, tensor<172x16xf32> -> tensor<1x172xf32>
    ```
  }];
  let options = [
    Option<"energy", "energy", "double", "0.0",
           "Keep this fraction of the squared singular values (0: unused)">,
    Option<"ratio", "ratio", "double", "0.0",
           "Keep at most this fraction of each weight's parameters (0: unused)">,
    ListOption<"keep", "keep", "std::string",
               "Regexes of weight names to leave whole">
  ];
  let statistics = [
    Statistic<"numFactored", "factored-weights", "weights factored">,
    Statistic<"numSkipped", "skipped-weights", "weights where no rank saves bytes">
  ];
}

def CompressPruneSparse : Pass<"compress-prune-sparse", "mlir::ModuleOp"> {
  let summary = "Magnitude pruning into a sparse (CSR) weight format";
  let description = [{
    Every weight read only by linear ops keeps its largest-magnitude values:
    `mode=unstructured` keeps the top (1 - `sparsity`) of each matrix;
    `mode=nm` keeps the `n` largest of every `m` consecutive values of a row
    (2:4, 4:8; rows whose width is not a multiple of m are left dense). The
    survivors are stored as a `compress.sparse_weight` (values, i16 column
    indices, row offsets), and the linears become `compress.sparse_linear`,
    whose code visits only stored values.

    Before (`mode=nm n=2 m=4`):
    ```mlir
    %y = tlm.linear %x, %w : tensor<1x64xf32>, tensor<64x64xf32> -> tensor<1x64xf32>
    ```
    After:
    ```mlir
    compress.sparse_weight @w : tensor<64x64xf32> values = ... : tensor<2048xf32> columns = ... : tensor<2048xi16> row_offsets = ... : tensor<65xi32>
    %y = compress.sparse_linear %x, @w : tensor<1x64xf32> -> tensor<1x64xf32>
    ```
  }];
  let dependentDialects = ["mlir::compress::CompressDialect"];
  let options = [
    Option<"mode", "mode", "std::string", "\"unstructured\"",
           "unstructured or nm">,
    Option<"sparsity", "sparsity", "double", "0.5",
           "unstructured: the fraction of each matrix to remove">,
    Option<"n", "n", "int64_t", "2", "nm: values kept per group">,
    Option<"m", "m", "int64_t", "4", "nm: group width">,
    ListOption<"keep", "keep", "std::string",
               "Regexes of weight names to leave dense">
  ];
  let statistics = [
    Statistic<"numPruned", "pruned-weights", "weights made sparse">,
    Statistic<"numRemoved", "removed-values", "values removed">
  ];
}

def CompressPruneHeads : Pass<"compress-prune-heads", "mlir::ModuleOp"> {
  let summary = "Remove the least important query heads and KV heads of every layer";
  let description = [{
    Structured pruning of attention, in two granularities that compose:

    - `kv-heads=N` removes N KV heads from every layer, each with the query
      heads that read it: head_dim rows of Wk and Wv, the group's rows of Wq
      and columns of Wo. A KV head's importance is the sum of its query
      heads' importance. The same number goes from every layer so one cache
      shape still serves all of them: the KV caches narrow, and with them
      the entry points' cache arguments.
    - `per-group=N` removes N query heads from each remaining group, those
      whose importance ||Wq rows|| * ||Wo columns|| is lowest. The same number goes from
      every group, so the grouping stays uniform and the cache is untouched.

    Projections physically shrink, `tlm.rope` and `tlm.attention` narrow,
    and the attention op's `heads` / `kv_heads` drop. Every attention must
    read float `tlm.linear` projections (q and k through `tlm.rope`);
    anything else is an error, never a silent skip.

    Before (8 heads, 4 KV heads):
    ```mlir
    %a = tlm.attention %q, %k, %v, %kc, %vc, %pos {heads = 8 : i64, kv_heads = 4 : i64, head_dim = 8 : i64, layer = 0 : i64}
        : tensor<1x64xf32>, tensor<1x32xf32>, tensor<1x32xf32>, memref<5x512x32xf32>, memref<5x512x32xf32> -> tensor<1x64xf32>
    ```
    After `kv-heads=1 per-group=1` (3 KV heads, one query head each):
    ```mlir
    %a = tlm.attention %q, %k, %v, %kc, %vc, %pos {heads = 3 : i64, kv_heads = 3 : i64, head_dim = 8 : i64, layer = 0 : i64}
        : tensor<1x24xf32>, tensor<1x24xf32>, tensor<1x24xf32>, memref<5x512x24xf32>, memref<5x512x24xf32> -> tensor<1x24xf32>
    ```
  }];
  let options = [
    Option<"perGroup", "per-group", "int64_t", "0",
           "Query heads to remove from each KV group">,
    Option<"kvHeads", "kv-heads", "int64_t", "0",
           "KV heads (with their query heads) to remove from each layer">
  ];
  let statistics = [
    Statistic<"numHeads", "pruned-heads", "query heads removed">,
    Statistic<"numKVHeads", "pruned-kv-heads", "KV heads removed">
  ];
}

#endif // COMPRESS_PASSES_TD
