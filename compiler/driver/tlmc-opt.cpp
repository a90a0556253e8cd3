//===- tlmc-opt.cpp - mlir-opt with the tlmc dialects and passes ---*- C++ -*-===//

#include "codegen/Pipeline.h"

#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"

int main(int argc, char **argv) {
  // Upstream passes the tlmc pipeline uses, for testing its stages alone.
  // (Not every upstream conversion: with LLVM linked statically that would
  // pull GPU, SPIR-V and EmitC lowerings into the tool.)
  mlir::registerTransformsPasses();
  mlir::bufferization::registerBufferizationPasses();
  mlir::registerLinalgPasses();
  mlir::memref::registerMemRefPasses();
  tlmc::registerCodegenPasses();
  mlir::DialectRegistry registry;
  tlmc::registerCodegenDialects(registry);
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "tlmc optimizer driver\n", registry));
}
