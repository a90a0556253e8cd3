#!/usr/bin/env python3
"""The generated executable's command line (examples/generate).

Each behaviour the first-hour issue asked for, on the compiled stories260K:
--help to stdout with the defaults and exit 0; a bad option named in one
line with exit 1; --threads capped at the machine's processors with a note;
-n past the context clamped with a note; --max-new-tokens generating
exactly that many tokens; non-ASCII text printed exactly as the tokens
decode (byte-fallback tokens carry a character's bytes one at a time);
prompt and generation rates reported apart; --version.
"""
import argparse
import os

from e2e_common import Results, compile_model, require, run


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--tlmc", required=True)
    p.add_argument("--shared", required=True)
    p.add_argument("--work", required=True)
    a = p.parse_args()
    model = os.path.join(a.shared, "models", "stories260K", "stories260K.bin")
    require(model, "stories260K")
    os.makedirs(a.work, exist_ok=True)
    exe = compile_model(a.tlmc, model, os.path.join(a.work, "story"))
    res = Results()

    r = run([exe, "--help"])
    res.check(r.returncode == 0 and "usage:" in r.stdout and
              "--threads K" in r.stdout and "default 256" in r.stdout and
              not r.stderr, "--help: usage with defaults on stdout, exit 0",
              r.stdout + r.stderr)
    for args, culprit in ((["--bogus"], "--bogus: unknown option"),
                          (["--temp", "-1"], "--temp: expected a temperature"),
                          (["--top-p", "0"], "--top-p: expected 0 < P <= 1"),
                          (["-n", "ten"], "-n: expected positions >= 1, got 'ten'"),
                          (["--threads"], "--threads: needs a value"),
                          (["--bench", "16,8,x"],
                           "--bench: expected PP,TG or PP,TG,D"),
                          (["--bench", "16"],
                           "--bench: expected PP,TG or PP,TG,D")):
        r = run([exe] + args)
        lines = r.stderr.strip().splitlines()
        res.check(r.returncode == 1 and len(lines) == 1 and
                  lines[0].startswith("error: " + culprit),
                  f"{' '.join(args)}: one line naming it, exit 1", r.stderr)

    r = run([exe, "--threads", "1000", "-n", "8", "--temp", "0"])
    res.check(r.returncode == 0 and "note: --threads 1000 is more than the "
              "machine's" in r.stderr, "--threads 1000: capped, with a note",
              r.stderr)
    r = run([exe, "-n", "100000", "--temp", "0", "-p", "Once"])
    res.check(r.returncode == 0 and "more than the model's context of 512"
              in r.stderr, "-n 100000: clamped to the context, with a note",
              r.stderr)
    # --bench with a depth: both runs after D tokens, which the context
    # must hold (one line naming what it needs).
    r = run([exe, "--bench", "16,8,32", "--reps", "1"])
    res.check(r.returncode == 0 and "depth=32" in r.stdout and
              "pp_tok_s=" in r.stdout and "tg_tok_s=" in r.stdout,
              "--bench 16,8,32: prefill and decode timed after 32 tokens",
              r.stdout + r.stderr)
    r = run([exe, "--bench", "16,8,500", "--reps", "1"])
    res.check(r.returncode == 1 and r.stderr.startswith(
              "error: --bench 16,8,500 needs a context of 516"),
              "--bench past the context: one line naming what it needs",
              r.stderr)
    r = run([exe, "--max-new-tokens", "5", "--temp", "0", "--ignore-eos",
             "--tokens", "-p", "Once upon a time"])
    gen = [l for l in r.stdout.splitlines() if l.startswith("generated_tokens:")]
    res.check(r.returncode == 0 and gen and len(gen[0].split()) == 6,
              "--max-new-tokens 5 generates 5 tokens", r.stdout)
    res.check("prompt:" in r.stderr and "generation:" in r.stderr,
              "prompt and generation tok/s reported apart", r.stderr)

    text = "Über café 東京 😀"
    r = run([exe, "-p", text, "-n", "40", "--temp", "0"])
    res.check(r.returncode == 0 and r.stdout.startswith(text),
              "non-ASCII prompt printed exactly", repr(r.stdout[:40]))
    r = run([exe, "--version"])
    res.check(r.returncode == 0 and "runtime ABI" in r.stdout and
              "fingerprint" in r.stdout, "--version", r.stdout + r.stderr)
    res.finish()


if __name__ == "__main__":
    main()
