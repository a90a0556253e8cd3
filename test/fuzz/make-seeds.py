#!/usr/bin/env python3
"""Writes the seed inputs of every fuzz target into its kept corpus,
test/fuzz/corpus/<target>.tar.xz (added to what is there).

    test/fuzz/make-seeds.py --build build-sanitize

Seeds are small valid inputs of each format, made by the project's own
generator (`tlmc-modelgen --shape tiny`) and the stand-in containers; the
real models in ../shared are added by utils/fuzz.sh at run time (too big to
keep). Run once; afterwards the corpus grows by utils/fuzz.sh's merges.
"""
import argparse
import json
import os
import shutil
import subprocess
import tempfile

SEPARATOR = b"\n--model.safetensors--\n"


def byte_level_tokenizer_json(vocab):
    """GPT-2's byte-to-symbol map, a few merges, padding to `vocab` ids."""
    printable = [b for b in range(256)
                 if 33 <= b <= 126 or 161 <= b <= 172 or 174 <= b <= 255]
    symbols, shifted = {}, 0
    for b in range(256):
        if b in printable:
            symbols[b] = chr(b)
        else:
            symbols[b] = chr(256 + shifted)
            shifted += 1
    tokens = [symbols[b] for b in range(256)]
    merges = ["\u0120 t", "h e", "\u0120t he", "l l", "he ll", "hell o"]
    tokens += ["\u0120t", "he", "\u0120the", "ll", "hell", "hello"]
    while len(tokens) < vocab - 1:
        tokens.append(f"<pad{len(tokens)}>")
    return {
        "version": "1.0",
        "added_tokens": [{"id": vocab - 1, "content": "<|endoftext|>",
                          "special": True}],
        "model": {"type": "BPE", "byte_fallback": False,
                  "vocab": {t: i for i, t in enumerate(tokens)},
                  "merges": merges},
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    args = ap.parse_args()
    here = os.path.dirname(os.path.abspath(__file__))
    staging = tempfile.mkdtemp()
    corpus = os.path.join(staging, "corpus")
    modelgen = os.path.join(args.build, "bin", "tlmc-modelgen")

    def out(target, name, data):
        os.makedirs(os.path.join(corpus, target), exist_ok=True)
        with open(os.path.join(corpus, target, name), "wb") as f:
            f.write(data)

    def gen(fmt, dtype, path):
        subprocess.run([modelgen, "--shape", "tiny", "--dtype", dtype,
                        "--format", fmt, "-o", path], check=True)

    with tempfile.TemporaryDirectory() as tmp:
        for dtype in ["f32", "f16", "bf16", "q8_0", "q4_0"]:
            path = os.path.join(tmp, f"tiny-{dtype}.gguf")
            gen("gguf", dtype, path)
            out("gguf", f"tiny-{dtype}.gguf", open(path, "rb").read())
        gen("llama2c", "f32", os.path.join(tmp, "tiny.bin"))
        out("llama2c", "tiny.bin", open(os.path.join(tmp, "tiny.bin"), "rb").read())
        out("llama2c-tokenizer", "tok300.bin",
            open(os.path.join(tmp, "tok300.bin"), "rb").read())
        for dtype in ["f32", "f16", "bf16"]:
            hf = os.path.join(tmp, f"hf-{dtype}")
            gen("hf", dtype, hf)
            config = open(os.path.join(hf, "config.json"), "rb").read()
            weights = open(os.path.join(hf, "model.safetensors"), "rb").read()
            out("safetensors", f"tiny-{dtype}", config + SEPARATOR + weights)
            if dtype == "f32":
                out("hf-tokenizer", "sentencepiece.json",
                    open(os.path.join(hf, "tokenizer.json"), "rb").read())
        out("hf-tokenizer", "byte-level.json",
            json.dumps(byte_level_tokenizer_json(300)).encode())
        seeds = os.path.join(corpus, "container")
        os.makedirs(seeds, exist_ok=True)
        subprocess.run([os.path.join(args.build, "bin", "fuzz-container"),
                        "-runs=0", tmp],
                       env=dict(os.environ, TLMC_FUZZ_WRITE_SEEDS=seeds,
                                ASAN_OPTIONS="allow_user_poisoning=0"),
                       check=True, capture_output=True)
    texts = {
        "english": "Once upon a time, there was a little girl named Lily.",
        "code": "for (int i = 0; i < n; ++i) {\n\tsum += a[i] * b[i];\n}\n",
        "spaces": "a  b   c\t\td\n\n\ne    ",
        "digits": "3.14159 2026-11-30 1,000,000 0x1F",
        "unicode": "na\u00efve caf\u00e9 \u65e5\u672c\u8a9e \u0645\u0631\u062d\u0628\u0627 "
                   "\u041f\u0440\u0438\u0432\u0435\u0442 \U0001F642\U0001F680",
        "special": "<s>hello</s> <unk> <|endoftext|>",
    }
    for name, text in texts.items():
        out("tokenize", name, text.encode())
    out("tokenize", "invalid-utf8", b"\xff\xfe\xc3(\xe2\x82 \xf0\x9f\x99 ok")

    pack = os.path.join(here, "corpus.sh")
    for target in sorted(os.listdir(corpus)):
        archive = os.path.join(here, "corpus", target + ".tar.xz")
        kept = os.path.join(staging, "kept-" + target)
        subprocess.run([pack, "unpack", archive, kept], check=True)
        for name in os.listdir(os.path.join(corpus, target)):
            shutil.copy(os.path.join(corpus, target, name), kept)
        subprocess.run([pack, "pack", archive, kept], check=True)
    shutil.rmtree(staging)


if __name__ == "__main__":
    main()
