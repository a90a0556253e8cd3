#!/usr/bin/env bash
#===- utils/bench/job-profile.sh - a decode or prefill, job by job ----------===#
#
# Builds the compiler and a runtime that times every parallel job
# (-DTLMRT_JOB_PROFILE=ON, runtime/src/JobProfile.h) in build-jobprofile/,
# compiles MODEL with it, runs its --bench and prints, per kernel, the
# serial gap before its job, the job and the caller's wait at the job's end
# (mean time stamp counter ticks per job), when the workers started and
# finished (from the caller's entry), each side's time in the kernel's
# calls and how many ranges it took, the kernels named from the
# executable's symbols:
#
#   utils/bench/job-profile.sh MODEL.gguf [--threads N] [--bench PP,TG]
#
# What tokens per second cannot show on a noisy machine: which serial step
# or which job a change moved (docs/codegen.md, "2 threads").
#
#===-------------------------------------------------------------------------===#
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
[ $# -ge 1 ] || { echo "usage: $0 MODEL.gguf [--threads N] [--bench PP,TG]" >&2; exit 2; }
model="$1"; shift
threads=2; bench=4,128
while [ $# -gt 0 ]; do
  case "$1" in
    --threads) threads="$2"; shift 2 ;;
    --bench) bench="$2"; shift 2 ;;
    *) echo "$0: unknown option $1" >&2; exit 2 ;;
  esac
done
[ -f "$model" ] || { echo "$0: $model: no such file" >&2; exit 2; }
build="$root/build-jobprofile"
"$root/utils/setup.sh" >/dev/null
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DTLMRT_JOB_PROFILE=ON >/dev/null
cmake --build "$build" --target tlmc tlmrt >/dev/null
out="$build/job-profile/$(basename "$model" .gguf)"
mkdir -p "$(dirname "$out")"
"$build/bin/tlmc" compile "$model" -o "$out" --exe --context 512 >"$out.log" 2>&1 ||
  { cat "$out.log" >&2; exit 1; }
"$out" --bench "$bench" --reps 1 --threads "$threads" 2>"$out.profile"
nm "$out" > "$out.symbols"
python3 - "$out.profile" "$out.symbols" <<'PY'
import sys
names = {}
for line in open(sys.argv[2]):
    parts = line.split()
    if len(parts) == 3:
        names[int(parts[0], 16)] = parts[2]
rows = []
for line in open(sys.argv[1]):
    if not line.startswith("job-profile: 0x"):
        continue
    fields = line.split()[1:]
    rows.append((names.get(int(fields[0], 16), fields[0]), int(fields[1]),
                 *map(float, fields[2:])))
if not rows:
    sys.exit("job-profile: no jobs (one thread and nothing large enough?)")
print("| kernel | jobs | gap before | job | caller waits | workers start "
      "| workers done | busy caller / workers | takes caller / workers |")
print("|---|---|---|---|---|---|---|---|---|")
for (name, jobs, gap, job, wait, wstart, wend, cbusy, wbusy, ctakes,
     wtakes) in sorted(rows, key=lambda r: -r[1] * r[3]):
    print(f"| {name} | {jobs} | {gap:.0f} | {job:.0f} | {wait:.0f} "
          f"| {wstart:.0f} | {wend:.0f} | {cbusy:.0f} / {wbusy:.0f} "
          f"| {ctakes:.2f} / {wtakes:.2f} |")
total = lambda i: sum(r[1] * r[i] for r in rows)
print(f"\nticks in all: gaps {total(2):.3g}, jobs {total(3):.3g}, "
      f"caller waits {total(4):.3g} (of the jobs)")
PY
