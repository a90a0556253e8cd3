// The conversions test/codegen/expand-f16-conversions-exhaustive.test
// checks, as C-callable functions.
func.func @tlmc_extend_f16(%h: f16) -> f32 {
  %f = arith.extf %h : f16 to f32
  return %f : f32
}
func.func @tlmc_truncate_f32(%f: f32) -> f16 {
  %h = arith.truncf %f : f32 to f16
  return %h : f16
}
