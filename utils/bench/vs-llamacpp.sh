#!/usr/bin/env bash
#===- utils/bench/vs-llamacpp.sh - tlmc against llama.cpp, one run ----------===#
#
# Installs the pinned llama.cpp reference (utils/setup-peer.sh), builds, and
# runs utils/bench/vs_llamacpp.py: the same GGUFs, the same threads, the two
# systems interleaved; a markdown table and an SVG chart in docs/benchmarks/.
#
#   utils/bench/vs-llamacpp.sh [--rounds N] [--threads 1,2] [--models a,b]
#                              [--depth D] [--out-dir DIR]
#
# --depth D times both runs after D tokens of context (llama-bench's -d).
#
#===-------------------------------------------------------------------------===#
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
"$root/utils/setup-peer.sh"
"$root/utils/build.sh" >/dev/null
build="${TLMC_BUILD_DIR:-$root/build}"
exec python3 "$root/utils/bench/vs_llamacpp.py" --build "$build" \
  --shared "$root/../shared" "$@"
