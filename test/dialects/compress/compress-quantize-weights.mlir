// RUN: tlmc-opt %s --compress-quantize-weights | tlmc-opt | %FileCheck %s --check-prefix=INT8
// RUN: tlmc-opt %s --compress-quantize-weights="bits=4 group-size=32 symmetric=false" | %FileCheck %s --check-prefix=ASYM
// RUN: tlmc-opt %s --compress-quantize-weights="bits=4 group-size=32 keep=w2" | %FileCheck %s --check-prefix=KEEP
// RUN: tlmc-opt %s --compress-quantize-weights="bits=4 group-size=32 override=w2=int8" | %FileCheck %s --check-prefix=OVERRIDE
// RUN: not tlmc-opt %s --compress-quantize-weights="override=w2=int3" 2>&1 | %FileCheck %s --check-prefix=BAD

// @w (4x40) is read only by linears: it is quantized, and its rows of 40
// end in a ragged group of 8 when groups are 32 wide. @embd is also read by
// an embedding: it stays float.

// INT8: compress.quantized_weight @w : tensor<4x40xf32> {bits = 8 : i64, compress.float_bytes = 640 : i64, compress.relative_error = {{.+}} : f64, group_size = 40 : i64, symmetric = true} values = dense_resource<w.values> : tensor<4x40xi8> scales = dense_resource<w.scales> : tensor<4x1xf32>{{$}}
// INT8: tlm.weight @embd : tensor<8x4xf32>
// INT8-LABEL: func.func @f
// INT8: compress.quantized_linear %{{.+}}, @w : tensor<1x40xf32> -> tensor<1x4xf32>
// INT8: compress.quantized_linear %{{.+}}, @w : tensor<1x40xf32> -> tensor<1x4xf32>
// INT8: %[[E:.+]] = tlm.weight_ref @embd
// INT8: tlm.linear %{{.+}}, %[[E]]
// INT8-NOT: tlm.weight_ref @w

// ASYM: compress.quantized_weight @w : tensor<4x40xf32> {bits = 4 : i64, {{.*}}group_size = 32 : i64, symmetric = false} values = dense_resource<w.values> : tensor<4x20xi8> scales = dense_resource<w.scales> : tensor<4x2xf32> zero_points = dense_resource<w.zeros> : tensor<4x2xi8>

// KEEP: compress.quantized_weight @w :
// KEEP: tlm.weight @w2 : tensor<4x40xf32>

// OVERRIDE: compress.quantized_weight @w : tensor<4x40xf32> {bits = 4 : i64,
// OVERRIDE: compress.quantized_weight @w2 : tensor<4x40xf32> {bits = 8 : i64,

// BAD: error: override 'w2=int3': unknown scheme 'int3'

module {
  tlm.weight @w : tensor<4x40xf32> = dense_resource<w> : tensor<4x40xf32>
  tlm.weight @w2 : tensor<4x40xf32> = dense_resource<w> : tensor<4x40xf32>
  tlm.weight @embd : tensor<8x4xf32> = dense_resource<embd> : tensor<8x4xf32>
  func.func @f(%x: tensor<1x40xf32>, %t: tensor<1xi32>) -> (tensor<1x4xf32>, tensor<1x4xf32>, tensor<1x8xf32>, tensor<1x4xf32>) {
    %w = tlm.weight_ref @w : tensor<4x40xf32>
    %a = tlm.linear %x, %w : tensor<1x40xf32>, tensor<4x40xf32> -> tensor<1x4xf32>
    %b = tlm.linear %x, %w : tensor<1x40xf32>, tensor<4x40xf32> -> tensor<1x4xf32>
    %e = tlm.weight_ref @embd : tensor<8x4xf32>
    %c = tlm.linear %a, %e : tensor<1x4xf32>, tensor<8x4xf32> -> tensor<1x8xf32>
    %d = tlm.embedding %t, %e : tensor<1xi32>, tensor<8x4xf32> -> tensor<1x4xf32>
    %w2 = tlm.weight_ref @w2 : tensor<4x40xf32>
    %g = tlm.linear %x, %w2 : tensor<1x40xf32>, tensor<4x40xf32> -> tensor<1x4xf32>
    return %b, %d, %c, %g : tensor<1x4xf32>, tensor<1x4xf32>, tensor<1x8xf32>, tensor<1x4xf32>
  }
}

{-#
  dialect_resources: {
    builtin: {
      w: "0x04000000CDCC8CBF9A99993E9A9919BFCDCC4C3FCDCCCCBD000080BFCDCCCC3E000000BF6666663F00000000666666BF0000003FCDCCCCBE0000803FCDCCCC3DCDCC4CBF9A99193F9A9999BECDCC8C3FCDCC4C3E333333BF3333333FCDCC4CBECDCC8CBF9A99993E9A9919BFCDCC4C3FCDCCCCBD000080BFCDCCCC3E000000BF6666663F00000000666666BF0000003FCDCCCCBE0000803FCDCCCC3DCDCC4CBF9A99193F9A9999BECDCC8C3FCDCC4C3E333333BF3333333FCDCC4CBECDCC8CBF9A99993E9A9919BFCDCC4C3FCDCCCCBD000080BFCDCCCC3E000000BF6666663F00000000666666BF0000003FCDCCCCBE0000803FCDCCCC3DCDCC4CBF9A99193F9A9999BECDCC8C3FCDCC4C3E333333BF3333333FCDCC4CBECDCC8CBF9A99993E9A9919BFCDCC4C3FCDCCCCBD000080BFCDCCCC3E000000BF6666663F00000000666666BF0000003FCDCCCCBE0000803FCDCCCC3DCDCC4CBF9A99193F9A9999BECDCC8C3FCDCC4C3E333333BF3333333FCDCC4CBECDCC8CBF9A99993E9A9919BFCDCC4C3FCDCCCCBD000080BFCDCCCC3E000000BF6666663F00000000666666BF0000003FCDCCCCBE0000803FCDCCCC3DCDCC4CBF9A99193F9A9999BECDCC8C3FCDCC4C3E333333BF3333333FCDCC4CBECDCC8CBF9A99993E9A9919BFCDCC4C3FCDCCCCBD000080BFCDCCCC3E000000BF6666663F00000000666666BF0000003FCDCCCCBE0000803FCDCCCC3DCDCC4CBF9A99193F9A9999BECDCC8C3FCDCC4C3E333333BF3333333FCDCC4CBECDCC8CBF9A99993E9A9919BFCDCC4C3FCDCCCCBD000080BFCDCCCC3E000000BF6666663F00000000666666BF0000003FCDCCCCBE0000803FCDCCCC3DCDCC4CBF9A99193F9A9999BECDCC8C3FCDCC4C3E333333BF3333333F",
      embd: "0x0400000000000000CDCCCC3DCDCC4C3E9A99993ECDCCCC3E0000003F9A99193F3333333FCDCC4C3F6666663F0000803FCDCC8C3F9A99993F6666A63F3333B33F0000C03FCDCCCC3F9A99D93F6666E63F3333F33F0000004066660640CDCC0C40333313409A9919400000204066662640CDCC2C40333333409A9939400000404066664640"
    }
  }
#-}
