#!/usr/bin/env bash
#===- utils/run-tests.sh - build and run every test (lit + GoogleTest) ------===#
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/utils/build.sh"
build="${TLMC_BUILD_DIR:-$root/build}"
ctest --test-dir "$build" -j "$(nproc)" --output-on-failure
