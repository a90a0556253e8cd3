// RUN: tlmc-opt %s --pass-pipeline='builtin.module(func.func(tlm-expand-f16-conversions))' | %FileCheck %s

// Every f16 <-> f32 conversion, scalar or vector, becomes integer
// arithmetic: no arith.extf/truncf is left for LLVM to turn into a libcall.
// Other conversions stay.

// CHECK-LABEL: func.func @ext
// CHECK-NOT: arith.extf
// CHECK: arith.bitcast %{{.*}} : f16 to i16
// CHECK: arith.mulf
// CHECK: arith.select
func.func @ext(%h: f16) -> f32 {
  %f = arith.extf %h : f16 to f32
  return %f : f32
}

// CHECK-LABEL: func.func @trunc
// CHECK-NOT: arith.truncf
// CHECK: arith.addf
// CHECK: arith.trunci %{{.*}} : i32 to i16
// CHECK: arith.bitcast %{{.*}} : i16 to f16
func.func @trunc(%f: f32) -> f16 {
  %h = arith.truncf %f : f32 to f16
  return %h : f16
}

// CHECK-LABEL: func.func @vectors
// CHECK-NOT: arith.extf
// CHECK-NOT: arith.truncf
// CHECK: arith.bitcast %{{.*}} : vector<8xf16> to vector<8xi16>
// CHECK: arith.bitcast %{{.*}} : vector<8xi16> to vector<8xf16>
func.func @vectors(%h: vector<8xf16>, %x: vector<8xf32>)
    -> (vector<8xf32>, vector<8xf16>) {
  %f = arith.extf %h : vector<8xf16> to vector<8xf32>
  %g = arith.truncf %x : vector<8xf32> to vector<8xf16>
  return %f, %g : vector<8xf32>, vector<8xf16>
}

// CHECK-LABEL: func.func @others
// CHECK: arith.extf %{{.*}} : f32 to f64
// CHECK: arith.extf %{{.*}} : bf16 to f32
func.func @others(%x: f32, %b: bf16) -> (f64, f32) {
  %d = arith.extf %x : f32 to f64
  %f = arith.extf %b : bf16 to f32
  return %d, %f : f64, f32
}
