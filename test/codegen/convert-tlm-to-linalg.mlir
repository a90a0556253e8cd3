// RUN: tlmc-opt %s --convert-tlm-to-linalg | %FileCheck %s
// RUN: tlmc-opt %s --convert-tlm-to-linalg | %FileCheck %s --check-prefix=PREFETCH
// RUN: tlmc-opt %s --convert-tlm-to-linalg=attention-heads-per-pass=2 | %FileCheck %s --check-prefix=GROUPED

// Weights become views of a leading %weights argument at the offsets of the
// weight layout (64-byte aligned, declaration order); graph ops become
// linalg.generic on tensors; attention becomes loops over its cache buffers.

module attributes {tlm.config = #tlm.config<arch = "llama", vocab = 16, dim = 8, ffn_dim = 12, layers = 1, heads = 2, kv_heads = 1, head_dim = 4, context_length = 32, rope_theta = 1.0e4 : f32, rope_style = adjacent, norm_eps = 1.0e-5 : f32, tied_embeddings = true, bos = 1, eos = 2>} {
  tlm.weight @norm : tensor<8xf32>
  tlm.weight @wq : tensor<8x8xf16>
  tlm.weight @wk : tensor<4x8xf32>

  // CHECK-LABEL: func.func @step
  // CHECK-SAME: (%[[W:.+]]: memref<320xi8>, %[[X:.+]]: tensor<1x8xf32>, %[[POS:.+]]: index, %[[KC:.+]]: memref<1x32x4xf32>, %[[VC:.+]]: memref<1x32x4xf32>)
  func.func @step(%x: tensor<1x8xf32>, %pos: index, %kc: memref<1x32x4xf32>, %vc: memref<1x32x4xf32>) -> tensor<1x8xf32> {
    // CHECK-DAG: %[[C0:.+]] = arith.constant 0 : index
    // CHECK-DAG: %[[C64:.+]] = arith.constant 64 : index
    // CHECK-DAG: %[[C192:.+]] = arith.constant 192 : index
    // CHECK-DAG: memref.view %[[W]][%[[C0]]][] : memref<320xi8> to memref<8xf32>
    // CHECK-DAG: memref.view %[[W]][%[[C64]]][] : memref<320xi8> to memref<8x8xf16>
    // CHECK-DAG: memref.view %[[W]][%[[C192]]][] : memref<320xi8> to memref<4x8xf32>
    // A decode step first asks for the key cache lines its new key will be
    // stored in (one element per line: kv_heads x head_dim of them), and
    // the lines of its new value's rows (one per 64 bytes of a KV head's
    // row: head_dim 4 is one), for writing, before the products that
    // compute them.
    // PREFETCH-LABEL: func.func @step
    // PREFETCH-SAME: %[[KC:[^:]+]]: memref<1x32x4xf32>, %[[VC:[^:]+]]: memref<1x32x4xf32>)
    // PREFETCH: %[[PKEYS:.+]] = memref.collapse_shape %[[KC]] {{\[\[}}0, 1, 2{{\]\]}}
    // PREFETCH-NEXT: scf.for
    // PREFETCH: memref.prefetch %[[PKEYS]][%{{.+}}], write, locality<3>, data : memref<128xf32>
    // PREFETCH: %[[PVALUES:.+]] = memref.collapse_shape %[[VC]] {{\[\[}}0, 1, 2{{\]\]}}
    // PREFETCH-NEXT: scf.for %{{.+}} = %{{.+}} to %{{.+}} step %c4
    // PREFETCH: memref.prefetch %[[PVALUES]][%{{.+}}], write, locality<3>, data : memref<128xf32>
    // PREFETCH: memref.view
    // PREFETCH: linalg.generic
    %n = tlm.weight_ref @norm : tensor<8xf32>
    %wq = tlm.weight_ref @wq : tensor<8x8xf16>
    %wk = tlm.weight_ref @wk : tensor<4x8xf32>
    // RMSNorm: a sum-of-squares reduction (reassociable, so it vectorizes),
    // then the scaling.
    // CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "reduction"]
    // CHECK: arith.mulf %{{.+}}, %{{.+}} fastmath<reassoc> : f32
    // CHECK: arith.addf %{{.+}}, %{{.+}} fastmath<reassoc> : f32
    // CHECK: math.sqrt
    %h = tlm.rms_norm %x, %n {eps = 1.0e-5 : f32} : tensor<1x8xf32>, tensor<8xf32>
    // Linear: an f16 weight is extended on load; marked for threading.
    // CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "reduction"]
    // CHECK: arith.extf %{{.+}} : f16 to f32
    // CHECK: tlmc.parallel_rows
    %q = tlm.linear %h, %wq : tensor<1x8xf32>, tensor<8x8xf16> -> tensor<1x8xf32>
    %k = tlm.linear %h, %wk : tensor<1x8xf32>, tensor<4x8xf32> -> tensor<1x4xf32>
    // RoPE: powf/cos/sin on the position, the partner element extracted.
    // CHECK: math.powf
    // CHECK: math.cos
    // CHECK: math.sin
    // CHECK: tensor.extract
    %qr = tlm.rope %q, %pos {head_dim = 4 : i64, theta = 1.0e4 : f32, style = #tlm.rope_style<adjacent>} : tensor<1x8xf32>
    // Attention: append to the caches (keys in blocks of 16 positions,
    // values in rows per KV head, both through the cache as one run of
    // elements), then softmax and weighted
    // sum, per head: across threads (the loop marked for
    // tlm-parallelize-rows) when 2 x heads x tokens x head_dim x positions
    // reaches 65536 (a model this narrow; see @decode_wide), the same loop
    // inline otherwise.
    // CHECK: bufferization.to_buffer
    // CHECK: scf.for
    // CHECK: %[[KEYS:.+]] = memref.collapse_shape %[[KC]] {{\[\[}}0, 1, 2{{\]\]}} : memref<1x32x4xf32> into memref<128xf32>
    // CHECK: memref.store %{{.+}}, %[[KEYS]][%{{.+}}] : memref<128xf32>
    // CHECK: %[[VALUES:.+]] = memref.collapse_shape %[[VC]] {{\[\[}}0, 1, 2{{\]\]}} : memref<1x32x4xf32> into memref<128xf32>
    // CHECK: memref.store %{{.+}}, %[[VALUES]][%{{.+}}] : memref<128xf32>
    // CHECK: %[[WORK:.+]] = arith.muli %{{.+}}, %{{.+}} : index
    // CHECK: %[[ENOUGH:.+]] = arith.cmpi uge, %[[WORK]], %c65536 : index
    // CHECK: scf.if %[[ENOUGH]] {
    // CHECK: math.exp
    // CHECK: } {tlmc.parallel_loop}
    // CHECK: } else {
    // CHECK: math.exp
    // CHECK: bufferization.to_tensor %{{.+}} restrict writable
    %a = tlm.attention %qr, %k, %k, %kc, %vc, %pos {layer = 0 : i64, heads = 2 : i64, kv_heads = 1 : i64, head_dim = 4 : i64}
        : tensor<1x8xf32>, tensor<1x4xf32>, tensor<1x4xf32>, memref<1x32x4xf32>, memref<1x32x4xf32> -> tensor<1x8xf32>
    %s = tlm.swiglu %a, %a : tensor<1x8xf32>
    %r = tlm.add %x, %s : tensor<1x8xf32>
    return %r : tensor<1x8xf32>
  }

  // A chunk of 32 tokens: attention's loop runs over units of (head, block
  // of 16 tokens), 2 heads x 2 blocks, each with its own row of scores, so
  // that the threads split a chunk into more units than heads.
  // CHECK-LABEL: func.func @chunk
  // A chunk's append is a small part of its work (and fills whole
  // lines): no prefetch.
  // PREFETCH-LABEL: func.func @chunk
  // PREFETCH-NOT: memref.prefetch
  func.func @chunk(%q: tensor<32x8xf32>, %k: tensor<32x4xf32>, %pos: index, %kc: memref<1x32x4xf32>, %vc: memref<1x32x4xf32>) -> tensor<32x8xf32> {
    // CHECK-DAG: %[[C2:.+]] = arith.constant 2 : index
    // CHECK-DAG: %[[C4:.+]] = arith.constant 4 : index
    // CHECK-DAG: %[[C16:.+]] = arith.constant 16 : index
    // CHECK: %[[SCORES:.+]] = memref.alloc() : memref<4x32xf32>
    // CHECK: scf.if
    // CHECK: scf.for %[[U:.+]] = %{{.+}} to %[[C4]] step
    // CHECK: %[[HEAD:.+]] = arith.divui %[[U]], %[[C2]] : index
    // CHECK: %[[BLOCK:.+]] = arith.remui %[[U]], %[[C2]] : index
    // CHECK: %[[FIRST:.+]] = arith.muli %[[BLOCK]], %[[C16]] : index
    // CHECK: %[[END:.+]] = arith.addi %[[FIRST]], %[[C16]] : index
    // CHECK: scf.for %{{.+}} = %[[FIRST]] to %[[END]] step
    // CHECK: vector.store %{{.+}}, %[[SCORES]][%[[U]], %{{.+}}]
    // CHECK: } {tlmc.parallel_loop}
    %a = tlm.attention %q, %k, %k, %kc, %vc, %pos {layer = 0 : i64, heads = 2 : i64, kv_heads = 1 : i64, head_dim = 4 : i64}
        : tensor<32x8xf32>, tensor<32x4xf32>, tensor<32x4xf32>, memref<1x32x4xf32>, memref<1x32x4xf32> -> tensor<32x8xf32>
    return %a : tensor<32x8xf32>
  }

  // 2 KV groups x 8 blocks of 16 tokens are enough units for the threads:
  // with attention-heads-per-pass a unit takes both heads of a group (16
  // units of 2 rows of scores) and each key vector loaded feeds both
  // heads' FMAs; without it, one head's.
  // CHECK-LABEL: func.func @grouped
  // CHECK: memref.alloc() : memref<32x128xf32>
  // CHECK: %[[KEY:.+]] = vector.load %{{.+}} : memref<1024xf32>, vector<16xf32>
  // CHECK: vector.fma %{{.+}}, %[[KEY]], %{{.+}}
  // CHECK-NOT: vector.fma %{{.+}}, %[[KEY]],
  // CHECK: vector.load %{{.+}} : memref<1024xf32>, vector<16xf32>
  // GROUPED-LABEL: func.func @grouped
  // GROUPED: memref.alloc() : memref<32x128xf32>
  // GROUPED: scf.for %[[U:.+]] = %{{.+}} to %[[UNITS:.+]] step
  // GROUPED: %[[FIRSTROW:.+]] = arith.muli %[[U]], %[[C2:.+]] : index
  // GROUPED: %[[KEY:.+]] = vector.load %{{.+}} : memref<1024xf32>, vector<16xf32>
  // GROUPED: vector.fma %{{.+}}, %[[KEY]], %{{.+}}
  // GROUPED-NOT: vector.load %{{.+}} : memref<1024xf32>
  // GROUPED: vector.fma %{{.+}}, %[[KEY]], %{{.+}}
  // Then the weighted sums of both heads share each value load: two
  // products of it, one per head's score, and four sums (even and odd
  // positions of each head) carried by the loop. A KV head's values are
  // rows of their own (at kvh * head_dim * capacity + position * head_dim
  // in layer 0), one stream per KV group.
  // GROUPED: scf.for %[[S:.+]] = %{{.+}} iter_args({{.+}}) -> (vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>)
  // GROUPED: %[[HEADROWS:.+]] = arith.muli %{{.+}}, %c128 : index
  // GROUPED: %[[ROW:.+]] = arith.muli %[[S]], %c4 : index
  // GROUPED: %[[AT:.+]] = arith.addi %[[HEADROWS]], %[[ROW]] : index
  // GROUPED: %[[VALUE:.+]] = vector.load %{{.+}}[%[[AT]]] : memref<1024xf32>, vector<4xf32>
  // GROUPED: arith.mulf %{{.+}}, %[[VALUE]] : vector<4xf32>
  // GROUPED-NOT: vector.load
  // GROUPED: arith.mulf %{{.+}}, %[[VALUE]] : vector<4xf32>
  // GROUPED: } {tlmc.parallel_loop}
  func.func @grouped(%q: tensor<128x16xf32>, %k: tensor<128x8xf32>, %pos: index, %kc: memref<1x128x8xf32>, %vc: memref<1x128x8xf32>) -> tensor<128x16xf32> {
    %a = tlm.attention %q, %k, %k, %kc, %vc, %pos {layer = 0 : i64, heads = 4 : i64, kv_heads = 2 : i64, head_dim = 4 : i64}
        : tensor<128x16xf32>, tensor<128x8xf32>, tensor<128x8xf32>, memref<1x128x8xf32>, memref<1x128x8xf32> -> tensor<128x16xf32>
    return %a : tensor<128x16xf32>
  }

  // A decode step of 2 KV groups: with attention-heads-per-pass its units
  // are the groups too (2 units of 2 heads, one pass over the keys for
  // both); without, one unit per head.
  // CHECK-LABEL: func.func @decode_groups
  // PREFETCH-LABEL: func.func @decode_groups
  // CHECK: } {tlmc.parallel_loop}
  // CHECK-NEXT: } else {
  // CHECK-NEXT: scf.for %{{.+}} = %{{.+}} to %[[C4:.+]] step
  // GROUPED-LABEL: func.func @decode_groups
  // GROUPED: %[[ENOUGH:.+]] = arith.cmpi uge
  // GROUPED-NEXT: scf.if %[[ENOUGH]] {
  // GROUPED-NEXT: scf.for %[[U:.+]] = %{{.+}} to %[[C2:.+]] step
  // GROUPED: arith.muli %[[U]], %[[C2]] : index
  // GROUPED: %[[KEY:.+]] = vector.load %{{.+}} : memref<256xf32>, vector<16xf32>
  // GROUPED: vector.fma %{{.+}}, %[[KEY]], %{{.+}}
  // GROUPED-NOT: vector.load %{{.+}} : memref<256xf32>
  // GROUPED: vector.fma %{{.+}}, %[[KEY]], %{{.+}}
  // GROUPED: } {tlmc.parallel_loop}
  func.func @decode_groups(%q: tensor<1x16xf32>, %k: tensor<1x8xf32>, %pos: index, %kc: memref<1x32x8xf32>, %vc: memref<1x32x8xf32>) -> tensor<1x16xf32> {
    %a = tlm.attention %q, %k, %k, %kc, %vc, %pos {layer = 0 : i64, heads = 4 : i64, kv_heads = 2 : i64, head_dim = 4 : i64}
        : tensor<1x16xf32>, tensor<1x8xf32>, tensor<1x8xf32>, memref<1x32x8xf32>, memref<1x32x8xf32> -> tensor<1x16xf32>
    return %a : tensor<1x16xf32>
  }

  // In a model whose width squared reaches 65536 (its products run on
  // threads already), attention splits across threads from 16384
  // multiply-adds instead of 65536.
  // CHECK-LABEL: func.func @decode_wide
  // CHECK: arith.cmpi uge, %{{.+}}, %c16384 : index
  func.func @decode_wide(%q: tensor<1x256xf32>, %k: tensor<1x64xf32>, %pos: index, %kc: memref<1x32x64xf32>, %vc: memref<1x32x64xf32>) -> tensor<1x256xf32> {
    %a = tlm.attention %q, %k, %k, %kc, %vc, %pos {layer = 0 : i64, heads = 4 : i64, kv_heads = 1 : i64, head_dim = 64 : i64}
        : tensor<1x256xf32>, tensor<1x64xf32>, tensor<1x64xf32>, memref<1x32x64xf32>, memref<1x32x64xf32> -> tensor<1x256xf32>
    return %a : tensor<1x256xf32>
  }

  // A cache of 2048 positions, more than a row of scores holds (1024): a
  // token that sees at most 1024 positions keeps the reference's steps over
  // one row (normalized per position before the sum of values); one that
  // sees more takes them a tile of 1024 at a time, with a running maximum
  // and sum per head, rescaling the running sum of values, and divides it
  // by the sum at the end.
  // CHECK-LABEL: func.func @long_context
  // PREFETCH-LABEL: func.func @long_context
  // PREFETCH: memref.prefetch
  // CHECK-DAG: %[[TILE:.+]] = arith.constant 1024 : index
  // CHECK-DAG: %[[SCORES:.+]] = memref.alloc() : memref<2x1024xf32>
  // CHECK-DAG: %[[STATE:.+]] = memref.alloc() : memref<2x3xf32>
  // CHECK: %[[FITS:.+]] = arith.cmpi ule, %[[SEEN:.+]], %[[TILE]] : index
  // CHECK: scf.if %[[FITS]] {
  // CHECK: vector.store %{{.+}}, %[[SCORES]]
  // CHECK: math.exp
  // CHECK: arith.divf %{{.+}}, %{{.+}} : f32
  // CHECK: } else {
  // CHECK: scf.for %[[BASE:.+]] = %[[FIRSTBLOCK:.+]] to %[[SEEN]] step %[[TILE]] {
  // CHECK: arith.minui
  // CHECK: %[[FIRST:.+]] = arith.cmpi eq, %[[BASE]], %[[FIRSTBLOCK]] : index
  // CHECK: vector.store %{{.+}}, %[[SCORES]]
  // CHECK: memref.load %[[STATE]]
  // CHECK: %[[NEWMAX:.+]] = arith.select %[[FIRST]]
  // CHECK: math.exp
  // CHECK: %[[RESCALE:.+]] = math.exp
  // CHECK: arith.select %[[FIRST]]
  // CHECK: memref.store %[[NEWMAX]], %[[STATE]]
  // CHECK: memref.store %[[RESCALE]], %[[STATE]]
  // CHECK: %[[SAVED:.+]] = memref.load %[[STATE]]
  // CHECK: vector.broadcast %[[SAVED]] : f32 to vector<4xf32>
  // CHECK: arith.select %[[FIRST]], %{{.+}}, %{{.+}} : vector<4xf32>
  // CHECK: }
  // CHECK: arith.divf %{{.+}}, %{{.+}} : vector<4xf32>
  // CHECK: } {tlmc.parallel_loop}
  func.func @long_context(%q: tensor<1x8xf32>, %k: tensor<1x4xf32>, %pos: index, %kc: memref<1x2048x4xf32>, %vc: memref<1x2048x4xf32>) -> tensor<1x8xf32> {
    %a = tlm.attention %q, %k, %k, %kc, %vc, %pos {layer = 0 : i64, heads = 2 : i64, kv_heads = 1 : i64, head_dim = 4 : i64}
        : tensor<1x8xf32>, tensor<1x4xf32>, tensor<1x4xf32>, memref<1x2048x4xf32>, memref<1x2048x4xf32> -> tensor<1x8xf32>
    return %a : tensor<1x8xf32>
  }
}
// CHECK-NOT: tlm.
