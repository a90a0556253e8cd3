//===- EmitObject.cpp - LLVM dialect to a native object file -----------*- C++ -*-===//

#include "codegen/Target/EmitObject.h"
#include "codegen/Passes.h"
#include "runtime/include/tlm/tlm.h"

#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/IR/Constants.h"
#include "llvm/IR/GlobalAlias.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/IR/Verifier.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/ToolOutputFile.h"

using namespace tlmc;

/// Adds `const tlm_model <symbol>` (see runtime/include/tlm/tlm.h).
static llvm::Error addDescriptor(llvm::Module &module,
                                 const ModelDescriptor &d) {
  llvm::LLVMContext &ctx = module.getContext();
  auto *i32 = llvm::Type::getInt32Ty(ctx);
  auto *i64 = llvm::Type::getInt64Ty(ctx);
  auto *ptr = llvm::PointerType::get(ctx, 0);
  auto fn = [&](llvm::StringRef name) -> llvm::Constant * {
    return module.getFunction(name);
  };
  if (!fn(d.decodeSymbol) || !fn(d.prefillSymbol) ||
      !fn(d.prefillLastSymbol) ||
      (!d.prefillWideSymbol.empty() && !fn(d.prefillWideSymbol)))
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "internal error: entry points missing");
  llvm::Constant *container = llvm::ConstantPointerNull::get(ptr);
  if (!d.embeddedContainer.empty()) {
    auto *data = llvm::ConstantDataArray::get(
        ctx, llvm::ArrayRef<uint8_t>(
                 reinterpret_cast<const uint8_t *>(d.embeddedContainer.data()),
                 d.embeddedContainer.size()));
    auto *global = new llvm::GlobalVariable(
        module, data->getType(), /*isConstant=*/true,
        llvm::GlobalValue::PrivateLinkage, data, d.symbol + "_container");
    global->setAlignment(llvm::Align(64));
    container = global;
  }
  auto *type = llvm::StructType::get(
      ctx, {i32, i32, i64, i64, i64, ptr, ptr, ptr, i64, ptr, i32, i32, ptr,
            i32});
  llvm::Constant *wide = d.prefillWideSymbol.empty()
                             ? llvm::ConstantPointerNull::get(ptr)
                             : fn(d.prefillWideSymbol);
  auto *init = llvm::ConstantStruct::get(
      type, {llvm::ConstantInt::get(i32, TLM_ABI_VERSION),
             llvm::ConstantInt::get(i32, d.prefillChunk),
             llvm::ConstantInt::get(i64, d.fingerprint),
             llvm::ConstantInt::get(i64, d.arenaBytes),
             llvm::ConstantInt::get(i64, d.weightsBytes), fn(d.decodeSymbol),
             fn(d.prefillSymbol), container,
             llvm::ConstantInt::get(i64, d.embeddedContainer.size()),
             fn(d.prefillLastSymbol), llvm::ConstantInt::get(i32, d.vocab),
             llvm::ConstantInt::get(i32, d.context), wide,
             llvm::ConstantInt::get(i32, d.prefillWideChunk)});
  auto *descriptor = new llvm::GlobalVariable(
      module, type, /*isConstant=*/true, llvm::GlobalValue::ExternalLinkage,
      init, d.symbol);
  descriptor->setAlignment(llvm::Align(8));
  if (d.defineDefaultAlias)
    llvm::GlobalAlias::create("tlm_default_model", descriptor);
  return llvm::Error::success();
}

llvm::Error tlmc::emitObjectFile(mlir::ModuleOp module,
                                 llvm::TargetMachine &machine,
                                 const ModelDescriptor &descriptor,
                                 llvm::StringRef path) {
  // Layer functions exist to be one copy of the code; func-to-llvm drops
  // func.func attributes it does not know, so the mark is carried as
  // kNoInlineAttr and applied here.
  module.walk([](mlir::LLVM::LLVMFuncOp fn) {
    if (fn->hasAttr(kNoInlineAttr))
      fn.setNoInline(true);
  });
  llvm::LLVMContext context;
  std::unique_ptr<llvm::Module> llvmModule =
      mlir::translateModuleToLLVMIR(module, context, "tlmc-model");
  if (!llvmModule)
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "cannot translate the module to LLVM IR");
  llvmModule->setTargetTriple(machine.getTargetTriple());
  llvmModule->setDataLayout(machine.createDataLayout());
  if (llvm::Error err = addDescriptor(*llvmModule, descriptor))
    return err;
  if (llvm::verifyModule(*llvmModule, &llvm::errs()))
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "internal error: invalid LLVM IR");

  // -O3 for the target: vectorization and unrolling use its features. The
  // pass builder's defaults leave SLP vectorization off (clang turns it on
  // at -O2 and up); the small fixed-size loops over a head's dimensions
  // need it.
  llvm::PipelineTuningOptions tuning;
  tuning.LoopVectorization = true;
  tuning.SLPVectorization = true;
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  llvm::PassBuilder builder(&machine, tuning);
  builder.registerModuleAnalyses(mam);
  builder.registerCGSCCAnalyses(cgam);
  builder.registerFunctionAnalyses(fam);
  builder.registerLoopAnalyses(lam);
  builder.crossRegisterProxies(lam, fam, cgam, mam);
  builder.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O3)
      .run(*llvmModule, mam);

  std::error_code ec;
  llvm::ToolOutputFile out(path, ec, llvm::sys::fs::OF_None);
  if (ec)
    return llvm::createStringError(ec, "%s: %s", path.str().c_str(),
                                   ec.message().c_str());
  llvm::legacy::PassManager codegen;
  if (machine.addPassesToEmitFile(codegen, out.os(), nullptr,
                                  llvm::CodeGenFileType::ObjectFile))
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "the target cannot emit object files");
  codegen.run(*llvmModule);
  out.keep();
  return llvm::Error::success();
}
