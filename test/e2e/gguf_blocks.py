#!/usr/bin/env python3
"""GGUF Q8_0/Q4_0 weights compute in their own block format.

Generated stories260K-shaped models in Q8_0 and Q4_0 are compiled as
stored (compress-adopt-ggml-blocks: the file's own blocks) with f32 inputs
(--int8-activations=false) and with --dequantize (f32). The same integers
and scales must give the same greedy tokens and logits within 1e-4 (the
block kernels scale each group's sum once, the f32 one multiplies
dequantized weights, so the rounding differs; nothing else may), and the
container about half or less.

The default compile quantizes the products' inputs to int8 per 32 values
(where the target has the runtime's VNNI kernels): that is llama.cpp's
arithmetic, checked tightly against llama.cpp itself in peer.py. Here it is
only guarded against gross errors: int8 inputs move this random 5-layer
model's logits by ~4-5% of their spread (measured); a wrong sign, scale or
bias in a kernel moves them by the order of the spread, so the bar is 25%.

An x86-64-v3 (AVX2, no AVX-512) compile runs the generated block products
with f32 inputs (within 1e-4 of the kernels' as above) and the runtime's
AVX2 panel kernels with int8 inputs, held to the int8 bar. (Those kernels
give the VNNI kernels' bits on the same inputs, which the unit tests
check; a whole model's logits are not bitwise equal across the two
compiles, whose generated norms sum 8 or 16 lanes at a time, and an int8
input that lands one step apart moves them by the int8 inputs' own
~4%.)
"""
import math
import argparse
import os

from e2e_common import (Results, compile_model, read_floats, run,
                        undefined_kernels)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--tlmc", required=True)
    p.add_argument("--work", required=True)
    a = p.parse_args()
    modelgen = os.path.join(os.path.dirname(a.tlmc), "tlmc-modelgen")
    os.makedirs(a.work, exist_ok=True)
    res = Results()
    for dtype in ("q8_0", "q4_0"):
        gguf = os.path.join(a.work, f"model-{dtype}.gguf")
        r = run([modelgen, "--shape", "stories260K", "--dtype", dtype,
                 "--seed", "5", "-o", gguf])
        res.check(r.returncode == 0, f"{dtype}: generated", r.stderr)
        native = compile_model(a.tlmc, gguf, os.path.join(a.work, "n" + dtype),
                               "--int8-activations=false")
        floats = compile_model(a.tlmc, gguf, os.path.join(a.work, "f" + dtype),
                               "--dequantize")
        int8 = compile_model(a.tlmc, gguf, os.path.join(a.work, "i" + dtype))
        # An AVX2-only CPU: with f32 inputs the generated block product
        # runs, and must agree with the one above; with int8 inputs the
        # runtime's AVX2 panel kernels, which must give the VNNI kernels'
        # bits.
        avx2 = compile_model(a.tlmc, gguf, os.path.join(a.work, "a" + dtype),
                             "--mcpu", "x86-64-v3", "--int8-activations=false")
        avx2_int8 = compile_model(a.tlmc, gguf,
                                  os.path.join(a.work, "ai" + dtype),
                                  "--mcpu", "x86-64-v3")
        calls = undefined_kernels(avx2_int8 + ".o")
        res.check(any(k.startswith(f"tlmrt_uk_{dtype}x16_avx2") for k in calls),
                  f"{dtype}: the x86-64-v3 compile calls the AVX2 panel kernel")
        outs, logits = [], []
        for exe in (native, floats, int8, avx2, avx2_int8):
            path = exe + ".logits.txt"
            outs.append(run([exe, "-p", "the cat sat", "-n", "40", "--temp",
                             "0", "--tokens", "--logits", path]).stdout)
            logits.append(read_floats(path))
        res.check(outs[0] and outs[0] == outs[1],
                  f"{dtype}: same greedy tokens as the dequantized model")
        diff = max((abs(x - y) for x, y in zip(logits[0], logits[1])),
                   default=1.0)
        res.check(logits[0] and len(logits[0]) == len(logits[1]) and
                  diff <= 1e-4,
                  f"{dtype}: logits as the dequantized model's (max |diff| "
                  f"{diff:.2e} <= 1e-4)")
        avx2_diff = max((abs(x - y) for x, y in zip(logits[3], logits[0])),
                        default=1.0)
        res.check(outs[3] == outs[0] and len(logits[3]) == len(logits[0]) and
                  avx2_diff <= 1e-4,
                  f"{dtype}: an x86-64-v3 (AVX2) compile with f32 inputs "
                  f"agrees with the AVX-512 one (max |diff| {avx2_diff:.2e} "
                  "<= 1e-4)")
        mean = sum(logits[1]) / max(len(logits[1]), 1)
        spread = math.sqrt(sum((x - mean) ** 2 for x in logits[1]) /
                           max(len(logits[1]), 1))
        moved = max((abs(x - y) for x, y in zip(logits[2], logits[1])),
                    default=1.0) / (spread or 1.0)
        res.check(len(logits[2]) == len(logits[1]) and moved <= 0.25,
                  f"{dtype}: int8 inputs move logits by {moved:.2e} of their "
                  f"spread (<= 0.25)")
        moved = max((abs(x - y) for x, y in zip(logits[4], logits[1])),
                    default=1.0) / (spread or 1.0)
        res.check(len(logits[4]) == len(logits[1]) and moved <= 0.25,
                  f"{dtype}: on the AVX2 kernels int8 inputs move logits by "
                  f"{moved:.2e} of their spread (<= 0.25)")
        n, f = (os.path.getsize(x + ".tlmw") for x in (native, floats))
        res.check(n < 0.6 * f, f"{dtype}: container {n} < 0.6 x {f} bytes")
    res.finish()


if __name__ == "__main__":
    main()
