#!/usr/bin/env bash
#===- utils/setup.sh - install the Debian packages tlmc builds with ---------===#
#
# Idempotent: when every package is already installed it does nothing (no
# apt-get update, no network). Run as root (or with sudo available).
#
#===-------------------------------------------------------------------------===#
set -euo pipefail

packages=(
  # LLVM / MLIR 22: libmlir-22-dev alone does not pull in the tools and the
  # LLVM headers that MLIRConfig.cmake needs (see docs/toolchain.md).
  llvm-22 llvm-22-dev llvm-22-tools libmlir-22-dev mlir-22-tools
  clang-22 lld-22
  # The sanitizers' runtimes, for the tests' ASan + UBSan configuration.
  libclang-rt-22-dev
  # tlmc links LLVM's static archives (cmake/TLMCLinkLLVM.cmake); LLVMSupport
  # needs zstd's development files then.
  libzstd-dev
  # Weight container, tests, benchmarks, build.
  libflatbuffers-dev flatbuffers-compiler
  libgtest-dev googletest libbenchmark-dev
  cmake ninja-build ccache python3
  # test/e2e/jinja.py: the chat-template renderer against Jinja2 itself.
  python3-jinja2
  # utils/bench: timing and peak memory.
  bc time
  # Kept fuzz corpora are xz archives (test/fuzz/corpus.sh).
  xz-utils
  # Cross targets: their C and C++ libraries and GCC's start files and support
  # library (clang --target links with them), and qemu-user to run what
  # is built for them.
  libc6-dev-arm64-cross libgcc-12-dev-arm64-cross libstdc++-12-dev-arm64-cross
  libc6-dev-riscv64-cross libgcc-12-dev-riscv64-cross
  libstdc++-12-dev-riscv64-cross
  qemu-user
  # The installed package's test links by hand with pkg-config's flags.
  pkgconf
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

echo "setup: installing ${missing[*]}"
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup: done"
