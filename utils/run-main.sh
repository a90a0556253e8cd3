#!/usr/bin/env bash
#===- utils/run-main.sh - the main job: build, then import a real model -----===#
#
# Uses stories260K from ../shared/models when present, else a model of the
# same shape that the project generates itself (seeded random weights).
#
#===-------------------------------------------------------------------------===#
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/utils/build.sh"
build="${TLMC_BUILD_DIR:-$root/build}"
bin="$build/bin"
model="$root/../shared/models/stories260K/stories260K.bin"
if [ ! -f "$model" ]; then
  echo "run-main: $model is absent; generating a stories260K-shaped model"
  mkdir -p "$build/models"
  "$bin/tlmc-modelgen" --shape stories260K --format llama2c \
    -o "$build/models/stories260K.bin"
  model="$build/models/stories260K.bin"
fi
"$bin/tlmc" inspect "$model"
"$bin/tlmc" import "$model" -o "$build/stories260K.mlir"
echo "run-main: wrote $build/stories260K.mlir ($(grep -c 'tlm.attention' "$build/stories260K.mlir") attention ops)"
