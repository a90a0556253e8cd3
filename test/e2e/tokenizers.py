#!/usr/bin/env python3
"""The runtime's tokenizers against Hugging Face's, on real vocabularies.

For each vocabulary (Llama-3, Qwen3, Gemma-3, Llama-2 as the npm registry
carries them, utils/setup-tokenizers.sh) and each text of the corpus
(test/e2e/tokenizer-corpus: English, code, whitespace runs, digits, emoji,
CJK, Arabic/Hebrew, Cyrillic/Greek, accented Latin, special tokens in text),
`tlmc tokenize` (the device's tokenizer code over the container's tables)
must give the ids @huggingface/tokenizers gives, and decode them to the
text the reference decodes them to: the text itself, except where the
vocabulary's own normalization does not round-trip (Llama-2's space before
every run of text between added tokens). Texts that are not valid UTF-8 have
no reference (JavaScript strings and the Rust library take only valid
UTF-8): for them the round trip alone is checked, byte for byte.

Two more vocabularies are the Llama-3 one with the pre-tokenizers GPT-2 and
SmolLM2 use (ByteLevel's own regex; single digits first): the reference
runs the same files, so the split patterns the real vocabularies do not
use are checked too. One known difference is not tlmc's: tokenizers.js's
Digits pre-tokenizer splits only ASCII digits (JavaScript's \\d), where the
Rust library it ports splits every char::is_numeric (\\p{N}), as llama.cpp's
smollm pattern and tlmc do; the SmolLM variant's ids are not compared on
texts with other digits (their round trip still is).

Qwen's tokenizer normalizes text to NFC first; the runtime carries no
normalizer and refuses text that is not NFC (decomposed.txt) with a clear
error instead of tokenizing it differently: checked too.
"""
import argparse
import glob
import json
import os
import shutil
import subprocess
import tempfile
import unicodedata

from e2e_common import SKIP, Results, run

VOCABULARIES = ("llama3", "qwen3", "gemma3", "llama2")

# name: the pre_tokenizer put on the Llama-3 vocabulary.
VARIANTS = {
    "llama3-as-gpt2": {"type": "ByteLevel", "add_prefix_space": False,
                       "trim_offsets": True, "use_regex": True},
    "llama3-as-smollm": {"type": "Sequence", "pretokenizers": [
        {"type": "Digits", "individual_digits": True},
        {"type": "ByteLevel", "add_prefix_space": False,
         "trim_offsets": True, "use_regex": True}]},
}


def make_variants(reference, work):
    """The Llama-3 vocabulary under the other pre-tokenizers, as folders."""
    source = os.path.join(reference, "llama3")
    tokenizer = json.load(open(os.path.join(source, "tokenizer.json"),
                               encoding="utf-8"))
    folders = {}
    for name, pre in VARIANTS.items():
        folder = os.path.join(work, name)
        os.makedirs(folder, exist_ok=True)
        tokenizer["pre_tokenizer"] = pre
        with open(os.path.join(folder, "tokenizer.json"), "w",
                  encoding="utf-8") as out:
            json.dump(tokenizer, out, ensure_ascii=False)
        shutil.copy(os.path.join(source, "tokenizer_config.json"), folder)
        folders[name] = folder
    return folders


def reference(node, tokenizers_cjs, model_dir, texts):
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                          "reference_tokenize.cjs")
    r = subprocess.run([node, script, tokenizers_cjs, model_dir],
                       input=json.dumps(texts), capture_output=True,
                       text=True, check=False)
    if r.returncode != 0:
        raise RuntimeError(f"reference tokenizer failed: {r.stderr}")
    return json.loads(r.stdout)


def ours(tlmc, tokenizer, data, *flags):
    r = subprocess.run([tlmc, "tokenize", "--tokenizer", tokenizer, "--no-bos",
                        *flags], input=data, capture_output=True, check=False)
    return r.returncode, r.stdout, r.stderr.decode(errors="replace")


def first_difference(a, b):
    i = 0
    while i < min(len(a), len(b)) and a[i] == b[i]:
        i += 1
    return i


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--tlmc", required=True)
    p.add_argument("--reference", required=True,
                   help="utils/setup-tokenizers.sh's directory")
    p.add_argument("--corpus", required=True)
    a = p.parse_args()
    tokenizers_cjs = os.path.join(os.path.abspath(a.reference), "tokenizers", "dist",
                                  "tokenizers.cjs")
    node = "node"
    if not os.path.exists(tokenizers_cjs) or \
            run([node, "--version"]).returncode != 0:
        print(f"SKIP: the reference tokenizers ({a.reference}) or node are "
              "absent: run utils/setup-tokenizers.sh")
        return SKIP
    files = sorted(glob.glob(os.path.join(a.corpus, "*")))
    corpus = {os.path.basename(f): open(f, "rb").read() for f in files}
    valid = {name: data.decode() for name, data in corpus.items()
             if name.endswith(".txt")}
    res = Results()
    work = tempfile.mkdtemp(prefix="tlmc-tokenizers-")
    folders = {v: os.path.join(a.reference, v) for v in VOCABULARIES}
    folders.update(make_variants(a.reference, work))
    for vocab, model_dir in folders.items():
        tokenizer = os.path.join(model_dir, "tokenizer.json")
        names = sorted(valid)
        expected = dict(zip(names, reference(
            node, tokenizers_cjs, model_dir, [valid[n] for n in names])))
        normalizes = "NFC" in json.dumps(
            json.load(open(tokenizer, encoding="utf-8")).get("normalizer"))
        for name, data in sorted(corpus.items()):
            code, out, err = ours(a.tlmc, tokenizer, data, "--ids")
            if normalizes and name in valid and \
                    not unicodedata.is_normalized("NFC", valid[name]):
                res.check(code != 0 and "not in Unicode NFC" in err and
                          len(err.strip().splitlines()) == 1,
                          f"{vocab} {name}: text not in NFC refused in one "
                          "line", err or out)
                continue
            if not res.check(code == 0, f"{vocab} {name}: tokenized", err):
                continue
            ids = [int(t) for t in out.split()]
            decoded = data
            if vocab == "llama3-as-smollm" and name in valid and any(
                    ord(ch) > 127 and unicodedata.category(ch)[0] == "N"
                    for ch in valid[name]):
                print(f"NOTE: {vocab} {name}: ids not compared (non-ASCII "
                      "digits: tokenizers.js's Digits differs from the Rust "
                      "library's there)")
            elif name in expected:
                want = expected[name]["ids"]
                decoded = expected[name]["text"].encode()
                at = first_difference(ids, want)
                res.check(ids == want,
                          f"{vocab} {name}: {len(ids)} ids as the reference's",
                          f"first difference at {at}: tlmc {ids[at:at + 8]}, "
                          f"reference {want[at:at + 8]}")
            code, out, err = ours(a.tlmc, tokenizer, data, "--decode")
            res.check(code == 0 and out == decoded,
                      f"{vocab} {name}: decodes back to "
                      f"{'the text' if decoded == data else 'what the reference decodes'}",
                      err or f"got {out[:120]!r}, expected {decoded[:120]!r}")
    shutil.rmtree(work, ignore_errors=True)
    res.finish()


if __name__ == "__main__":
    raise SystemExit(main())
