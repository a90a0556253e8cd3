// RUN: tlmc-opt %s --compress-adopt-ggml-blocks | tlmc-opt | %FileCheck %s

// Q8_0 and Q4_0 weights read by linears and embeddings keep their integers
// and f16 scales (groups of 32, symmetric): the file's bytes, re-laid out.
// A table read by both an embedding and a linear (tied) is one weight.

// CHECK: compress.quantized_weight @q8 : tensor<1x32xf32> {bits = 8 : i64, {{.*}}group_size = 32 : i64, symmetric = true} values = dense_resource<q8.values> : tensor<1x32xi8> scales = dense_resource<q8.scales> : tensor<1x1xf16>
// CHECK: compress.quantized_weight @q4 : tensor<1x32xf32> {bits = 4 : i64, {{.*}}group_size = 32 : i64, symmetric = true} values = dense_resource<q4.values> : tensor<1x16xi8> scales = dense_resource<q4.scales> : tensor<1x1xf16>
// CHECK: compress.quantized_weight @embd : tensor<1x32xf32> {bits = 4 : i64, {{.*}}} values = dense_resource<embd.values> : tensor<1x16xi8> scales = dense_resource<embd.scales> : tensor<1x1xf16>
// CHECK-NOT: tlm.weight
// CHECK-LABEL: func.func @f
// CHECK: compress.quantized_linear %{{.+}}, @q8
// CHECK: compress.quantized_linear %{{.+}}, @q4
// CHECK: compress.quantized_embedding %{{.+}}, @embd : tensor<1xi32> -> tensor<1x32xf32>
// CHECK: compress.quantized_linear %{{.+}}, @embd
// The Q8_0 integers 0..31 unchanged, the f16 scale 0.5 (0x3800) as stored.
// CHECK: q8.values: "0x010000000001020304
// CHECK: q8.scales: "0x010000000038"
// Q4_0 keeps values 0..15 of the first half in low nibbles and the second
// half in high nibbles; here value k sits in byte k/2, low nibble when even.
// CHECK: q4.values: "0x010000001032547698BADCFE1032547698BADCFE"
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
