//===- Pipeline.cpp - from the tlm graph to the LLVM dialect ----------*- C++ -*-===//

#include "codegen/Pipeline.h"
#include "codegen/Passes.h"
#include "codegen/Target/TargetOptions.h"
#include "dialects/compress/Transforms/Passes.h"
#include "dialects/tlm/IR/TLMDialect.h"

#include "mlir/Conversion/AffineToStandard/AffineToStandard.h"
#include "mlir/Conversion/ArithToLLVM/ArithToLLVM.h"
#include "mlir/Conversion/ControlFlowToLLVM/ControlFlowToLLVM.h"
#include "mlir/Conversion/FuncToLLVM/ConvertFuncToLLVMPass.h"
#include "mlir/Conversion/IndexToLLVM/IndexToLLVM.h"
#include "mlir/Conversion/MathToLLVM/MathToLLVM.h"
#include "mlir/Conversion/MemRefToLLVM/MemRefToLLVM.h"
#include "mlir/Conversion/ReconcileUnrealizedCasts/ReconcileUnrealizedCasts.h"
#include "mlir/Conversion/SCFToControlFlow/SCFToControlFlow.h"
#include "mlir/Conversion/VectorToLLVM/ConvertVectorToLLVMPass.h"
#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Bufferization/Transforms/FuncBufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Index/IR/IndexDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/Linalg/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/SCF/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Tensor/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

void tlmc::registerCodegenDialects(DialectRegistry &registry) {
  registry.insert<tlm::TLMDialect, compress::CompressDialect,
                  affine::AffineDialect, arith::ArithDialect,
                  bufferization::BufferizationDialect, cf::ControlFlowDialect,
                  func::FuncDialect, index::IndexDialect,
                  linalg::LinalgDialect, LLVM::LLVMDialect, math::MathDialect,
                  memref::MemRefDialect, scf::SCFDialect,
                  tensor::TensorDialect, vector::VectorDialect>();
  // One-shot bufferization only knows ops whose dialects registered these.
  arith::registerBufferizableOpInterfaceExternalModels(registry);
  bufferization::func_ext::registerBufferizableOpInterfaceExternalModels(
      registry);
  linalg::registerBufferizableOpInterfaceExternalModels(registry);
  scf::registerBufferizableOpInterfaceExternalModels(registry);
  tensor::registerBufferizableOpInterfaceExternalModels(registry);
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
}

void tlmc::buildLoweringPipeline(OpPassManager &pm,
                                 const LoweringOptions &options) {
  pm.addPass(createTLMShareLayers());
  ConvertTLMToLinalgOptions toLinalg;
  toLinalg.sparseBlocks = options.sparseBlocks;
  toLinalg.ggmlPanels = options.ggmlPanels;
  toLinalg.floatPanels = options.floatPanels;
  toLinalg.attentionHeadsPerPass = options.attentionHeadsPerPass;
  pm.addPass(createConvertTLMToLinalg(toLinalg));
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());

  bufferization::OneShotBufferizePassOptions bufferize;
  bufferize.bufferizeFunctionBoundaries = true;
  // Identity layouts at function boundaries: the entry points take plain
  // pointers (bare-pointer calling convention).
  bufferize.functionBoundaryTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferize));
  bufferization::BufferResultsToOutParamsPassOptions outParams;
  outParams.hoistStaticAllocs = true;
  outParams.modifyPublicFunctions = true;
  pm.addPass(bufferization::createBufferResultsToOutParamsPass(outParams));
  pm.addPass(createCanonicalizerPass());

  TLMPlanArenaOptions arena;
  arena.symbolPrefix = options.symbolPrefix;
  pm.addPass(createTLMPlanArena(arena));
  TLMTokenLoopsOptions tokenLoops;
  tokenLoops.minWork = options.tokenLoopMinWork;
  pm.addPass(createTLMTokenLoops(tokenLoops));
  TLMParallelizeRowsOptions rows;
  rows.minWork = options.parallelMinWork;
  pm.addPass(createTLMParallelizeRows(rows));
  TLMUseUKernelsOptions ukernels;
  ukernels.isa = options.productKernels;
  ukernels.hardwarePrefetch = options.hardwarePrefetch;
  pm.addPass(createTLMUseUKernels(ukernels));

  pm.addNestedPass<func::FuncOp>(createTLMVectorizeElementwise());
  pm.addNestedPass<func::FuncOp>(createTLMReductionLoops());
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToLoopsPass());
  pm.addNestedPass<func::FuncOp>(createTLMApproximateExp());
  if (options.softF16)
    pm.addNestedPass<func::FuncOp>(createTLMExpandF16Conversions());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(createConvertVectorToLLVMPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertIndexToLLVMPass());
  ConvertFuncToLLVMPassOptions func;
  func.useBarePtrCallConv = true;
  pm.addPass(createConvertFuncToLLVMPass(func));
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
  pm.addPass(createCanonicalizerPass());
}

namespace {
struct LowerToLLVMOptions : PassPipelineOptions<LowerToLLVMOptions> {
  Option<bool> sparseBlocks{
      *this, "sparse-blocks",
      llvm::cl::desc("Sparse weights in 32-feature blocks (AVX-512 targets)"),
      llvm::cl::init(false)};
  Option<std::string> productKernels{
      *this, "product-kernels",
      llvm::cl::desc("Runtime micro-kernels products may call (avx512, "
                     "avx512vnni or amx)"),
      llvm::cl::init("")};
  Option<int64_t> attentionHeadsPerPass{
      *this, "attention-heads-per-pass",
      llvm::cl::desc("Query heads of a KV group whose attention scores one "
                     "pass over the keys computes (4 on AVX-512 targets)"),
      llvm::cl::init(1)};
};
} // namespace

void tlmc::registerCodegenPasses() {
  registerTLMCodegenPasses();
  compress::registerCompressPasses();
  PassPipelineRegistration<LowerToLLVMOptions>(
      "tlm-lower-to-llvm",
      "Lower a tlm module to the LLVM dialect (the tlmc compile pipeline)",
      [](OpPassManager &pm, const LowerToLLVMOptions &options) {
        LoweringOptions lowering;
        lowering.sparseBlocks = options.sparseBlocks;
        lowering.productKernels = options.productKernels;
        lowering.ggmlPanels = packsGGMLPanels(options.productKernels);
        lowering.floatPanels = packsFloatPanels(options.productKernels);
        lowering.attentionHeadsPerPass = options.attentionHeadsPerPass;
        buildLoweringPipeline(pm, lowering);
      });
}
