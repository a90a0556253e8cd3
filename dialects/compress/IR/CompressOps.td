//===- CompressOps.td - the compress dialect ---------------*- tablegen -*-===//

#ifndef COMPRESS_OPS_TD
#define COMPRESS_OPS_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/SymbolInterfaces.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/IR/BuiltinAttributeInterfaces.td"

def Compress_Dialect : Dialect {
  let name = "compress";
  let cppNamespace = "::mlir::compress";
  let summary = "Compressed weights and the ops that consume them";
  let description = [{
    Weights made smaller for a device — quantized to a few bits per value —
    and linear ops that compute on them directly, so that the compiled
    binary is really smaller and reads less memory per token. The `tlm`
    graph keeps its float semantics; compression passes replace `tlm.weight`
    + `tlm.linear` pairs by ops of this dialect.
  }];
  let dependentDialects = ["::mlir::tlm::TLMDialect"];
}

class Compress_Op<string mnemonic, list<Trait> traits = []>
    : Op<Compress_Dialect, mnemonic, traits>;

def Compress_QuantizedWeightOp : Compress_Op<"quantized_weight", [Symbol]> {
  let summary = "a weight matrix quantized per output row in groups";
  let description = [{
    A weight of logical type `type` (out x in, f32) stored as integers of
    `bits` bits (8 or 4) with one scale (f32, or f16 as GGUF's Q8_0/Q4_0
    blocks carry it) per group of `group_size`
    consecutive input features of a row (the last group of a row may be
    shorter: a ragged group). Symmetric: value = q * scale with q signed.
    Asymmetric (4 bits only): value = (q - zero_point) * scale with q and the
    zero point in [0, 15].

    Storage, row-major per output row:
    - `values`: 8 bits: `tensor<out x in x i8>`; 4 bits: two values per
      byte, element 2j in the low nibble, `tensor<out x ceil(in/2) x i8>`,
      symmetric nibbles biased by 8;
    - `scales`: `tensor<out x groups x f32>` (or `f16`), groups =
      ceil(in / group_size);
    - `zero_points` (asymmetric only): `tensor<out x groups x i8>`.

    Or, with `ggml_blocks`, exactly as a GGUF file stores Q8_0 (8 bits) and
    Q4_0 (4 bits): `values` is `tensor<N x i8>` holding, row after row, one
    block per 32 features (so `group_size` is 32, symmetric, and no
    `scales`): an f16 scale, then 32 int8 (Q8_0), or 16 bytes whose low
    nibbles are the block's first 16 values and high nibbles the next 16,
    each biased by 8 (Q4_0). Kernels read the blocks where they are: the
    model costs its file's bytes, and compiling it copies nothing.

    ```mlir
    compress.quantized_weight @blk.0.ffn_up : tensor<172x64xf32>
        {bits = 4 : i64, group_size = 32 : i64, symmetric = false}
        values = dense_resource<blk.0.ffn_up.values> : tensor<172x32xi8>
        scales = dense_resource<blk.0.ffn_up.scales> : tensor<172x2xf32>
        zero_points = dense_resource<blk.0.ffn_up.zeros> : tensor<172x2xi8>
    compress.quantized_weight @blk.0.attn_q : tensor<64x64xf32>
        {bits = 8 : i64, group_size = 32 : i64, symmetric = true, ggml_blocks}
        values = dense_resource<blk.0.attn_q> : tensor<4352xi8>
    ```
  }];
  let arguments = (ins
    SymbolNameAttr:$sym_name,
    TypeAttrOf<2DTensorOf<[F32]>>:$type,
    I64Attr:$bits,
    I64Attr:$group_size,
    BoolAttr:$symmetric,
    ElementsAttr:$values,
    OptionalAttr<ElementsAttr>:$scales,
    OptionalAttr<ElementsAttr>:$zero_points,
    UnitAttr:$ggml_blocks
  );
  let assemblyFormat = [{
    $sym_name `:` $type attr-dict `values` `=` $values
    (`scales` `=` $scales^)? (`zero_points` `=` $zero_points^)?
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    ::mlir::RankedTensorType getTensorType() {
      return ::llvm::cast<::mlir::RankedTensorType>(getType());
    }
    int64_t getRows() { return getTensorType().getDimSize(0); }
    int64_t getColumns() { return getTensorType().getDimSize(1); }
    int64_t getGroups() {
      return (getColumns() + getGroupSize() - 1) / getGroupSize();
    }
    /// Bytes of one row of packed values (with `ggml_blocks`: of blocks).
    int64_t getRowBytes() {
      if (getGgmlBlocks())
        return getColumns() / 32 * (getBits() == 8 ? 34 : 18);
      return getBits() == 8 ? getColumns() : (getColumns() + 1) / 2;
    }
    /// Bytes all storage takes (values, scales, zero points).
    int64_t getStorageBytes();
  }];
}

