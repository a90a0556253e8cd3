#!/usr/bin/env python3
"""stories260K compiled from one input format against llama2.c's run.c.

For every case in ../shared/golden/stories260K: identical prompt tokens,
identical greedy tokens and text, and first-step logits within 1e-4.
"""
import argparse
import os

from e2e_common import Results, golden_cases, compile_model, read_floats, require, run

FORMATS = {
    "gguf": "stories260K.gguf",
    "bin": "stories260K.bin",
    "hf": "hf",
}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--tlmc", required=True)
    p.add_argument("--shared", required=True)
    p.add_argument("--format", choices=FORMATS, required=True)
    p.add_argument("--work", required=True)
    a = p.parse_args()

    models = os.path.join(a.shared, "models", "stories260K")
    golden = os.path.join(a.shared, "golden", "stories260K")
    require(models, "stories260K")
    require(golden, "golden outputs")
    os.makedirs(a.work, exist_ok=True)
    model = os.path.join(models, FORMATS[a.format])
    extra = []
    if a.format == "hf":  # an HF folder without tokenizer.json
        extra = ["--tokenizer", os.path.join(models, "tok512.bin")]
    exe = compile_model(a.tlmc, model, os.path.join(a.work, "s260"), *extra)

    res = Results()
    cases = golden_cases(golden)
    res.check(len(cases) >= 6, f"found {len(cases)} golden cases")
    for name, prompt in cases:
        logits_file = os.path.join(a.work, name + ".logits")
        r = run([exe, "-p", prompt, "-n", "256", "--temp", "0", "--tokens",
                 "--logits", logits_file])
        if not res.check(r.returncode == 0, f"{a.format}/{name}: runs",
                         r.stderr):
            continue
        lines = r.stdout.split("\n")
        text = "\n".join(lines[:-3]) + "\n"
        tokens = "\n".join(lines[-3:-1]) + "\n"
        with open(os.path.join(golden, name + ".tokens")) as f:
            want_tokens = f.read()
        with open(os.path.join(golden, name + ".txt")) as f:
            want_text = f.read()
        want_lines = want_tokens.splitlines()
        got_lines = tokens.splitlines()
        res.check(got_lines[:1] == want_lines[:1],
                  f"{a.format}/{name}: prompt tokens",
                  f"got {got_lines[:1]} want {want_lines[:1]}")
        res.check(got_lines[1:] == want_lines[1:],
                  f"{a.format}/{name}: generated tokens",
                  f"got {got_lines[1:]}\n      want {want_lines[1:]}")
        res.check(text == want_text, f"{a.format}/{name}: text",
                  f"got {text!r}\n      want {want_text!r}")
        got = read_floats(logits_file)
        want = read_floats(os.path.join(golden, name + ".logits"))
        diff = max(abs(x - y) for x, y in zip(got, want)) if got else 1e9
        res.check(len(got) == len(want) and diff <= 1e-4,
                  f"{a.format}/{name}: first-step logits (max |diff| "
                  f"{diff:.2e} <= 1e-4)")
    res.finish()


if __name__ == "__main__":
    main()
