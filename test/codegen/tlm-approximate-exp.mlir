// RUN: tlmc-opt %s --pass-pipeline='builtin.module(func.func(tlm-approximate-exp))' | %FileCheck %s

// Each f32 math.exp, scalar or vector, becomes plain arithmetic (no call of
// libm's expf is left to lower); other math ops stay.

// CHECK-LABEL: func.func @softmax_terms
// CHECK-NOT: math.exp
// CHECK: arith.bitcast
// CHECK: math.tanh
func.func @softmax_terms(%x: f32, %v: vector<16xf32>) -> (f32, vector<16xf32>, f32) {
  %e = math.exp %x : f32
  %w = math.exp %v : vector<16xf32>
  %t = math.tanh %x : f32
  return %e, %w, %t : f32, vector<16xf32>, f32
}