def Compress_QuantizedLinearOp : Compress_Op<"quantized_linear",
    [Pure, DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "x times the transpose of a quantized weight";
  let description = [{
    `result[t][n] = sum_k input[t][k] * dequant(weight)[n][k]`, computed on
    the stored integers: each value is dequantized as it is read, never
    materialized as a float matrix.

    ```mlir
    %y = compress.quantized_linear %x, @blk.0.ffn_up : tensor<1x64xf32> -> tensor<1x172xf32>
    ```
  }];
  let arguments = (ins 2DTensorOf<[F32]>:$input, FlatSymbolRefAttr:$weight);
  let results = (outs 2DTensorOf<[F32]>:$result);
  let assemblyFormat = [{
    $input `,` $weight attr-dict `:` type($input) `->` type($result)
  }];
}

def Compress_QuantizedEmbeddingOp : Compress_Op<"quantized_embedding",
    [Pure, DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "rows of a quantized table, dequantized as they are read";
  let description = [{
    `result[t][j] = dequant(weight)[tokens[t]][j]`: the token embedding
    lookup on a table kept quantized (a GGUF Q8_0/Q4_0 `token_embd`, which
    a tied classifier reads as `compress.quantized_linear` from the same
    bytes). Only the looked-up rows are ever dequantized.

    ```mlir
    %x = compress.quantized_embedding %tokens, @token_embd : tensor<1xi32> -> tensor<1x576xf32>
    ```
  }];
  let arguments = (ins 1DTensorOf<[I32]>:$tokens, FlatSymbolRefAttr:$weight);
  let results = (outs 2DTensorOf<[F32]>:$result);
  let assemblyFormat = [{
    $tokens `,` $weight attr-dict `:` type($tokens) `->` type($result)
  }];
}

def Compress_SparseWeightOp : Compress_Op<"sparse_weight", [Symbol]> {
  let summary = "a pruned weight matrix stored by rows (CSR)";
  let description = [{
    A weight of logical type `type` (out x in, f32) of which only the
    nonzeros are stored: row r's values are `values[row_offsets[r] ..
    row_offsets[r + 1])` at input features `columns[...]`. Unstructured
    and N:M pruning both produce this form; the generated code visits only
    the stored values.

    ```mlir
    compress.sparse_weight @blk.0.attn_q : tensor<64x64xf32>
        values = dense_resource<v> : tensor<2048xf32>
        columns = dense_resource<c> : tensor<2048xi16>
        row_offsets = dense_resource<o> : tensor<65xi32>
    ```
  }];
  let arguments = (ins
    SymbolNameAttr:$sym_name,
    TypeAttrOf<2DTensorOf<[F32]>>:$type,
    ElementsAttr:$values,
    ElementsAttr:$columns,
    ElementsAttr:$row_offsets
  );
  let assemblyFormat = [{
    $sym_name `:` $type attr-dict `values` `=` $values `columns` `=` $columns
    `row_offsets` `=` $row_offsets
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    ::mlir::RankedTensorType getTensorType() {
      return ::llvm::cast<::mlir::RankedTensorType>(getType());
    }
    int64_t getNonZeros() {
      return ::llvm::cast<::mlir::ShapedType>(getValues().getType())
          .getNumElements();
    }
    int64_t getStorageBytes() {
      return getNonZeros() * 6 + (getTensorType().getDimSize(0) + 1) * 4;
    }
  }];
}

def Compress_SparseLinearOp : Compress_Op<"sparse_linear",
    [Pure, DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "x times the transpose of a sparse weight";
  let description = [{
    `result[t][n] = sum over stored (k, w) of row n: input[t][k] * w`.

    ```mlir
    %y = compress.sparse_linear %x, @blk.0.attn_q : tensor<1x64xf32> -> tensor<1x64xf32>
    ```
  }];
  let arguments = (ins 2DTensorOf<[F32]>:$input, FlatSymbolRefAttr:$weight);
  let results = (outs 2DTensorOf<[F32]>:$result);
  let assemblyFormat = [{
    $input `,` $weight attr-dict `:` type($input) `->` type($result)
  }];
}

#endif // COMPRESS_OPS_TD
