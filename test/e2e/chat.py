#!/usr/bin/env python3
"""Chat prompts: tlmc's compile-time rendering against the reference's.

For the Llama-3, Qwen3 and Gemma-3 vocabularies the npm registry carries
(utils/setup-tokenizers.sh), each conversation of
test/e2e/chat-conversations/conversations.json (a 3-turn conversation with a
system prompt, one without, contents with white space around them, code,
CJK, emoji, Cyrillic, Arabic digits, special-token text) is

- put in the model's chat format by `tlmc tokenize --chat`: the template
  rendered at compile time into the text between messages, assembled by the
  runtime's tlm_chat_format and tokenized by the runtime's tokenizer; and
- rendered by @huggingface/jinja from tokenizer_config.json's chat_template
  (add_generation_prompt, the special tokens) and tokenized by
  @huggingface/tokenizers without added special tokens, as
  apply_chat_template(tokenize=True) does.

The ids must be equal, and the text tlmc decodes them to must be the text
the reference rendered. Llama-2's vocabulary has no chat template: --chat
must say so in one line.

Templates the text-between-messages model cannot express (here: turns
numbered, a date) are refused with the first difference, and a model with
one still compiles, without chat, saying why.

Then a compiled model (a small random one with the Qwen3 vocabulary) must
feed exactly those ids for a one-shot --chat --system -p, and keep going
over two interactive turns, the second opening by closing the first reply.
"""
import argparse
import json
import os
import shutil
import subprocess
import tempfile

from e2e_common import SKIP, Results, run

TEMPLATED = ("llama3", "qwen3", "gemma3")

# Templates whose text around a message depends on more than the roles.
UNSUPPORTED = [
    ("numbered turns",
     "{% for m in messages %}[{{ loop.index }}] {{ m.role }}: {{ m.content }}\n"
     "{% endfor %}{% if add_generation_prompt %}assistant:{% endif %}",
     "depends on more than their roles"),
    ("a date",
     "{{ strftime_now('%d %b %Y') }}{% for m in messages %}{{ m.content }}"
     "{% endfor %}",
     "strftime_now"),
    ("content dropped",
     "{% for m in messages if m.role != 'assistant' %}{{ m.content }}"
     "{% endfor %}",
     "content once"),
]


def reference(node, jinja_cjs, tokenizers_cjs, model_dir, conversations):
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                          "reference_chat.cjs")
    r = subprocess.run([node, script, jinja_cjs, tokenizers_cjs, model_dir],
                       input=json.dumps(conversations), capture_output=True,
                       text=True, check=False)
    if r.returncode != 0:
        raise RuntimeError(f"reference chat rendering failed: {r.stderr}")
    return json.loads(r.stdout)


