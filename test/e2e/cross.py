#!/usr/bin/env python3
"""stories260K compiled for another CPU, run under qemu-user.

For one target (--target NAME below):
- the fp32 compile gives, for every case in ../shared/golden/stories260K,
  the prompt tokens and greedy tokens of llama2.c's run.c, and first-step
  logits within 1e-4 (the same bar as the host's golden test);
- int8 and int4:g32 compiles give the same greedy tokens as the host
  compile of the same options, on two prompts. Only the order of float
  additions may differ between targets (vector widths, FMA contraction);
  the first-step logits are compared too, within 1e-4 of their spread.
- GGUF Q8_0, Q4_0 and F16 files (generated; stories15M's shape, or the
  tiny one where qemu's vectors are slow) do too: on AArch64 compiled for
  a CPU with the dot product (Cortex-A76: the runtime's sdot kernels, int8
  inputs quantized as on the host) and one with the int8 matrix multiply
  too (Neoverse V1: smmla for prefill, and SVE; its prefill logits equal
  its decode's bit for bit), elsewhere against a host compile that keeps
  f32 inputs (--int8-activations=false), as a target without int8 kernels
  does. The F16 file runs with an f16 KV cache: on RV64GC every f16 <-> f32
  conversion is integer arithmetic (tlm-expand-f16-conversions).
Speed under qemu means nothing; this checks correctness only.
"""
import argparse
import os
import shutil

from e2e_common import Results, golden_cases, compile_model, read_floats, require, run

TARGETS = {
    # name: (tlmc target options, qemu command, GGUF files: shape, CPUs
    #        (name, options), host options)
    "aarch64": (["--target", "aarch64-linux-gnu"],
                ["qemu-aarch64", "-cpu", "max"],
                ("stories15M", [("a76", ["--mcpu", "cortex-a76"]),
                                ("v1", ["--mcpu", "neoverse-v1"])], [])),
    "riscv64": (["--target", "riscv64-linux-gnu"],
                ["qemu-riscv64", "-cpu", "rv64"],
                ("stories15M", [("", [])], ["--int8-activations=false"])),
    # RISC-V vectors (RVV 1.0), code that runs at any VLEN: two VLENs.
    "riscv64-v128": (["--target", "riscv64-linux-gnu", "--mattr=+v"],
                     ["qemu-riscv64", "-cpu",
                      "rv64,v=true,vext_spec=v1.0,vlen=128"],
                     ("tiny", [("", [])], ["--int8-activations=false"])),
    "riscv64-v256": (["--target", "riscv64-linux-gnu", "--mattr=+v"],
                     ["qemu-riscv64", "-cpu",
                      "rv64,v=true,vext_spec=v1.0,vlen=256"],
                     ("tiny", [("", [])], ["--int8-activations=false"])),
}
QUANTIZED = ["int8", "int4:g32"]
QUANTIZED_PROMPTS = ["Once upon a time", "The little dog"]
QUANTIZED_TOKENS = "48"


