#!/usr/bin/env bash
#===- utils/run-main.sh - the main job: compile a model, generate a story ---===#
#
# Builds tlmc, compiles stories260K (from ../shared/models when present, else
# a model of the same shape that the project generates itself, with seeded
# random weights) into a native executable, and runs it.
#
#===-------------------------------------------------------------------------===#
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/utils/build.sh"
build="${TLMC_BUILD_DIR:-$root/build}"
bin="$build/bin"
model="$root/../shared/models/stories260K/stories260K.bin"
mkdir -p "$build/main"
if [ ! -f "$model" ]; then
  echo "run-main: $model is absent; generating a stories260K-shaped model" \
       "(random weights: the text will be gibberish)"
  "$bin/tlmc-modelgen" --shape stories260K --format llama2c \
    -o "$build/main/generated.bin"
  model="$build/main/generated.bin"
fi
"$bin/tlmc" inspect "$model"
"$bin/tlmc" compile "$model" -o "$build/main/stories260K" --exe
echo "run-main: wrote $build/main/stories260K (native executable)," \
     "stories260K.o, stories260K.h, stories260K.tlmw"
echo "--- $build/main/stories260K -p \"Once upon a time\" -n 256 --temp 0.8 --seed 42"
"$build/main/stories260K" -p "Once upon a time" -n 256 --temp 0.8 --seed 42