def tlmc_chat(tlmc, tokenizer, conversation, *flags):
    r = subprocess.run([tlmc, "tokenize", "--chat", "--tokenizer", tokenizer,
                        *flags], input=json.dumps(conversation).encode(),
                       capture_output=True, check=False)
    return r.returncode, r.stdout.decode(errors="replace"), \
        r.stderr.decode(errors="replace")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--tlmc", required=True)
    p.add_argument("--modelgen", required=True)
    p.add_argument("--reference", required=True,
                   help="utils/setup-tokenizers.sh's directory")
    p.add_argument("--conversations", required=True)
    a = p.parse_args()
    ref = os.path.abspath(a.reference)
    jinja_cjs = os.path.join(ref, "jinja", "dist", "index.cjs")
    tokenizers_cjs = os.path.join(ref, "tokenizers", "dist", "tokenizers.cjs")
    node = "node"
    if not (os.path.exists(jinja_cjs) and os.path.exists(tokenizers_cjs)) or \
            run([node, "--version"]).returncode != 0:
        print(f"SKIP: the reference template engine and tokenizers ({ref}) "
              "or node are absent: run utils/setup-tokenizers.sh")
        return SKIP
    conversations = json.load(open(a.conversations, encoding="utf-8"))
    res = Results()
    for vocab in TEMPLATED:
        model_dir = os.path.join(ref, vocab)
        tokenizer = os.path.join(model_dir, "tokenizer.json")
        expected = reference(node, jinja_cjs, tokenizers_cjs, model_dir,
                             conversations)
        for n, (conversation, want) in enumerate(zip(conversations, expected)):
            label = f"{vocab} conversation {n} ({len(conversation)} messages)"
            code, out, err = tlmc_chat(a.tlmc, tokenizer, conversation, "--ids")
            if not res.check(code == 0, f"{label}: formatted", err):
                continue
            ids = [int(t) for t in out.split()]
            at = next((i for i, (x, y) in enumerate(zip(ids, want["ids"]))
                       if x != y), min(len(ids), len(want["ids"])))
            res.check(ids == want["ids"],
                      f"{label}: {len(ids)} prompt ids as the reference's",
                      f"first difference at {at}: tlmc {ids[at:at + 8]}, "
                      f"reference {want['ids'][at:at + 8]}")
            code, out, err = tlmc_chat(a.tlmc, tokenizer, conversation,
                                       "--decode")
            res.check(code == 0 and out == want["text"],
                      f"{label}: decodes to the reference's rendering",
                      err or f"got {out[:160]!r}, expected "
                      f"{want['text'][:160]!r}")
    code, out, err = tlmc_chat(a.tlmc, os.path.join(ref, "llama2",
                                                    "tokenizer.json"),
                               conversations[0])
    res.check(code != 0 and "has no chat template" in err and
              len(err.strip().splitlines()) == 1,
              "llama2 (no chat template): --chat refused in one line",
              err or out)

    # The generator on a compiled model: the same ids, then a second turn.
    work = tempfile.mkdtemp(prefix="tlmc-chat-")
    try:
        for name, template, why in UNSUPPORTED:
            folder = os.path.join(work, name)
            os.makedirs(folder)
            shutil.copy(os.path.join(ref, "qwen3", "tokenizer.json"), folder)
            with open(os.path.join(folder, "tokenizer_config.json"), "w",
                      encoding="utf-8") as f:
                json.dump({"chat_template": template}, f)
            code, out, err = tlmc_chat(a.tlmc, os.path.join(
                folder, "tokenizer.json"), conversations[0])
            res.check(code != 0 and why in err and
                      len(err.strip().splitlines()) == 1,
                      f"template with {name}: refused in one line ({why})",
                      err or out)
        qwen = os.path.join(ref, "qwen3", "tokenizer.json")
        gguf = os.path.join(work, "m.gguf")
        exe = os.path.join(work, "m")
        r = run([a.modelgen, "--shape", "stories260K", "--vocab", "151669",
                 "--dtype", "f16", "-o", gguf])
        r = r if r.returncode else run([a.tlmc, "compile", gguf, "--tokenizer",
                                        qwen, "-o", exe, "--exe"])
        if not res.check(r.returncode == 0, "model with the Qwen3 vocabulary "
                         "compiled with its chat format", r.stderr):
            return res.finish()
        res.check("chat format from" in r.stderr and "'<|im_end|>'" in r.stderr,
                  "tlmc compile names the chat format and its end token",
                  r.stderr)
        one_shot = conversations[3]
        r = run([exe, "--chat", "--system", one_shot[0]["content"], "-p",
                 one_shot[1]["content"], "--tokens", "--seed", "7",
                 "--max-new-tokens", "6", "--threads", "1"])
        lines = r.stdout.splitlines()
        prompt = [int(t) for t in lines[0].split()[1:]] if lines else []
        code, out, err = tlmc_chat(a.tlmc, qwen, one_shot, "--ids")
        res.check(r.returncode == 0 and prompt == [int(t) for t in out.split()],
                  f"generator --chat --system -p feeds the {len(prompt)} ids "
                  "tlm_chat_format + tlm_tokenize give", r.stderr or r.stdout)
        r = subprocess.run([exe, "--chat", "--tokens", "--seed", "7",
                            "--max-new-tokens", "4", "--threads", "1"],
                           input="First question\nSecond question\n",
                           capture_output=True, text=True, check=False)
        prompts = [line.split()[1:] for line in r.stdout.splitlines()
                   if line.startswith("prompt:")]
        res.check(r.returncode == 0 and len(prompts) == 2 and
                  prompts[1][0] == "151645" and
                  prompts[1][-3:] == ["151644", "77091", "198"],
                  "interactive --chat: the second turn closes the reply "
                  "(<|im_end|>) and opens the next ('<|im_start|>assistant\\n')",
                  r.stderr or r.stdout)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    res.finish()


if __name__ == "__main__":
    raise SystemExit(main())