def greedy(cmd, prompt, n, logits):
    r = run(cmd + ["-p", prompt, "-n", n, "--temp", "0", "--tokens",
                   "--logits", logits])
    lines = r.stdout.split("\n")
    return r, lines[-3:-1]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--tlmc", required=True)
    p.add_argument("--shared", required=True)
    p.add_argument("--target", choices=TARGETS, required=True)
    p.add_argument("--work", required=True)
    p.add_argument("--modelgen", required=True)
    a = p.parse_args()

    options, qemu, (block_shape, block_cpus, block_host) = TARGETS[a.target]
    if not shutil.which(qemu[0]):
        print(f"SKIP: {qemu[0]} is not installed (utils/setup.sh installs "
              "qemu-user)")
        return 77
    models = os.path.join(a.shared, "models", "stories260K")
    golden = os.path.join(a.shared, "golden", "stories260K")
    require(models, "stories260K")
    require(golden, "golden outputs")
    os.makedirs(a.work, exist_ok=True)
    model = os.path.join(models, "stories260K.gguf")
    res = Results()

    exe = compile_model(a.tlmc, model, os.path.join(a.work, "s260"), *options)
    cases = golden_cases(golden)
    res.check(len(cases) >= 6, f"found {len(cases)} golden cases")
    for name, prompt in cases:
        logits = os.path.join(a.work, name + ".logits")
        r, got = greedy(qemu + [exe], prompt, "256", logits)
        if not res.check(r.returncode == 0, f"{a.target}/{name}: runs",
                         r.stderr):
            continue
        with open(os.path.join(golden, name + ".tokens")) as f:
            want = f.read().splitlines()
        res.check(got == want, f"{a.target}/{name}: prompt and generated "
                  "tokens", f"got {got}\n      want {want}")
        got_logits = read_floats(logits)
        want_logits = read_floats(os.path.join(golden, name + ".logits"))
        diff = (max(abs(x - y) for x, y in zip(got_logits, want_logits))
                if got_logits else 1e9)
        res.check(len(got_logits) == len(want_logits) and diff <= 1e-4,
                  f"{a.target}/{name}: first-step logits (max |diff| "
                  f"{diff:.2e} <= 1e-4)")

    # (name, model, host options, target options)
    variants = [(scheme, model, [f"--quantize={scheme}"],
                 [f"--quantize={scheme}"]) for scheme in QUANTIZED]
    for dtype in ["q8_0", "q4_0", "f16"]:
        gguf = os.path.join(a.work, f"{block_shape}-{dtype}.gguf")
        r = run([a.modelgen, "--shape", block_shape, "--dtype", dtype,
                 "-o", gguf])
        kv = ["--kv-cache", "f16"] if dtype == "f16" else []
        if res.check(r.returncode == 0, f"generates a {dtype} GGUF", r.stderr):
            for cpu, cpu_options in block_cpus:
                variants.append((f"gguf-{dtype}" + (f"-{cpu}" if cpu else ""),
                                 gguf, block_host + kv, cpu_options + kv))
    for scheme, source, host_flags, target_flags in variants:
        tag = scheme.replace(":", "-")
        host = compile_model(a.tlmc, source,
                             os.path.join(a.work, f"host-{tag}"), *host_flags)
        cross = compile_model(a.tlmc, source, os.path.join(a.work, tag),
                              *options, *target_flags)
        # The generated files' models are slow under qemu: one prompt, 16
        # positions.
        ours = source == model
        prompts = QUANTIZED_PROMPTS if ours else QUANTIZED_PROMPTS[:1]
        n = QUANTIZED_TOKENS if ours else "16"
        for i, prompt in enumerate(prompts):
            host_logits = os.path.join(a.work, f"host-{tag}-{i}.logits")
            cross_logits = os.path.join(a.work, f"{tag}-{i}.logits")
            rh, want = greedy([host], prompt, n, host_logits)
            rc, got = greedy(qemu + [cross], prompt, n,
                             cross_logits)
            if not res.check(rh.returncode == 0 and rc.returncode == 0,
                             f"{a.target}/{scheme}/{i}: runs",
                             rh.stderr + rc.stderr):
                continue
            res.check(got == want, f"{a.target}/{scheme}/{i}: greedy tokens "
                      "equal the host compile's",
                      f"got {got}\n      want {want}")
            h, c = read_floats(host_logits), read_floats(cross_logits)
            spread = max(h) - min(h) if h else 1
            diff = max(abs(x - y) for x, y in zip(h, c)) if c else 1e9
            res.check(len(h) == len(c) and diff <= 1e-4 * spread,
                      f"{a.target}/{scheme}/{i}: first-step logits (max "
                      f"|diff| {diff:.2e} <= 1e-4 of spread {spread:.2f})")
            if scheme.endswith("-v1") and "f16" not in scheme:
                # Prefill pairs rows and tokens on smmla, decode runs sdot:
                # the same integers and scaling, so the same bits.
                decode_logits = os.path.join(a.work, f"{tag}-{i}.decode")
                r = run(qemu + [cross, "-p", prompt, "-n", n, "--temp", "0",
                                "--no-prefill", "--logits", decode_logits])
                with open(cross_logits, "rb") as f1:
                    prefilled = f1.read()
                same = (r.returncode == 0 and os.path.exists(decode_logits)
                        and open(decode_logits, "rb").read() == prefilled)
                res.check(same, f"{a.target}/{scheme}/{i}: prefill (smmla) "
                          "logits equal decode's (sdot) bit for bit")
    res.finish()


if __name__ == "__main__":
    raise SystemExit(main())
