// RUN: tlmc-opt %s --convert-tlm-to-linalg=float-panels=true | %FileCheck %s --check-prefix=PANELS
// RUN: tlmc-opt %s --convert-tlm-to-linalg | %FileCheck %s --check-prefix=ROWS

// Which runtime kernel a float product asks for (tlmc.ukernel, taken by
// tlm-use-ukernels). With float-panels (a target with the panel kernels),
// f16, bf16 and f32 weights which only products and lookups read are
// packed in 16-row panels (their views marked tlmc.float_panels) and name
// the panel kernels; rows that are not a multiple of 16 end in a padded
// panel (a bf16 weight of 172 rows takes 4 more), unless the padding would
// add more than a sixteenth of the rows (24 rows would take 8) or a lookup
// reads the weight: such bf16 weights stay in rows, and bf16 has no row
// kernel, so their products stay the generic one. Without float-panels, f16 and f32 name
// the row kernels. A lookup in a panel-packed table reads (row, col) where
// the panels put it: ((row / 16) * columns + col) * 16 + row % 16.

module attributes {tlm.config = #tlm.config<arch = "llama", vocab = 16, dim = 8, ffn_dim = 12, layers = 1, heads = 2, kv_heads = 1, head_dim = 4, context_length = 32, rope_theta = 1.0e4 : f32, rope_style = adjacent, norm_eps = 1.0e-5 : f32, tied_embeddings = true, bos = 1, eos = 2>} {
  tlm.weight @w16 : tensor<16x8xf16>
  tlm.weight @wb16 : tensor<32x8xbf16>
  tlm.weight @w32 : tensor<16x8xf32>
  tlm.weight @wb172 : tensor<172x8xbf16>
  tlm.weight @wb24 : tensor<24x8xbf16>
  tlm.weight @wb24table : tensor<24x8xbf16>

  // PANELS-LABEL: func.func @products
  // PANELS-DAG: bufferization.to_tensor %{{.+}} restrict {tlmc.float_panels} : memref<16x8xf16>
  // PANELS-DAG: bufferization.to_tensor %{{.+}} restrict {tlmc.float_panels} : memref<32x8xbf16>
  // PANELS-DAG: bufferization.to_tensor %{{.+}} restrict {tlmc.float_panels} : memref<16x8xf32>
  // PANELS-DAG: bufferization.to_tensor %{{.+}} restrict {tlmc.float_panels} : memref<172x8xbf16>
  // PANELS-DAG: bufferization.to_tensor %{{.+}} restrict : memref<24x8xbf16>
  // PANELS: tlmc.ukernel = "f16x16"
  // PANELS: tlmc.ukernel = "bf16x16"
  // PANELS: tlmc.ukernel = "f32x16"
  // PANELS: tlmc.ukernel = "bf16x16"
  // PANELS-NOT: tlmc.ukernel
  // PANELS: ins(%{{.+}}, %{{.+}} : tensor<2x8xf32>, tensor<24x8xbf16>)
  // PANELS-NOT: tlmc.ukernel
  // PANELS: ins(%{{.+}}, %{{.+}} : tensor<2x8xf32>, tensor<24x8xbf16>)
  // PANELS-NOT: tlmc.ukernel
  // PANELS: arith.extf %{{.+}} : bf16 to f32
  // PANELS-NOT: tlmc.ukernel
  // PANELS: return
  // ROWS-LABEL: func.func @products
  // ROWS-NOT: tlmc.float_panels
  // ROWS: tlmc.ukernel = "f16"
  // ROWS-NOT: tlmc.ukernel = "bf16
  // ROWS: tlmc.ukernel = "f32"
  // ROWS-NOT: tlmc.ukernel
  // ROWS: return
  func.func @products(%x: tensor<2x8xf32>) -> (tensor<2x16xf32>, tensor<2x32xf32>, tensor<2x16xf32>, tensor<2x172xf32>, tensor<2x24xf32>, tensor<2x24xf32>) {
    %a = tlm.weight_ref @w16 : tensor<16x8xf16>
    %b = tlm.weight_ref @wb16 : tensor<32x8xbf16>
    %c = tlm.weight_ref @w32 : tensor<16x8xf32>
    %p = tlm.weight_ref @wb172 : tensor<172x8xbf16>
    %d = tlm.weight_ref @wb24 : tensor<24x8xbf16>
    %e = tlm.weight_ref @wb24table : tensor<24x8xbf16>
    %ya = tlm.linear %x, %a : tensor<2x8xf32>, tensor<16x8xf16> -> tensor<2x16xf32>
    %yb = tlm.linear %x, %b : tensor<2x8xf32>, tensor<32x8xbf16> -> tensor<2x32xf32>
    %yc = tlm.linear %x, %c : tensor<2x8xf32>, tensor<16x8xf32> -> tensor<2x16xf32>
    %yp = tlm.linear %x, %p : tensor<2x8xf32>, tensor<172x8xbf16> -> tensor<2x172xf32>
    %yd = tlm.linear %x, %d : tensor<2x8xf32>, tensor<24x8xbf16> -> tensor<2x24xf32>
    %ye = tlm.linear %x, %e : tensor<2x8xf32>, tensor<24x8xbf16> -> tensor<2x24xf32>
    return %ya, %yb, %yc, %yp, %yd, %ye : tensor<2x16xf32>, tensor<2x32xf32>, tensor<2x16xf32>, tensor<2x172xf32>, tensor<2x24xf32>, tensor<2x24xf32>
  }

