"""Shared helpers for the end-to-end tests: compile with tlmc, run, compare.

utils/bench/int8_fidelity.py reads logits files with read_logit_rows too."""
import array
import glob
import math
import os
import subprocess
import sys

SKIP = 77  # ctest's SKIP_RETURN_CODE for these tests


class Results:
    """Counts checks and prints the 'N passed, N failed' closing line."""

    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, ok, what, detail=""):
        if ok:
            self.passed += 1
            print(f"PASS: {what}")
        else:
            self.failed += 1
            print(f"FAIL: {what}" + (f"\n      {detail}" if detail else ""))
        return ok

    def finish(self):
        print(f"{self.passed} passed, {self.failed} failed")
        sys.exit(1 if self.failed else 0)


def require(path, what):
    if not os.path.exists(path):
        print(f"SKIP: {what}: {path} is absent")
        sys.exit(SKIP)


def run(cmd, **kw):
    # Generated text is whatever bytes the tokens decode to (a random-weight
    # model emits lone UTF-8 continuation bytes): keep them, comparably.
    kw.setdefault("errors", "surrogateescape")
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def host_has(flag):
    """Whether this machine's CPU lists `flag` (as /proc/cpuinfo names
    it, e.g. avx512f, avx512_vnni); False where there is no such file."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return flag in line.split(":", 1)[1].split()
    except OSError:
        pass
    return False


def undefined_kernels(obj):
    """The runtime micro-kernels (tlmrt_uk_*) an object file calls."""
    r = run(["nm", "-u", obj])
    return {line.split()[-1] for line in r.stdout.splitlines()
            if "tlmrt_uk_" in line}


def compile_model(tlmc, model, out, *extra):
    r = run([tlmc, "compile", model, "-o", out, "--exe", *extra])
    if r.returncode != 0:
        print(f"FAIL: tlmc compile {model}\n{r.stderr}")
        print("0 passed, 1 failed")
        sys.exit(1)
    return out


def read_floats(path):
    with open(path) as f:
        return [float(line) for line in f if line.strip()]


def read_logit_rows(path, vocab):
    """A --dump-logits file (f32, position-major) as rows of `vocab`."""
    data = array.array("f")
    with open(path, "rb") as f:
        data.frombytes(f.read())
    return [data[i * vocab:(i + 1) * vocab] for i in range(len(data) // vocab)]


def spread(row):
    """The standard deviation of a row of logits: the scale logit
    differences are judged against."""
    mean = sum(row) / len(row)
    return math.sqrt(sum((x - mean) ** 2 for x in row) / len(row))


def tokens_of(line_prefix, text):
    """The ids on the line of `text` that starts with `line_prefix` (the
    generator's and tlmc-llamacpp's "generated_tokens:")."""
    for line in text.splitlines():
        if line.startswith(line_prefix):
            return [int(t) for t in line[len(line_prefix):].split()]
    return []


def golden_cases(golden):
    """(name, prompt) of every case in a golden folder, by name."""
    cases = []
    for prompt_file in sorted(glob.glob(os.path.join(golden, "*.prompt"))):
        with open(prompt_file) as f:
            cases.append((os.path.basename(prompt_file)[: -len(".prompt")],
                          f.read()))
    return cases
