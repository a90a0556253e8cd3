#!/usr/bin/env bash
#===- utils/run-main.sh - the main job: compile a model, generate a story ---===#
#
#   utils/run-main.sh [MODEL [PROMPT]]
#
# Builds tlmc, compiles MODEL (a GGUF, llama2.c .bin or Hugging Face folder;
# default stories260K from ../shared/models, e.g. the public MIT-licensed
# tinyllamas stories260K.gguf; without it, a model of the same shape the
# project generates itself, whose seeded random weights write GIBBERISH by
# design) into a native executable, and runs it on PROMPT.
#
#===-------------------------------------------------------------------------===#
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
model="${1:-$root/../shared/models/stories260K/stories260K.bin}"
prompt="${2:-Once upon a time}"
if [ $# -ge 1 ] && [ ! -e "$model" ]; then
  echo "run-main: $model: no such model file or folder" >&2
  exit 1
fi
"$root/utils/build.sh"
build="${TLMC_BUILD_DIR:-$root/build}"
bin="$build/bin"
mkdir -p "$build/main"
if [ ! -e "$model" ]; then
  echo "run-main: $model is absent; generating a stories260K-shaped model." >&2
  echo "run-main: ITS WEIGHTS ARE RANDOM: THE TEXT WILL BE GIBBERISH BY DESIGN" \
       "(pass a model: utils/run-main.sh MODEL)" >&2
  "$bin/tlmc-modelgen" --shape stories260K --format llama2c \
    -o "$build/main/generated.bin"
  model="$build/main/generated.bin"
fi
name="$(basename "${model%/}")"
name="${name%.*}"
"$bin/tlmc" inspect "$model"
"$bin/tlmc" compile "$model" -o "$build/main/$name" --exe
echo "run-main: wrote $build/main/$name (native executable)," \
     "$name.o, $name.h, $name.tlmw"
echo "--- $build/main/$name -p \"$prompt\" -n 256 --temp 0.8 --seed 42"
"$build/main/$name" -p "$prompt" -n 256 --temp 0.8 --seed 42
