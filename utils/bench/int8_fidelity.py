#!/usr/bin/env python3
"""What int8 activations cost in fidelity, on the one trained model here.

The runtime's VNNI kernels quantize each product's inputs to int8 per 32
values (llama.cpp's q8_0 arithmetic); --int8-activations=false keeps them
f32. This quantizes stories260K with llama.cpp's own quantizer (utils/peer's
`quantize` mode) to Q8_0 and Q4_0, compiles each file both ways, and
compares the two on ../shared/eval text: perplexity, and over every scored
position the mean KL divergence of the int8 model's next-token distribution
from the f32-input one and how often their top-1 agree.

    utils/bench/int8-fidelity.sh      (prints a markdown table)
"""
import argparse
import math
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "test", "e2e"))
from e2e_common import read_logit_rows  # noqa: E402


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"int8-fidelity: {' '.join(cmd)} failed:\n{r.stderr}")
    return r.stdout


def log_softmax(row):
    m = max(row)
    s = math.log(sum(math.exp(x - m) for x in row))
    return [x - m - s for x in row]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--build", required=True)
    p.add_argument("--shared", required=True)
    a = p.parse_args()
    bins = os.path.join(a.build, "bin")
    work = os.path.join(a.build, "bench", "int8-fidelity")
    os.makedirs(work, exist_ok=True)
    model = os.path.join(a.shared, "models", "stories260K", "stories260K.gguf")
    text = os.path.join(a.shared, "eval", "tinystories-style.txt")
    print("| GGUF (llama.cpp quantize) | perplexity, f32 inputs | int8 inputs | "
          "mean KL | top-1 agreement |")
    print("|---|---|---|---|---|")
    for dtype in ("q8_0", "q4_0"):
        gguf = os.path.join(work, f"stories260K-{dtype}.gguf")
        run([os.path.join(bins, "tlmc-llamacpp"), model, "quantize", "--out",
             gguf, "--type", dtype])
        results = {}
        for mode, extra in (("f32", ["--int8-activations=false"]),
                            ("int8", [])):
            out = os.path.join(work, f"{dtype}-{mode}")
            run([os.path.join(bins, "tlmc"), "compile", gguf, "-o", out,
                 "--exe"] + extra)
            dump = out + ".logits"
            text_out = run([out, "--perplexity", text, "--dump-logits", dump,
                            "--threads", "1"])
            ppl = float(text_out.split("perplexity")[-1].split()[0])
            results[mode] = (ppl, dump)
        vocab = 512
        ref, got = (read_logit_rows(results["f32"][1], vocab),
                    read_logit_rows(results["int8"][1], vocab))
        kl, same = 0.0, 0
        for r, g in zip(ref, got):
            lr, lg = log_softmax(r), log_softmax(g)
            kl += sum(math.exp(x) * (x - y) for x, y in zip(lr, lg))
            same += max(range(vocab), key=r.__getitem__) == \
                max(range(vocab), key=g.__getitem__)
        n = max(len(ref), 1)
        print(f"| {dtype.upper()} | {results['f32'][0]:.4f} | "
              f"{results['int8'][0]:.4f} | {kl / n:.2e} | "
              f"{100.0 * same / n:.2f}% over {n} positions |")


if __name__ == "__main__":
    main()
