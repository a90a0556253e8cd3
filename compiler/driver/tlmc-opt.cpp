//===- tlmc-opt.cpp - mlir-opt with the tlmc dialects and passes ---*- C++ -*-===//

#include "dialects/tlm/IR/TLMDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"

int main(int argc, char **argv) {
  mlir::registerTransformsPasses();
  mlir::DialectRegistry registry;
  registry.insert<mlir::tlm::TLMDialect, mlir::func::FuncDialect,
                  mlir::memref::MemRefDialect>();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "tlmc optimizer driver\n", registry));
}