  // PANELS-LABEL: func.func @lookup
  // PANELS-DAG: %[[C16:.+]] = arith.constant 16 : index
  // PANELS-DAG: %[[C8:.+]] = arith.constant 8 : index
  // PANELS: %[[PANEL:.+]] = arith.divui %[[ROW:.+]], %[[C16]] : index
  // PANELS: %[[WITHIN:.+]] = arith.remui %[[ROW]], %[[C16]] : index
  // PANELS: %[[AT:.+]] = arith.muli %[[PANEL]], %[[C8]] : index
  // PANELS: %[[COLUMN:.+]] = arith.addi %[[AT]], %{{.+}} : index
  // PANELS: %[[START:.+]] = arith.muli %[[COLUMN]], %[[C16]] : index
  // PANELS: %[[FLAT:.+]] = arith.addi %[[START]], %[[WITHIN]] : index
  // PANELS: arith.divui %[[FLAT]], %[[C8]] : index
  // PANELS: arith.remui %[[FLAT]], %[[C8]] : index
  // PANELS: tensor.extract %{{.+}} : tensor<32x8xbf16>
  // PANELS: arith.extf %{{.+}} : bf16 to f32
  // ROWS-LABEL: func.func @lookup
  // ROWS-NOT: arith.divui
  // ROWS: tensor.extract %{{.+}} : tensor<32x8xbf16>
  func.func @lookup(%t: tensor<2xi32>) -> tensor<2x8xf32> {
    %b = tlm.weight_ref @wb16 : tensor<32x8xbf16>
    %y = tlm.embedding %t, %b : tensor<2xi32>, tensor<32x8xbf16> -> tensor<2x8xf32>
    return %y : tensor<2x8xf32>
  }

  // The 24-row table's lookup reads rows.
  // PANELS-LABEL: func.func @padded_table_lookup
  // PANELS-NOT: arith.divui
  // PANELS: tensor.extract %{{.+}} : tensor<24x8xbf16>
  func.func @padded_table_lookup(%t: tensor<2xi32>) -> tensor<2x8xf32> {
    %e = tlm.weight_ref @wb24table : tensor<24x8xbf16>
    %y = tlm.embedding %t, %e : tensor<2xi32>, tensor<24x8xbf16> -> tensor<2x8xf32>
    return %y : tensor<2x8xf32>
  }
}
