#!/usr/bin/env bash
#===- utils/run-tests.sh - build and run every test (lit + GoogleTest) ------===#
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# The references the tests compare against (never needed by the main job):
# llama.cpp for the peer tests, Hugging Face's tokenizers and real
# vocabularies for the tokenizer test.
"$root/utils/setup-peer.sh"
"$root/utils/setup-tokenizers.sh"
"$root/utils/build.sh"
build="${TLMC_BUILD_DIR:-$root/build}"
ctest --test-dir "$build" -j "$(nproc)" --output-on-failure

# The same tests again, built with AddressSanitizer and UndefinedBehavior-
# Sanitizer, any report fatal (-DTLMC_SANITIZE), plus a 20-second smoke of
# every fuzz target over its kept corpus (-DTLMC_FUZZ, test/fuzz). Left
# out: e2e-peer, whose llama.cpp library is not instrumented (and which is
# the longest).
# allow_user_poisoning=0: Debian's LLVM/MLIR archives are not instrumented
# while their inline allocator code in our files is, which reports
# use-after-poison on memory LLVM's own code rightly touches; every other
# check (out of bounds, use after free, leaks, UB) stays on.
sanitize="${TLMC_SANITIZE_BUILD_DIR:-$root/build-sanitize}"
cmake -S "$root" -B "$sanitize" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DTLMC_SANITIZE=address,undefined -DTLMC_FUZZ=ON \
  -DTLMC_REFERENCE_TOKENIZERS="$build/tokref" > /dev/null
cmake --build "$sanitize" -j "$(nproc)"
ASAN_OPTIONS=allow_user_poisoning=0 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir "$sanitize" -j "$(nproc)" --output-on-failure -E '^e2e-peer$'
