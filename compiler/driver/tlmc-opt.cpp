//===- tlmc-opt.cpp - mlir-opt with the tlmc dialects and passes ---*- C++ -*-===//

#include "codegen/Pipeline.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"

int main(int argc, char **argv) {
  mlir::registerTransformsPasses();
  tlmc::registerCodegenPasses();
  mlir::DialectRegistry registry;
  tlmc::registerCodegenDialects(registry);
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "tlmc optimizer driver\n", registry));
}
