#!/usr/bin/env bash
#===- utils/fuzz.sh - build and run the libFuzzer targets -------------------===#
#
#   utils/fuzz.sh [TARGET...] [--seconds N | --runs N]
#                                             fuzz (default: every target, 60 s
#                                             each) and keep what adds coverage
#   utils/fuzz.sh --smoke [--build-dir D] [--seconds N] TARGET
#                                             what ctest runs: the kept corpus
#                                             and the regressions, then N s of
#                                             fuzzing; findings go to
#                                             D/fuzz-findings, nothing to the repo
#
# Targets (test/fuzz): gguf llama2c safetensors llama2c-tokenizer
# hf-tokenizer container tokenize chat-template. Each runs in-process on bytes, with a
# 1 s limit per input and bounded memory (see limits below); a crash, a
# hang, an over-allocation or a broken check is written to
# test/fuzz/findings/ (fuzzing) or the build's fuzz-findings/ (smoke) and
# fails the run. A finding, once fixed, goes to test/fuzz/regressions/TARGET/.
#===----------------------------------------------------------------------===#
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
all=(gguf llama2c safetensors llama2c-tokenizer hf-tokenizer container tokenize
  chat-template)
smoke=0
seconds=60
runs=""
build="$root/build-sanitize"
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --smoke) smoke=1 ;;
    --seconds) seconds="$2"; shift ;;
    --runs) runs="$2"; shift ;;
    --build-dir) build="$2"; shift ;;
    -*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
    *) targets+=("$1") ;;
  esac
  shift
done
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")

# The longest input each target reads: its seeds fit, and an input stays
# fast to run under ASan.
max_len() {
  case "$1" in
    gguf|llama2c|safetensors) echo 131072 ;;
    container) echo 65536 ;;
    llama2c-tokenizer|hf-tokenizer) echo 65536 ;;
    tokenize) echo 4096 ;;
  esac
}
# Memory: no single allocation above 256 MiB, the process below 2 GiB
# (ASan's shadow and quarantine included). A parser that reserves what a
# header claims instead of what the file holds trips the first.
limits=(-timeout=1 -malloc_limit_mb=256 -rss_limit_mb=2048)
# As in the test command: Debian's LLVM archives are not instrumented while
# their inline allocator code in ours is (see utils/run-tests.sh).
export ASAN_OPTIONS="allow_user_poisoning=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"

if [ "$smoke" = 0 ]; then
  "$root/utils/setup.sh"
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DTLMC_SANITIZE=address,undefined -DTLMC_FUZZ=ON > /dev/null
  cmake --build "$build" -j "$(nproc)" \
    --target $(printf 'fuzz-%s ' "${targets[@]}")
fi

# Seeds from the real models in ../shared, for the formats that have them.
shared_seeds() {
  local target="$1" out="$2" models="$root/../shared/models"
  case "$target" in
    gguf) cp "$models"/*/*.gguf "$out/" 2>/dev/null || true ;;
    llama2c) cp "$models"/stories260K/stories260K.bin "$out/" 2>/dev/null || true ;;
    llama2c-tokenizer) cp "$models"/stories260K/tok512.bin "$out/" 2>/dev/null || true ;;
    safetensors)
      local hf="$models/stories260K/hf"
      if [ -f "$hf/config.json" ]; then
        { cat "$hf/config.json"; printf '\n--model.safetensors--\n'
          cat "$hf/model.safetensors"; } > "$out/stories260K-hf"
      fi ;;
  esac
}

# A kept corpus is one archive per target (test/fuzz/corpus.sh).
corpus_sh="$root/test/fuzz/corpus.sh"

status=0
for target in "${targets[@]}"; do
  bin="$build/bin/fuzz-$target"
  archive="$root/test/fuzz/corpus/$target.tar.xz"
  regressions="$root/test/fuzz/regressions/$target"
  dict=()
  [ -f "$root/test/fuzz/dict/$target.dict" ] &&
    dict=(-dict="$root/test/fuzz/dict/$target.dict")
  work="$(mktemp -d)"
  mkdir -p "$work/new" "$work/regressions"
  corpus="$work/corpus"
  "$corpus_sh" unpack "$archive" "$corpus"
  [ ! -d "$regressions" ] || cp -r "$regressions/." "$work/regressions/"
  if [ "$smoke" = 1 ]; then
    artifacts="$build/fuzz-findings/$target-"
    mkdir -p "$build/fuzz-findings"
  else
    shared_seeds "$target" "$work/new"
    artifacts="$root/test/fuzz/findings/$target-"
    mkdir -p "$root/test/fuzz/findings"
  fi
  budget=(-max_total_time="$seconds")
  [ -n "$runs" ] && budget=(-runs="$runs")
  echo "== fuzz-$target: ${runs:-${seconds}s} over $(ls "$corpus" | wc -l)" \
       "kept inputs and $(ls "$work/regressions" | wc -l) regressions"
  start=$(date +%s)
  if ! "$bin" "${limits[@]}" -max_len="$(max_len "$target")" "${dict[@]}" \
      "${budget[@]}" -print_final_stats=1 \
      -artifact_prefix="$artifacts" "$work/new" "$corpus" "$work/regressions" \
      > "$work/log" 2>&1; then
    tail -n 60 "$work/log"
    echo "fuzz-$target: FINDING (input in ${artifacts}*)" >&2
    status=1
  else
    grep -E "^stat::number_of_executed_units|^stat::peak_rss_mb" "$work/log" |
      tr -s ' \n' ' '; echo "in $(( $(date +%s) - start )) s"
    if [ "$smoke" = 0 ]; then
      # Keep only the inputs that add coverage.
      if "$bin" -merge=1 -max_len="$(max_len "$target")" "$corpus" \
          "$work/new" > "$work/merge.log" 2>&1; then
        "$corpus_sh" pack "$archive" "$corpus"
        echo "kept: $(ls "$corpus" | wc -l) inputs," \
             "$(( $(stat -c %s "$archive") / 1024 )) KiB packed"
      else
        tail "$work/merge.log"; status=1
      fi
    fi
  fi
  rm -rf "$work"
done
exit $status
