// RUN: tlmc-opt %s --split-input-file --convert-tlm-to-linalg | %FileCheck %s

// The graph variants model families add to the LLaMA block, one case each:
// a projection bias, a per-head RMSNorm, Llama-3 RoPE frequency factors,
// rotate-half RoPE pairing, RoPE on heads of whole vectors (both pairings),
// and Gemma's GeGLU, scale and windowed attention.

module attributes {tlm.config = #tlm.config<arch = "qwen2", vocab = 16, dim = 8, ffn_dim = 12, layers = 1, heads = 2, kv_heads = 1, head_dim = 4, context_length = 32, rope_theta = 1.0e6 : f32, rope_style = rotate_half, norm_eps = 1.0e-6 : f32, tied_embeddings = true, bos = 1, eos = 2>} {
  tlm.weight @bias : tensor<8xf32>
  // CHECK-LABEL: func.func @add_bias
  func.func @add_bias(%x: tensor<3x8xf32>) -> tensor<3x8xf32> {
    // The bias is read along the columns, broadcast over the rows.
    // CHECK: linalg.generic {indexing_maps = [#{{.+}}, #[[COLS:.+]], #{{.+}}], iterator_types = ["parallel", "parallel"]}
    // CHECK: arith.addf
    %b = tlm.weight_ref @bias : tensor<8xf32>
    %y = tlm.add_bias %x, %b : tensor<3x8xf32>, tensor<8xf32>
    return %y : tensor<3x8xf32>
  }
}

// -----

module attributes {tlm.config = #tlm.config<arch = "qwen3", vocab = 16, dim = 8, ffn_dim = 12, layers = 1, heads = 2, kv_heads = 1, head_dim = 4, context_length = 32, rope_theta = 1.0e6 : f32, rope_style = rotate_half, norm_eps = 1.0e-6 : f32, tied_embeddings = true, bos = 1, eos = 2>} {
  tlm.weight @head_norm : tensor<4xf32>
  // CHECK-LABEL: func.func @per_head_norm
  func.func @per_head_norm(%q: tensor<3x8xf32>) -> tensor<3x8xf32> {
    // Three tokens of two 4-wide heads are normalized as six 4-wide rows.
    // CHECK: tensor.expand_shape %{{.+}} {{\[}}[0], [1, 2]] output_shape [3, 2, 4] : tensor<3x8xf32> into tensor<3x2x4xf32>
    // CHECK: tensor.collapse_shape %{{.+}} {{\[}}[0, 1], [2]] : tensor<3x2x4xf32> into tensor<6x4xf32>
    // CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "reduction"]{{.*}}ins(%{{.+}} : tensor<6x4xf32>)
    // CHECK: math.sqrt
    // CHECK: tensor.expand_shape %{{.+}} {{\[}}[0, 1], [2]] output_shape [3, 2, 4] : tensor<6x4xf32> into tensor<3x2x4xf32>
    // CHECK: tensor.collapse_shape %{{.+}} {{\[}}[0], [1, 2]] : tensor<3x2x4xf32> into tensor<3x8xf32>
    %w = tlm.weight_ref @head_norm : tensor<4xf32>
    %y = tlm.rms_norm %q, %w {eps = 1.0e-6 : f32} : tensor<3x8xf32>, tensor<4xf32>
    return %y : tensor<3x8xf32>
  }
}

// -----

