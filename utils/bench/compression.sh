#!/usr/bin/env bash
#===- utils/bench/compression.sh - speed and size of compressed compiles ----===#
#
# Compiles one model as fp32 and with each compression, then prints, side by
# side and as ratios to fp32: compile time, weights bytes, decode tokens/s
# (best of 5 runs of POSITIONS positions, default 512, greedy, never stopping
# early) and peak RSS. Numbers, not
# pass/fail: tests assert correctness, this measures.
#
#   utils/bench/compression.sh [MODEL] [THREADS] [POSITIONS]
#
#===-------------------------------------------------------------------------===#
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="${TLMC_BUILD_DIR:-$root/build}"
model="${1:-$root/../shared/models/stories260K/stories260K.bin}"
threads="${2:-1}"
positions="${3:-512}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

variants=("fp32|" "int8|--quantize=int8" "int4:g32|--quantize=int4:g32"
          "int4:g32:asym|--quantize=int4:g32:asym" "prune-ffn:0.25|--prune=ffn:0.25"
          "prune-heads:4|--prune=heads:4" "prune-kv:1|--prune=kv:1"
          "sparse-50%|--prune=unstructured:0.5" "sparse-2:4|--prune=2:4")
printf "%-16s %10s %12s %10s %10s %8s %8s\n" variant "compile s" "weights B" \
  "tok/s" "RSS KiB" "size x" "speed x"
base_speed="" base_size=""
for v in "${variants[@]}"; do
  name="${v%%|*}" flags="${v#*|}"
  out="$work/${name//:/_}"
  start=$(date +%s.%N)
  # shellcheck disable=SC2086
  "$build/bin/tlmc" compile "$model" -o "$out" --exe $flags 2>/dev/null
  compile=$(echo "$(date +%s.%N) - $start" | bc)
  size=$(stat -c %s "$out.tlmw")
  best=0 rss=0
  for _ in 1 2 3 4 5; do
    line=$( { /usr/bin/time -f "RSS %M" "$out" -p "Once upon a time" -n "$positions" --ignore-eos \
              --temp 0 --threads "$threads" >/dev/null; } 2>&1 )
    tps=$(echo "$line" | sed -n 's/^achieved tok\/s: \([0-9.]*\).*/\1/p')
    r=$(echo "$line" | sed -n 's/^RSS \([0-9]*\)/\1/p')
    best=$(echo "if ($tps > $best) $tps else $best" | bc)
    rss=$r
  done
  base_speed=${base_speed:-$best} base_size=${base_size:-$size}
  printf "%-16s %10.2f %12d %10.1f %10d %8.3f %8.3f\n" "$name" "$compile" \
    "$size" "$best" "$rss" "$(echo "$size / $base_size" | bc -l)" \
    "$(echo "$best / $base_speed" | bc -l)"
done
