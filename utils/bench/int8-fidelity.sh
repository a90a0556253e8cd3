#!/usr/bin/env bash
#===- utils/bench/int8-fidelity.sh - what int8 activations cost -----------===#
#
# stories260K quantized by llama.cpp to Q8_0 and Q4_0, compiled with and
# without int8 activations: perplexity, mean KL, top-1 agreement (see
# int8_fidelity.py). Needs the llama.cpp peer (utils/setup-peer.sh).
#
#===-------------------------------------------------------------------------===#
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
"$root/utils/setup-peer.sh"
"$root/utils/build.sh" >/dev/null
build="${TLMC_BUILD_DIR:-$root/build}"
exec python3 "$root/utils/bench/int8_fidelity.py" --build "$build" \
  --shared "$root/../shared" "$@"
