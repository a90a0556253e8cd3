#!/usr/bin/env bash
#===- utils/setup-peer.sh - fetch the pinned llama.cpp reference ------------===#
#
# The peer tlmc is checked and benchmarked against: llama.cpp as the npm
# registry carries it, pinned. node-llama-cpp@3.22.1 holds the matching
# llama.cpp source (llama/gitRelease.bundle: include/llama.h and ggml's
# headers); @node-llama-cpp/linux-x64@3.22.1 holds prebuilt libllama and
# libggml with per-CPU variants of the CPU backend. `npm pack` fetches the
# two tarballs without running any install script; nothing else is built.
#
#   utils/setup-peer.sh [DIR]    (default: $TLMC_BUILD_DIR or build/, /peer)
#
# Idempotent: a complete DIR is left alone. Only the peer tests and the
# benchmark need it (utils/run-tests.sh calls it; the main job does not).
#
#===-------------------------------------------------------------------------===#
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
version=3.22.1
dir="${1:-${TLMC_BUILD_DIR:-$root/build}/peer}"
marker="$dir/.complete-$version"
if [ -f "$marker" ]; then
  echo "setup-peer: llama.cpp (node-llama-cpp $version) present in $dir"
  exit 0
fi
for tool in npm git tar; do
  command -v "$tool" >/dev/null || { echo "setup-peer: needs $tool" >&2; exit 1; }
done
rm -rf "$dir"
mkdir -p "$dir/tarballs"
(cd "$dir/tarballs" &&
 npm pack --silent "node-llama-cpp@$version" \
   "@node-llama-cpp/linux-x64@$version" >/dev/null)
mkdir -p "$dir/node-llama-cpp" "$dir/linux-x64"
tar xzf "$dir/tarballs/node-llama-cpp-$version.tgz" -C "$dir/node-llama-cpp"
tar xzf "$dir/tarballs/node-llama-cpp-linux-x64-$version.tgz" -C "$dir/linux-x64"
git clone --quiet "$dir/node-llama-cpp/package/llama/gitRelease.bundle" \
  "$dir/llama.cpp" 2>/dev/null
mkdir -p "$dir/include"
cp "$dir/llama.cpp/include/"*.h "$dir/llama.cpp/ggml/include/"*.h "$dir/include/"
ln -sfn "$dir/linux-x64/package/bins/linux-x64" "$dir/bins"
cp "$dir/node-llama-cpp/package/llama/llama.cpp.info.json" "$dir/"
rm -rf "$dir/tarballs" "$dir/llama.cpp" "$dir/node-llama-cpp"
for f in include/llama.h include/ggml-backend.h bins/libllama.v0.5.0.so; do
  [ -e "$dir/$f" ] || { echo "setup-peer: $dir/$f missing after unpacking" >&2; exit 1; }
done
touch "$marker"
echo "setup-peer: llama.cpp (node-llama-cpp $version, $(tr -d ' \n' < "$dir/llama.cpp.info.json")) in $dir"
