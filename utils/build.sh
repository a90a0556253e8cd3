#!/usr/bin/env bash
#===- utils/build.sh - install dependencies, configure and build ------------===#
#
# Shared by the two README commands. Idempotent; re-runs are incremental
# (ccache keeps even a fresh build dir cheap on the same machine).
#
#===-------------------------------------------------------------------------===#
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/utils/setup.sh"
build="${TLMC_BUILD_DIR:-$root/build}"
# Configure on a fresh build dir, and again once utils/setup-peer.sh has
# brought the llama.cpp reference that a configured dir has not seen yet.
if [ ! -f "$build/build.ninja" ] ||
   { [ -f "$build/peer/include/llama.h" ] &&
     ! grep -q '^TLMC_LLAMACPP_FOUND:INTERNAL=1' "$build/CMakeCache.txt"; }; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release
fi
cmake --build "$build" -j "$(nproc)"
