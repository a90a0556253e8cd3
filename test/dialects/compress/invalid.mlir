// RUN: tlmc-opt %s -split-input-file -verify-diagnostics

// expected-error @+1 {{bits must be 8 or 4, got 3}}
compress.quantized_weight @w : tensor<2x32xf32> {bits = 3 : i64, group_size = 32 : i64, symmetric = true} values = dense_resource<v> : tensor<2x32xi8> scales = dense_resource<s> : tensor<2x1xf32>

// -----

// expected-error @+1 {{group_size must be in [1, 32], got 64}}
compress.quantized_weight @w : tensor<2x32xf32> {bits = 4 : i64, group_size = 64 : i64, symmetric = true} values = dense_resource<v> : tensor<2x16xi8> scales = dense_resource<s> : tensor<2x1xf32>

// -----

// expected-error @+1 {{8-bit weights are symmetric}}
compress.quantized_weight @w : tensor<2x32xf32> {bits = 8 : i64, group_size = 32 : i64, symmetric = false} values = dense_resource<v> : tensor<2x32xi8> scales = dense_resource<s> : tensor<2x1xf32> zero_points = dense_resource<z> : tensor<2x1xi8>

// -----

// expected-error @+1 {{an asymmetric weight needs zero points}}
compress.quantized_weight @w : tensor<2x32xf32> {bits = 4 : i64, group_size = 32 : i64, symmetric = false} values = dense_resource<v> : tensor<2x16xi8> scales = dense_resource<s> : tensor<2x1xf32>

// -----

// Rows of 40 in groups of 32: two groups, the last one ragged.
// expected-error @+1 {{scales must be 'tensor<2x2xf32>', got 'tensor<2x1xf32>'}}
compress.quantized_weight @w : tensor<2x40xf32> {bits = 4 : i64, group_size = 32 : i64, symmetric = true} values = dense_resource<v> : tensor<2x20xi8> scales = dense_resource<s> : tensor<2x1xf32>

// -----

// expected-error @+1 {{values must be 'tensor<2x20xi8>', got 'tensor<2x40xi8>'}}
compress.quantized_weight @w : tensor<2x40xf32> {bits = 4 : i64, group_size = 32 : i64, symmetric = true} values = dense_resource<v> : tensor<2x40xi8> scales = dense_resource<s> : tensor<2x2xf32>

// -----

compress.quantized_weight @w : tensor<2x32xf32> {bits = 8 : i64, group_size = 32 : i64, symmetric = true} values = dense_resource<v> : tensor<2x32xi8> scales = dense_resource<s> : tensor<2x1xf32>
func.func @f(%x: tensor<1x16xf32>) -> tensor<1x2xf32> {
  // expected-error @+1 {{input width (16) must equal the weight's in_features (32)}}
  %y = compress.quantized_linear %x, @w : tensor<1x16xf32> -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// -----

func.func @f(%x: tensor<1x16xf32>) -> tensor<1x2xf32> {
  // expected-error @+1 {{'nope' does not name a compress.quantized_weight}}
  %y = compress.quantized_linear %x, @nope : tensor<1x16xf32> -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// -----

compress.quantized_weight @w : tensor<4x32xf32> {bits = 8 : i64, group_size = 32 : i64, symmetric = true} values = dense_resource<v> : tensor<4x32xi8> scales = dense_resource<s> : tensor<4x1xf16>
func.func @f(%t: tensor<2xi32>) -> tensor<2x16xf32> {
  // expected-error @+1 {{result must be 2x32 (one row of the table per token)}}
  %y = compress.quantized_embedding %t, @w : tensor<2xi32> -> tensor<2x16xf32>
  return %y : tensor<2x16xf32>
}

// -----

// expected-error @+1 {{scales must be 'tensor<4x1xf32>', got 'tensor<4x1xbf16>'}}
compress.quantized_weight @w : tensor<4x32xf32> {bits = 8 : i64, group_size = 32 : i64, symmetric = true} values = dense_resource<v> : tensor<4x32xi8> scales = dense_resource<s> : tensor<4x1xbf16>

// -----

// expected-error @+1 {{ggml_blocks weights are symmetric, in groups of 32 whole features, with their scales in the blocks}}
compress.quantized_weight @w : tensor<4x32xf32> {bits = 8 : i64, group_size = 16 : i64, symmetric = true, ggml_blocks} values = dense_resource<v> : tensor<136xi8>

// -----

// expected-error @+1 {{values must be 'tensor<136xi8>', got 'tensor<128xi8>'}}
compress.quantized_weight @w : tensor<4x32xf32> {bits = 8 : i64, group_size = 32 : i64, symmetric = true, ggml_blocks} values = dense_resource<v> : tensor<128xi8>
