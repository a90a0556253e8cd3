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

Qwen's tokenizer normalizes text to NFC first; the runtime carries no
normalizer and refuses text that is not NFC (decomposed.txt) with a clear
error instead of tokenizing it differently: checked too.
"""
import argparse
import glob
import json
import os
import subprocess
import unicodedata

from e2e_common import SKIP, Results, run

VOCABULARIES = ("llama3", "qwen3", "gemma3", "llama2")


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
    for vocab in VOCABULARIES:
        model_dir = os.path.join(a.reference, vocab)
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
            if name in expected:
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
    res.finish()


if __name__ == "__main__":
    raise SystemExit(main())
