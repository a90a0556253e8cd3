#===- TLMCLinkLLVM.cmake - how tlmc's tools link LLVM and MLIR -------------===#
#
# Sets TLMC_MLIR_LIBS, the libraries every LLVM/MLIR-using target links, and
# TLMC_MLIR_OPT_LIBS, what tlmc-opt adds.
#
# Statically (the default): a compiler's resident memory is part of what it
# costs the user. With Debian's libLLVM.so + libMLIR.so every tlmc process
# starts at ~83 MB resident (relocating and paging in two 100+ MB dylibs);
# linked from the static archives, only the code tlmc uses is mapped and
# `tlmc --version` needs ~28 MB. That is what brings a SmolLM2-135M Q4_0
# compile from 2.0x to ~1.05x its 77 MB file (issue #8's bound is 1.5x).
# Linking takes ~1-2 s per tool with lld.
#
# TLMC_LINK_LLVM_DYLIB=ON links the two dylibs instead (smaller build dir).
#
#===----------------------------------------------------------------------===#

option(TLMC_LINK_LLVM_DYLIB
       "Link libLLVM.so and libMLIR.so instead of LLVM's static archives" OFF)

if(TLMC_LINK_LLVM_DYLIB)
  set(TLMC_MLIR_LIBS MLIR LLVM)
  set(TLMC_MLIR_OPT_LIBS)
  return()
endif()

# Debian builds MLIR with LLVM_LINK_LLVM_DYLIB, so its exported static MLIR
# libraries name the `LLVM` dylib as their only LLVM dependency; the
# per-component dependencies they were built from are not exported. Point
# them at one interface target that carries the LLVM component archives
# instead.
# The components tlmc reaches, directly or through MLIR: the three backends it
# registers (codegen/Target/TargetOptions.cpp), the optimization pipeline, and
# what MLIR's LLVM IR translation uses. Each component target brings its own
# dependencies.
set(tlmc_llvm_component_libs
  LLVMX86CodeGen LLVMX86Desc LLVMX86Info
  LLVMAArch64CodeGen LLVMAArch64Desc LLVMAArch64Info
  LLVMRISCVCodeGen LLVMRISCVDesc LLVMRISCVInfo
  LLVMPasses LLVMipo LLVMVectorize LLVMCoroutines LLVMLinker LLVMIRReader
  LLVMAsmParser LLVMBitWriter LLVMFrontendOpenMP LLVMFrontendHLSL
  LLVMFrontendOffloading LLVMMCDisassembler LLVMObjectYAML LLVMSupport)
# add_llvm_executable links the dylib when this is set.
set(LLVM_LINK_LLVM_DYLIB OFF)
add_library(tlmc_llvm_static INTERFACE)
target_link_libraries(tlmc_llvm_static INTERFACE ${tlmc_llvm_component_libs})

get_directory_property(tlmc_imported_targets IMPORTED_TARGETS)
foreach(target IN LISTS tlmc_imported_targets)
  if(NOT target MATCHES "^MLIR")
    continue()
  endif()
  get_target_property(type ${target} TYPE)
  if(NOT type STREQUAL "STATIC_LIBRARY")
    continue()
  endif()
  get_target_property(deps ${target} INTERFACE_LINK_LIBRARIES)
  if(NOT deps)
    continue()
  endif()
  list(TRANSFORM deps REPLACE "^LLVM$" "tlmc_llvm_static")
  set_target_properties(${target} PROPERTIES INTERFACE_LINK_LIBRARIES "${deps}")
endforeach()

# tlmc-opt's driver (MlirOptMain); in the dylib it is part of libMLIR.so.
set(TLMC_MLIR_OPT_LIBS MLIROptLib)

# The MLIR libraries tlmc's code calls into; their own dependencies follow.
set(TLMC_MLIR_LIBS
  MLIRIR MLIRParser MLIRPass MLIRSupport MLIRTransforms MLIRTransformUtils
  MLIRBytecodeWriter
  MLIRAffineDialect MLIRArithDialect MLIRArithTransforms
  MLIRBufferizationDialect MLIRBufferizationTransforms
  MLIRControlFlowDialect MLIRFuncDialect MLIRIndexDialect MLIRLLVMDialect
  MLIRLinalgDialect MLIRLinalgTransforms MLIRMathDialect MLIRMathTransforms
  MLIRMemRefDialect
  MLIRMemRefTransforms MLIRSCFDialect MLIRSCFTransforms MLIRTensorDialect
  MLIRTensorTransforms MLIRVectorDialect
  MLIRAffineToStandard MLIRArithToLLVM MLIRControlFlowToLLVM MLIRFuncToLLVM
  MLIRIndexToLLVM MLIRMathToLLVM MLIRMemRefToLLVM MLIRReconcileUnrealizedCasts
  MLIRSCFToControlFlow MLIRVectorToLLVMPass
  MLIRBuiltinToLLVMIRTranslation MLIRLLVMToLLVMIRTranslation
  MLIRTargetLLVMIRExport
  tlmc_llvm_static)
