# -*- Python -*-
import os

import lit.formats
from lit.llvm import llvm_config

config.name = "tlmc"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = config.tlmc_obj_root
config.excludes = ["CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py", "unit", "e2e",
                   "Inputs", "fuzz", "support"]

config.substitutions.append(("%shared", config.tlmc_shared_dir))
# FileCheck strictly, as STYLE.md asks.
config.substitutions.append(
    ("%FileCheck", "FileCheck -enable-var-scope --allow-unused-prefixes=false"))

llvm_config.use_default_substitutions()
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
llvm_config.add_tool_substitutions(
    ["tlmc", "tlmc-opt", "tlmc-modelgen"], [config.tlmc_tools_dir])
llvm_config.add_tool_substitutions(
    ["FileCheck", "not", "llvm-readelf", "llvm-objdump", "llvm-nm", "mlir-opt",
     "mlir-translate"], [config.llvm_tools_dir])

# The C compiler the build uses, for tests that compile generated code.
config.substitutions.append(("%cc", config.tlmc_c_compiler))
# F16C, to check conversions against the hardware's.
if os.path.exists("/proc/cpuinfo") and " f16c" in open("/proc/cpuinfo").read():
    config.available_features.add("x86_64-host-f16c")

# Cross executables link where this build made the target's runtime
# (cmake/TLMCCrossRuntime.cmake) and run where qemu-user is installed.
import shutil
for triple, qemu in [("aarch64-linux-gnu", "qemu-aarch64"),
                     ("riscv64-linux-gnu", "qemu-riscv64")]:
    lib = os.path.join(config.tlmc_tools_dir, "..", "lib", triple, "libtlmrt.a")
    if os.path.exists(lib) and shutil.which(qemu):
        config.available_features.add("cross-" + triple.split("-")[0])

# Tests on the real models run where ../shared has them.
for model in ["stories260K", "llama-2-tiny-random"]:
    if os.path.isdir(os.path.join(config.tlmc_shared_dir, "models", model)):
        config.available_features.add(model)