// CHECK-LABEL: func.func @rope_factors
func.func @rope_factors(%k: tensor<1x8xf32>, %pos: index) -> tensor<1x8xf32> {
  // Each pair's frequency is divided by its factor, read from a constant.
  // CHECK: %[[F:.+]] = arith.constant dense<[1.000000e+00, 8.000000e+00]> : tensor<2xf32>
  // CHECK: math.powf
  // CHECK: %[[FACTOR:.+]] = tensor.extract %[[F]]
  // CHECK: arith.divf %{{.+}}, %[[FACTOR]] : f32
  // CHECK: math.cos
  %y = tlm.rope %k, %pos {head_dim = 4 : i64, theta = 5.0e5 : f32, style = #tlm.rope_style<adjacent>, freq_factors = array<f32: 1.0, 8.0>} : tensor<1x8xf32>
  return %y : tensor<1x8xf32>
}

// -----

// CHECK-LABEL: func.func @rope_rotate_half
func.func @rope_rotate_half(%k: tensor<1x8xf32>, %pos: index) -> tensor<1x8xf32> {
  // Element i pairs with i + head_dim / 2: compared against the half, not
  // split into even and odd.
  // CHECK-NOT: arith.constant dense
  // CHECK-DAG: %[[HALF:.+]] = arith.constant 2 : index
  // CHECK: math.powf
  // CHECK: arith.cmpi ult, %{{.+}}, %[[HALF]] : index
  %y = tlm.rope %k, %pos {head_dim = 4 : i64, theta = 1.0e6 : f32, style = #tlm.rope_style<rotate_half>} : tensor<1x8xf32>
  return %y : tensor<1x8xf32>
}

// -----

// A head of whole 16-lane vectors rotates as vectors: adjacent pairs swap
// partners within the vector and read each pair's angle in both its lanes;
// the first of a pair subtracts (its sine times -1).
// CHECK-LABEL: func.func @rope_vector_adjacent
func.func @rope_vector_adjacent(%k: tensor<2x32xf32>, %pos: index) -> tensor<2x32xf32> {
  // CHECK: %[[SIGNS:.+]] = arith.constant dense<[-1.000000e+00, 1.000000e+00, {{.+}}]> : vector<16xf32>
  // CHECK: math.cos
  // CHECK: math.sin
  // CHECK: %[[OUT:.+]] = memref.alloc() : memref<2x32xf32>
  // CHECK: scf.for %[[ROW:.+]] = %{{.+}} to %{{.+}} step
  // CHECK: scf.for %[[HEAD:.+]] = %{{.+}} to %{{.+}} step
  // CHECK: %[[X:.+]] = vector.load %{{.+}}[%[[ROW]], %[[COL:.+]]] : memref<2x32xf32>, vector<16xf32>
  // CHECK: %[[PARTNER:.+]] = vector.shuffle %[[X]], %[[X]] [1, 0, 3, 2, 5, 4, 7, 6, 9, 8, 11, 10, 13, 12, 15, 14]
  // CHECK: %[[C8:.+]] = vector.load %{{.+}}[%[[ROW]], %{{.+}}] : memref<2x8xf32>, vector<8xf32>
  // CHECK: %[[S8:.+]] = vector.load %{{.+}}[%[[ROW]], %{{.+}}] : memref<2x8xf32>, vector<8xf32>
  // CHECK: %[[C:.+]] = vector.shuffle %[[C8]], %[[C8]] [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7]
  // CHECK: %[[S:.+]] = vector.shuffle %[[S8]], %[[S8]] [0, 0, 1, 1,
  // CHECK: %[[SIGNED:.+]] = arith.mulf %[[S]], %[[SIGNS]] : vector<16xf32>
  // CHECK: %[[XC:.+]] = arith.mulf %[[X]], %[[C]] : vector<16xf32>
  // CHECK: %[[PS:.+]] = arith.mulf %[[PARTNER]], %[[SIGNED]] : vector<16xf32>
  // CHECK: %[[R:.+]] = arith.addf %[[XC]], %[[PS]] : vector<16xf32>
  // CHECK: vector.store %[[R]], %[[OUT]][%[[ROW]], %[[COL]]]
  // CHECK-NOT: tensor.extract
  // Two rows stay on the calling thread.
  // CHECK-NOT: tlmc.parallel_loop
  %y = tlm.rope %k, %pos {head_dim = 16 : i64, theta = 1.0e4 : f32, style = #tlm.rope_style<adjacent>} : tensor<2x32xf32>
  return %y : tensor<2x32xf32>
}

// -----

// Rotate-half heads of whole vectors: the first half's partners are the
// second half's vector (and subtract), the second half's the first's.
// CHECK-LABEL: func.func @rope_vector_rotate_half
func.func @rope_vector_rotate_half(%k: tensor<2x64xf32>, %pos: index) -> tensor<2x64xf32> {
  // CHECK: scf.for %[[ROW:.+]] = %{{.+}} to %{{.+}} step
  // CHECK: %[[BASE:.+]] = arith.muli %{{.+}}, %{{.+}} : index
  // CHECK: %[[X:.+]] = vector.load %{{.+}}[%[[ROW]], %[[BASE]]] : memref<2x64xf32>, vector<16xf32>
  // CHECK: %[[UPPER:.+]] = arith.addi %[[BASE]], %{{.+}} : index
  // CHECK: %[[PARTNER:.+]] = vector.load %{{.+}}[%[[ROW]], %[[UPPER]]] : memref<2x64xf32>, vector<16xf32>
  // CHECK: vector.load %{{.+}} : memref<2x16xf32>, vector<16xf32>
  // CHECK: %[[S:.+]] = vector.load %{{.+}} : memref<2x16xf32>, vector<16xf32>
  // CHECK: %[[NEG:.+]] = arith.negf %[[S]] : vector<16xf32>
  // CHECK: arith.mulf %[[PARTNER]], %[[NEG]] : vector<16xf32>
  // CHECK: vector.store
  // CHECK: %[[SECOND:.+]] = arith.addi %[[BASE]], %{{.+}} : index
  // CHECK: vector.load %{{.+}}[%[[ROW]], %[[SECOND]]]
  // CHECK: vector.load %{{.+}}[%[[ROW]], %[[BASE]]]
  // CHECK-NOT: arith.negf
  // CHECK: vector.store
  %y = tlm.rope %k, %pos {head_dim = 32 : i64, theta = 1.0e6 : f32, style = #tlm.rope_style<rotate_half>} : tensor<2x64xf32>
  return %y : tensor<2x64xf32>
}

// -----

// CHECK-LABEL: func.func @geglu
func.func @geglu(%g: tensor<2x8xf32>, %u: tensor<2x8xf32>) -> tensor<2x8xf32> {
  // gelu_tanh(g) = g / (1 + exp(-2 sqrt(2/pi) (g + 0.044715 g^3))), times u.
  // CHECK-DAG: arith.constant 1.59576917 : f32
  // CHECK-DAG: arith.constant 4.471500e-02 : f32
  // CHECK: linalg.generic
  // CHECK: %[[SQ:.+]] = arith.mulf %[[G:.+]], %[[G]] : f32
  // CHECK: %[[CUBE:.+]] = arith.mulf %[[SQ]], %[[G]] : f32
  // CHECK: arith.mulf %[[CUBE]], %{{.+}} : f32
  // CHECK: arith.negf
  // CHECK: math.exp
  // CHECK: arith.divf %[[G]], %{{.+}} : f32
  // CHECK: arith.mulf
  // CHECK-NOT: math.tanh
  %y = tlm.geglu %g, %u : tensor<2x8xf32>
  return %y : tensor<2x8xf32>
}

// -----

// CHECK-LABEL: func.func @scale
func.func @scale(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  // CHECK: %[[F:.+]] = arith.constant 2.500000e+01 : f32
  // CHECK: linalg.generic
  // CHECK: arith.mulf %{{.+}}, %[[F]] : f32
  %y = tlm.scale %x {factor = 25.0 : f32} : tensor<2x8xf32>
  return %y : tensor<2x8xf32>
}

// -----

// CHECK-LABEL: func.func @windowed_attention
func.func @windowed_attention(%q: tensor<1x16xf32>, %k: tensor<1x8xf32>, %kc: memref<2x32x8xf32>, %vc: memref<2x32x8xf32>, %pos: index) -> tensor<1x16xf32> {
  // A token sees positions [count - 4, count) once more than 4 are cached:
  // every loop over positions starts there (the scores' from the block of
  // 16 keys holding it, 4 FMA chains over the head), and scores are scaled
  // by 0.25.
  // CHECK-DAG: %[[W:.+]] = arith.constant 4 : index
  // CHECK-DAG: %[[B:.+]] = arith.constant 16 : index
  // CHECK-DAG: %[[SCALE:.+]] = arith.constant dense<2.500000e-01> : vector<16xf32>
  // CHECK: %[[BEYOND:.+]] = arith.cmpi ugt, %[[COUNT:.+]], %[[W]] : index
  // CHECK: %[[FROM:.+]] = arith.subi %[[COUNT]], %[[W]] : index
  // CHECK: %[[FIRST:.+]] = arith.select %[[BEYOND]], %[[FROM]], %{{.+}} : index
  // CHECK: %[[LANE:.+]] = arith.remui %[[FIRST]], %[[B]] : index
  // CHECK: %[[START:.+]] = arith.subi %[[FIRST]], %[[LANE]] : index
  // CHECK: scf.for %{{.+}} = %[[START]] to %[[COUNT]] step %[[B]]
  // CHECK: scf.for {{.*}} iter_args(%{{.+}} = %{{.+}}, %{{.+}} = %{{.+}}, %{{.+}} = %{{.+}}, %{{.+}} = %{{.+}}) -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>)
  // CHECK-COUNT-4: vector.fma
  // CHECK: arith.mulf %{{.+}}, %[[SCALE]] : vector<16xf32>
  // CHECK: vector.store
  // CHECK: scf.for %{{.+}} = %[[FIRST]] to %[[COUNT]]
  %o = tlm.attention %q, %k, %k, %kc, %vc, %pos {layer = 1 : i64, heads = 2 : i64, kv_heads = 1 : i64, head_dim = 8 : i64, window = 4 : i64, scale = 0.25 : f32}
      : tensor<1x16xf32>, tensor<1x8xf32>, tensor<1x8xf32>, memref<2x32x8xf32>, memref<2x32x8xf32> -> tensor<1x16xf32>
  return %o : tensor<1x16xf32>
}

// -----

// CHECK-LABEL: func.func @softcapped
func.func @softcapped(%x: tensor<1x8xf32>) -> tensor<1x8xf32> {
  // 30 * tanh(x / 30), libm's tanh.
  // CHECK-DAG: %[[INV:.+]] = arith.constant 0.0333333351 : f32
  // CHECK-DAG: %[[CAP:.+]] = arith.constant 3.000000e+01 : f32
  // CHECK: %[[S:.+]] = arith.mulf %{{.+}}, %[[INV]] : f32
  // CHECK: %[[T:.+]] = math.tanh %[[S]] : f32
  // CHECK: arith.mulf %[[T]], %[[CAP]] : f32
  %y = tlm.softcap %x {cap = 30.0 : f32} : tensor<1x8xf32>
  return %y : tensor<1x8xf32>
}

// -----

// CHECK-LABEL: func.func @layer_norm
func.func @layer_norm(%x: tensor<2x8xf32>, %w: tensor<8xf32>, %b: tensor<8xf32>) -> tensor<2x8xf32> {
  // The row's sum, then its squared deviations from the mean, then
  // (x - mean) / sqrt(var + eps) * w + b.
  // CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "reduction"]
  // CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "reduction"]
  // CHECK: arith.subf
  // CHECK: linalg.generic
  // CHECK: math.sqrt
  %y = tlm.layer_norm %x, %w, %b {eps = 1.0e-5 : f32} : tensor<2x8xf32>, tensor<8xf32>, tensor<8xf32>
  return %y : tensor<2x8xf32>
}

// -----

// CHECK-LABEL: func.func @positions
func.func @positions(%x: tensor<2x8xf32>, %t: tensor<16x8xf16>, %pos: index) -> tensor<2x8xf32> {
  // Row t reads the table at pos + t, widened from f16.
  // CHECK: %[[ROW:.+]] = linalg.index 0 : index
  // CHECK: %[[COL:.+]] = linalg.index 1 : index
  // CHECK: %[[P:.+]] = arith.addi %{{.+}}, %[[ROW]] : index
  // CHECK: tensor.extract %{{.+}}{{\[}}%[[P]], %[[COL]]] : tensor<16x8xf16>
  // CHECK: arith.extf
  %y = tlm.add_positions %x, %t, %pos : tensor<2x8xf32>, tensor<16x8xf16>
  return %y : tensor<2x8xf32>
}

// -----

// A prefill chunk of at least 64 tokens (kParallelTokenLoopRows) splits
// its per-token loops between the products across the threads: RoPE's
// rows and the append to the KV caches are marked for
// tlm-parallelize-rows, as the attention's units are.
// CHECK-LABEL: func.func @prefill_token_loops
func.func @prefill_token_loops(%q: tensor<64x32xf32>, %k: tensor<64x16xf32>, %kc: memref<1x128x16xf32>, %vc: memref<1x128x16xf32>, %pos: index) -> tensor<64x32xf32> {
  // CHECK: %[[ROTATED:.+]] = memref.alloc() : memref<64x16xf32>
  // CHECK: scf.for %[[ROW:.+]] = %{{.+}} to %[[C64:.+]] step
  // CHECK: vector.store %{{.+}}, %[[ROTATED]][%[[ROW]], %{{.+}}]
  // CHECK: } {tlmc.parallel_loop}
  // CHECK: scf.for %[[T:.+]] = %{{.+}} to %[[C64]] step
  // CHECK: memref.store
  // CHECK: memref.store %{{.+}}, %{{.+}}[%{{.+}}] : memref<2048xf32>
  // CHECK: } {tlmc.parallel_loop}
  %r = tlm.rope %k, %pos {head_dim = 16 : i64, theta = 1.0e4 : f32, style = #tlm.rope_style<adjacent>} : tensor<64x16xf32>
  %o = tlm.attention %q, %r, %k, %kc, %vc, %pos {layer = 0 : i64, heads = 2 : i64, kv_heads = 1 : i64, head_dim = 16 : i64}
      : tensor<64x32xf32>, tensor<64x16xf32>, tensor<64x16xf32>, memref<1x128x16xf32>, memref<1x128x16xf32> -> tensor<64x32xf32>
  return %o : tensor<64x32xf32>
}
