// RUN: tlmc-opt %s --compress-adopt-ggml-blocks | tlmc-opt | %FileCheck %s

// Q8_0 and Q4_0 weights read by linears and embeddings become quantized
// weights whose values are the file's own blocks (the same blob: nothing is
// copied or re-laid out; groups of 32, symmetric, f16 scales inside). A
// table read by both an embedding and a linear (tied) is one weight.

// CHECK: compress.quantized_weight @q8 : tensor<1x32xf32> {bits = 8 : i64, {{.*}}ggml_blocks, group_size = 32 : i64, symmetric = true} values = dense_resource<q8> : tensor<34xi8>
// CHECK-NOT: scales
// CHECK: compress.quantized_weight @q4 : tensor<1x32xf32> {bits = 4 : i64, {{.*}}ggml_blocks, group_size = 32 : i64, symmetric = true} values = dense_resource<q4> : tensor<18xi8>
// CHECK: compress.quantized_weight @embd : tensor<1x32xf32> {bits = 4 : i64, {{.*}}ggml_blocks{{.*}}} values = dense_resource<embd> : tensor<18xi8>
// CHECK-NOT: tlm.weight
// CHECK-LABEL: func.func @f
// CHECK: compress.quantized_linear %{{.+}}, @q8
// CHECK: compress.quantized_linear %{{.+}}, @q4
// CHECK: compress.quantized_embedding %{{.+}}, @embd : tensor<1xi32> -> tensor<1x32xf32>
// CHECK: compress.quantized_linear %{{.+}}, @embd
// The blocks as the file had them.
// CHECK: q8: "0x010000000038000102
// CHECK: q4: "0x01000000003C0011
module {
  tlm.weight @q8 : tensor<1x32xf32> encoding(q8_0) = dense_resource<q8> : tensor<34xi8>
  tlm.weight @q4 : tensor<1x32xf32> encoding(q4_0) = dense_resource<q4> : tensor<18xi8>
  tlm.weight @embd : tensor<1x32xf32> encoding(q4_0) = dense_resource<embd> : tensor<18xi8>
  func.func @f(%x: tensor<1x32xf32>, %t: tensor<1xi32>) -> (tensor<1x1xf32>, tensor<1x1xf32>, tensor<1x32xf32>, tensor<1x1xf32>) {
    %a = tlm.weight_ref @q8 : tensor<1x32xf32>
    %y = tlm.linear %x, %a : tensor<1x32xf32>, tensor<1x32xf32> -> tensor<1x1xf32>
    %b = tlm.weight_ref @q4 : tensor<1x32xf32>
    %z = tlm.linear %x, %b : tensor<1x32xf32>, tensor<1x32xf32> -> tensor<1x1xf32>
    %e = tlm.weight_ref @embd : tensor<1x32xf32>
    %r = tlm.embedding %t, %e : tensor<1xi32>, tensor<1x32xf32> -> tensor<1x32xf32>
    %c = tlm.linear %x, %e : tensor<1x32xf32>, tensor<1x32xf32> -> tensor<1x1xf32>
    return %y, %z, %r, %c : tensor<1x1xf32>, tensor<1x1xf32>, tensor<1x32xf32>, tensor<1x1xf32>
  }
}

{-#
  dialect_resources: {
    builtin: {
      q8: "0x010000000038000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F",
      q4: "0x01000000003C00112233445566778899AABBCCDDEEFF",
      embd: "0x01000000003C000102030405060708090A0B0C0D0E0F"
    }
  }
#-}
