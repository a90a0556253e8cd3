#!/usr/bin/env python3
"""Before/after: two builds of tlmc and llama.cpp, interleaved in one run.

Compiles each benchmark model (the GGUFs utils/bench/vs_llamacpp.py
generated into BUILD/bench, and stories260K from ../shared) with the tlmc
of --old-build and of --build, then runs, round by round, the old binary,
the new one and llama.cpp on the same GGUF with the same threads (pp128
from position 0, tg128 after a 4-token prompt, context 512), and prints a
markdown table of medians as ratios to llama.cpp in the same run (the
machine's speed at the time cancels) and one of the raw rates.

    git worktree add /tmp/old <rev> && cmake -S /tmp/old -B /tmp/old/build \
        -G Ninja -DCMAKE_BUILD_TYPE=Release && \
        cmake --build /tmp/old/build --target tlmc tlmrt
    utils/bench/before_after.py --old-build /tmp/old/build --build build \
        --shared ../shared [--rounds 4] [--models a,b]
"""
import argparse
import os
import statistics
import subprocess
import sys

from vs_llamacpp import DEFAULT_MODELS, MODELS, parse_bench


def compile_model(tlmc, gguf, out):
    r = subprocess.run([tlmc, "compile", gguf, "-o", out, "--exe",
                        "--context", "512"], capture_output=True, text=True)
    if r.returncode:
        sys.exit(f"before-after: {tlmc} compile {gguf} failed:\n{r.stderr}")
    return out


def bench(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode:
        sys.exit(f"before-after: {' '.join(cmd)} failed:\n{r.stderr}")
    return parse_bench(r.stdout)


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--old-build", required=True)
    p.add_argument("--build", required=True)
    p.add_argument("--shared", required=True)
    p.add_argument("--rounds", type=int, default=4)
    p.add_argument("--models", default=",".join(DEFAULT_MODELS))
    p.add_argument("--work", default="/tmp/tlmc-before-after")
    a = p.parse_args()
    peer = os.path.join(a.build, "bin", "tlmc-llamacpp")
    os.makedirs(a.work, exist_ok=True)
    ratios, rates = [], []
    for key in a.models.split(","):
        label = MODELS[key][0]
        gguf = (os.path.join(a.shared, "models", "stories260K",
                             "stories260K.gguf")
                if key.startswith("stories260K")
                else os.path.join(a.build, "bench", key + ".gguf"))
        if not os.path.exists(gguf):
            sys.exit(f"before-after: {gguf} missing (utils/bench/"
                     "vs-llamacpp.sh generates it)")
        exes = {s: compile_model(os.path.join(b, "bin", "tlmc"), gguf,
                                 os.path.join(a.work, f"{s}-{key}"))
                for s, b in (("old", a.old_build), ("new", a.build))}
        for t in (1, 2):
            res = {"old": [], "new": [], "peer": []}
            for _ in range(a.rounds):
                for s in ("old", "new"):
                    res[s].append(bench([exes[s], "--bench", "128,128",
                                         "--reps", "1", "--threads", str(t)]))
                res["peer"].append(bench([peer, gguf, "bench", "--pp", "128",
                                          "--tg", "128", "--reps", "1",
                                          "--threads", str(t), "--context",
                                          "512"]))
            med = {s: {k: statistics.median(r[k] for r in res[s])
                       for k in ("pp_tok_s", "tg_tok_s")} for s in res}
            ratio = {s: {k: med[s][k] / med["peer"][k] for k in med[s]}
                     for s in ("old", "new")}
            ratios.append(f"| {label} | {t} | {ratio['old']['pp_tok_s']:.2f}x "
                          f"| {ratio['new']['pp_tok_s']:.2f}x | "
                          f"{ratio['old']['tg_tok_s']:.2f}x | "
                          f"{ratio['new']['tg_tok_s']:.2f}x |")
            rates.append(f"| {label} | {t} | " + " / ".join(
                f"{med[s]['pp_tok_s']:.0f}" for s in ("old", "new", "peer")) +
                " | " + " / ".join(f"{med[s]['tg_tok_s']:.1f}"
                                   for s in ("old", "new", "peer")) + " |")
            print(ratios[-1], flush=True)
    print("\n| model | threads | prefill before | prefill after | "
          "decode before | decode after |\n|---|---|---|---|---|---|")
    print("\n".join(ratios))
    print("\nRates (tok/s; before / after / llama.cpp):\n\n"
          "| model | threads | prefill pp128 | decode tg128 |\n"
          "|---|---|---|---|")
    print("\n".join(rates))


if __name__ == "__main__":
    main()
