#!/usr/bin/env bash
#===- utils/run-tests.sh - build and run every test (lit + GoogleTest) ------===#
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# The llama.cpp reference for the peer tests (never for the main job).
"$root/utils/setup-peer.sh"
"$root/utils/build.sh"
build="${TLMC_BUILD_DIR:-$root/build}"
ctest --test-dir "$build" -j "$(nproc)" --output-on-failure
