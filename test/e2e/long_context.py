#!/usr/bin/env python3
"""Attention past a tile of scores (online softmax), against llama.cpp.

A token that sees more than 1024 positions takes them a tile at a time
with a running maximum and sum (AttentionLowering.cpp's kSoftmaxTile):
its softmax is no longer llama2.c's order of rounding, so it is checked
against an independent reference at those positions. A SmolLM2-135M-shaped
random-weight model (head_dim 64, 3:1 grouped-query attention; 2 layers
and a 512-token vocabulary, so that 1400 positions of logits stay small),
compiled with a context of 2048, evaluates 1400 tokens; llama.cpp
(utils/setup-peer.sh, f32 KV cache, no flash attention) evaluates the same
file and tokens. Its logits at every position, those past 1024 included,
must be within 2e-4 of each position's spread, and 16 greedy tokens after
them identical. The two differ by the order of their sums, and over more
positions more: measured (Zen 5) worst 7e-6 of the spread in the first 100
positions, growing to 6e-5 by 1000 and 7e-5 at 1100-1200, with the median
position rising smoothly through 1024 (2.5e-5 on both sides), so tiles add
nothing visible. e2e-peer's bar for 16 positions is 1e-4; over 1400 it
is 2e-4, still orders of magnitude under any error of the rescaling
itself (a tile's wrong maximum or a missed rescale moves logits by whole
percents of their spread).

Then the properties the tiles must keep, without llama.cpp (so they run
under the sanitizers too): the prompt as prefill chunks and as one decode
step per token, and on 1 and 2 threads, give bitwise the same logits at
every position (tiles start at absolute positions), and the same tokens.
"""
import argparse
import os

from e2e_common import (Results, compile_model, read_logit_rows, run,
                        spread, tokens_of)

TOLERANCE = 2e-4
PROMPT = 1400
TILE = 1024
GREEDY = 16
VOCAB = 512


def generated(text):
    return tokens_of("generated_tokens:", text)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--tlmc", required=True)
    p.add_argument("--peer", help="tlmc-llamacpp (absent: no comparison)")
    p.add_argument("--work", required=True)
    a = p.parse_args()
    os.makedirs(a.work, exist_ok=True)
    res = Results()
    modelgen = os.path.join(os.path.dirname(a.tlmc), "tlmc-modelgen")
    gguf = os.path.join(a.work, "smollm2-2l-v512-f32.gguf")
    if not os.path.exists(gguf):
        r = run([modelgen, "--shape", "smollm2-135m", "--dtype", "f32",
                 "--layers", "2", "--vocab", str(VOCAB), "--seed", "11",
                 "-o", gguf + ".tmp"])
        if not res.check(r.returncode == 0, "model generated", r.stderr):
            res.finish()
        os.replace(gguf + ".tmp", gguf)
    exe = compile_model(a.tlmc, gguf, os.path.join(a.work, "long"),
                        "--context", "2048")
    ids = [1] + [(97 * i * i + 31 * i) % VOCAB for i in range(1, PROMPT)]
    prompt = ",".join(map(str, ids))

    def ours(name, *extra):
        path = os.path.join(a.work, name + ".bin")
        r = run([exe, "--prompt-tokens", prompt, "-n", str(PROMPT + GREEDY),
                 "--temp", "0", "--tokens", "--ignore-eos", "--dump-logits",
                 path, *extra])
        res.check(r.returncode == 0, f"{name}: ran", r.stderr)
        rows = read_logit_rows(path, VOCAB) if r.returncode == 0 else []
        return rows, r.stdout

    prefill, prefill_out = ours("prefill")
    steps, steps_out = ours("steps", "--no-prefill")
    threads, threads_out = ours("threads", "--threads", "2")
    res.check(len(prefill) == PROMPT, f"logits at all {PROMPT} positions")
    res.check(prefill == steps, "prefill chunks and decode steps: bitwise "
              "the same logits at every position")
    res.check(prefill == threads, "1 and 2 threads: bitwise the same logits "
              "at every position")
    # -n counts the prompt and the last prompt position's token: the
    # generator gives GREEDY + 1; llama.cpp's driver GREEDY.
    tokens = generated(prefill_out)[:GREEDY]
    res.check(len(tokens) == GREEDY and tokens ==
              generated(steps_out)[:GREEDY] == generated(threads_out)[:GREEDY],
              f"prefill, decode steps and 2 threads generate the same "
              f"{GREEDY} tokens")

    if not a.peer or not os.path.exists(a.peer):
        print(f"SKIP: the llama.cpp comparison: {a.peer} is not built (run "
              "utils/setup-peer.sh, then rebuild)")
        res.finish()
    path = os.path.join(a.work, "peer.bin")
    r = run([a.peer, gguf, "logits", "--prompt-tokens", prompt, "--greedy",
             str(GREEDY), "--dump-logits", path])
    if not res.check(r.returncode == 0, "llama.cpp ran", r.stderr):
        res.finish()
    theirs = read_logit_rows(path, VOCAB)
    # The worst difference over the positions of one row of scores, and
    # over those past it (online softmax).
    worst = [0.0, 0.0]
    for i, (x, y) in enumerate(zip(prefill, theirs)):
        diff = max(abs(u - v) for u, v in zip(x, y)) / spread(y)
        worst[i >= TILE] = max(worst[i >= TILE], diff)
    res.check(len(theirs) == PROMPT and max(worst) <= TOLERANCE,
              f"logits within {TOLERANCE:g} of the spread against llama.cpp: "
              f"worst {worst[0]:.2e} at positions 0-{TILE - 1}, "
              f"{worst[1]:.2e} at {TILE}-{PROMPT - 1}")
    same = 0
    theirs_tokens = generated(r.stdout)
    while same < min(len(tokens), len(theirs_tokens)) and \
            tokens[same] == theirs_tokens[same]:
        same += 1
    res.check(same == GREEDY, f"{GREEDY} greedy tokens after the {PROMPT}-"
              f"token prompt agree with llama.cpp ({same} before the first "
              "difference)", f"tlmc {tokens}\n      llama.cpp {theirs_tokens}")
    res.finish()


if __name__ == "__main__":
    raise SystemExit(main())
