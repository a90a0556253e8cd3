#!/usr/bin/env python3
"""Float weights (BF16, F16, F32) compute in 16-row panels as stored.

Generated stories260K-shaped models in BF16, F16 and F32 are compiled for
this machine (on an AVX-512 CPU the products call the runtime's panel
kernels, tlmrt_uk_{bf16,f16,f32}x16_avx512*, on weights packed by
codegen/Target/FloatPanels.cpp), for x86-64-v3 (AVX2: the same panels'
tlmrt_uk_*x16_avx2* kernels) and for x86-64-v2 (SSE4.2: no kernels, the
generated products on the file's rows). All widen every weight exactly
and sum in f32, the generated code in another order: the panel compiles
must give the rows' greedy tokens and logits within 1e-4, over a prompt
long enough for the prefill chunks' panel pairs and for decode steps. BF16 is also read from a
Hugging Face folder (safetensors, the format such models ship in), which
must give exactly the GGUF's tokens and logits.
"""
import argparse
import os

from e2e_common import (Results, compile_model, host_has, read_floats, run,
                        undefined_kernels)

PROMPT = ("Once upon a time there was a little girl who lived in a village "
          "near the forest. Whenever she went out, the little girl wore a "
          "red riding cloak")


def generate(res, modelgen, dtype, out, *extra):
    r = run([modelgen, "--shape", "stories260K", "--dtype", dtype, "--seed",
             "5", "-o", out, *extra])
    res.check(r.returncode == 0, f"{dtype}: generated {os.path.basename(out)}",
              r.stderr)


def greedy(exe):
    path = exe + ".logits.txt"
    out = run([exe, "-p", PROMPT, "-n", "130", "--temp", "0", "--tokens",
               "--logits", path]).stdout
    return out, read_floats(path)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--tlmc", required=True)
    p.add_argument("--work", required=True)
    a = p.parse_args()
    modelgen = os.path.join(os.path.dirname(a.tlmc), "tlmc-modelgen")
    os.makedirs(a.work, exist_ok=True)
    avx512 = host_has("avx512f")
    res = Results()
    for dtype in ("bf16", "f16", "f32"):
        gguf = os.path.join(a.work, f"model-{dtype}.gguf")
        generate(res, modelgen, dtype, gguf)
        panels = compile_model(a.tlmc, gguf, os.path.join(a.work, "p" + dtype))
        avx2 = compile_model(a.tlmc, gguf, os.path.join(a.work, "a" + dtype),
                             "--mcpu", "x86-64-v3")
        rows = compile_model(a.tlmc, gguf, os.path.join(a.work, "r" + dtype),
                             "--mcpu", "x86-64-v2")
        if avx512:
            calls = undefined_kernels(panels + ".o")
            res.check(any(k.startswith(f"tlmrt_uk_{dtype}x16_avx512")
                          for k in calls),
                      f"{dtype}: the AVX-512 compile calls the {dtype} panel "
                      f"kernel ({', '.join(sorted(calls)) or 'none'})")
        calls = undefined_kernels(avx2 + ".o")
        res.check(any(k.startswith(f"tlmrt_uk_{dtype}x16_avx2") for k in calls),
                  f"{dtype}: the x86-64-v3 compile calls the AVX2 {dtype} "
                  f"panel kernel ({', '.join(sorted(calls)) or 'none'})")
        res.check(not undefined_kernels(rows + ".o"),
                  f"{dtype}: the x86-64-v2 compile calls no kernel")
        row_out, row_logits = greedy(rows)
        for label, exe in (("AVX-512", panels), ("AVX2", avx2)):
            out, logits = greedy(exe)
            if exe == panels:
                panel_out, panel_logits = out, logits
            res.check(out and out == row_out,
                      f"{dtype}: same greedy tokens from {label} panels and "
                      "from rows")
            diff = max((abs(x - y) for x, y in zip(logits, row_logits)),
                       default=1.0)
            res.check(logits and len(logits) == len(row_logits) and
                      diff <= 1e-4,
                      f"{dtype}: logits from {label} panels as from rows "
                      f"(max |diff| {diff:.2e} <= 1e-4)")
        if dtype == "bf16":
            folder = os.path.join(a.work, "hf-bf16")
            generate(res, modelgen, dtype, folder, "--format", "hf")
            hf = compile_model(a.tlmc, folder, os.path.join(a.work, "hf" + dtype))
            if avx512:
                # Widened to f32 at import, the folder would give the same
                # bits from the f32 kernel: the bf16 one must be called.
                calls = undefined_kernels(hf + ".o")
                res.check(any(k.startswith("tlmrt_uk_bf16x16_avx512")
                              for k in calls),
                          "bf16: the Hugging Face folder's compile calls the "
                          f"bf16 panel kernel ({', '.join(sorted(calls)) or 'none'})")
            hf_out, hf_logits = greedy(hf)
            res.check(hf_out == panel_out and hf_logits == panel_logits,
                      "bf16: the Hugging Face folder gives the GGUF's tokens "
                      "and logits exactly")
    res.finish()


if __name__ == "__main__":
    main()
