#!/usr/bin/env python3
"""tlmc's chat-template renderer against Jinja2 itself.

`tlmc compile` renders chat templates with its own Jinja subset
(compiler/import/chat). Each case below (a template and its variables) is
rendered by tlmc-render-template and by Python's Jinja2 configured as
transformers renders chat templates (trim_blocks, lstrip_blocks, the
loopcontrols extension, its tojson and raise_exception); the texts must be
equal, and a case Jinja2 fails on must fail in tlmc too. The cases cover the
operators, filters, tests, methods, loops, scoping and white-space control
chat templates use, plus the real Llama-3, Qwen3 and Gemma-3 templates
(utils/setup-tokenizers.sh) over several conversations, with tools for
Qwen3's tool branch.
"""
import argparse
import json
import os
import subprocess

from e2e_common import SKIP, Results

try:
    import jinja2
    import jinja2.ext
    import jinja2.sandbox
except ImportError:
    jinja2 = None

MESSAGES = [
    {"content": "Be brief.", "role": "system"},
    {"content": "  Hi there\n", "role": "user"},
    {"content": "Hello!", "role": "assistant"},
    {"content": "What's 2+2?", "role": "user"},
]
NO_SYSTEM = MESSAGES[1:]
THINKING = MESSAGES[:2] + [
    {"content": "<think>\nadd them\n</think>\n\nIt is 4.", "role": "assistant"},
    {"content": "Thanks", "role": "user"}]
TOOLS = [{"function": {"description": "Weather now", "name": "weather",
                       "parameters": {"properties": {"city": {"type": "string"}},
                                      "type": "object"}},
          "type": "function"}]

CASES = [
    # Output, literals, operators
    ("{{ 'a' + 'b' }}|{{ \"q\\\"\" }}|{{ 1 + 2 * 3 }}|{{ 7 // 2 }}|{{ 7 % 3 }}|{{ -7 // 2 }}", {}),
    ("{{ 7 / 2 }}|{{ 2 ** 10 }}|{{ 1.5 + 1 }}|{{ 0.1 + 0.2 }}|{{ 3 - 5 }}", {}),
    ("{{ 'x' ~ 1 ~ none }}|{{ none }}|{{ true }}|{{ False }}|{{ undefined_name }}|", {}),
    ("{{ [1, 'a', none] }}|{{ {'k': 'v'} }}|{{ (1, 2) }}", {}),
    ("{{ 1 < 2 and 2 <= 2 and 3 > 2 and 3 >= 3 and 1 != 2 and not 1 == 2 }}", {}),
    ("{{ 'a' in 'cat' }}|{{ 3 in [1, 2] }}|{{ 'k' in {'k': 1} }}|{{ 'z' not in 'abc' }}", {}),
    ("{{ 0 or 'x' }}|{{ 'y' and 0 }}|{{ '' or [] }}|{{ 'a' if x else 'b' }}|{{ 'a' if y }}", {"x": 0, "y": 0}),
    ("{{ 'ab' * 3 }}|{{ [1] + [2, 3] }}|{{ 1 == 1.0 }}|{{ true == 1 }}", {}),
    # Subscripts, slices, attributes
    ("{{ xs[0] }}{{ xs[-1] }}{{ xs[1:] }}{{ xs[::-1] }}{{ xs[:-1] }}{{ xs[5] }}|{{ s[1:3] }}{{ s[::-1] }}{{ s[-2] }}",
     {"xs": [1, 2, 3], "s": "héllo"}),
    ("{{ m.role }}|{{ m['content'] }}|{{ m.missing }}|{{ m.missing is defined }}", {"m": MESSAGES[0]}),
    ("{{ missing.attr }}", {}),
    # Filters
    ("{{ '  x y \\n' | trim }}|{{ 'xxhixx' | trim('x') }}|{{ [1, 2] | length }}|{{ 'héllo' | length }}|{{ {'a': 1} | count }}", {}),
    ("{{ 'Hello World' | upper }}|{{ 'Hello' | lower }}|{{ 'hello world' | title }}|{{ 'hELLO' | capitalize }}", {}),
    ("{{ [3, 1] | first }}{{ [3, 1] | last }}|{{ ['a', 'b'] | join(', ') }}|{{ [1, 2] | join }}|{{ xs | reverse | list }}",
     {"xs": [1, 2, 3]}),
    ("{{ u | default('d') }}|{{ '' | default('d') }}|{{ '' | default('d', true) }}|{{ 5 | string }}{{ '7' | int + 1 }}|{{ -3 | abs }}", {}),
    ("{{ msgs | selectattr('role', 'equalto', 'user') | list | length }}|{{ msgs | rejectattr('role', 'equalto', 'user') | map(attribute='role') | join(',') }}",
     {"msgs": MESSAGES}),
    ("{{ xs | select('odd') | list }}|{{ xs | reject('even') | list }}|{{ ['a', 'b'] | map('upper') | join }}", {"xs": [1, 2, 3, 4]}),
    ("{{ {'b': [1, 'x'], 'a': none, 'c': true} | tojson }}|{{ 'q\"\\n' | tojson }}|{{ 1.5 | tojson }}", {}),
    ("{{ 'abc' | replace('b', 'X') }}|{{ d | items | list }}", {"d": {"k": "v"}}),
    # Tests
    ("{{ x is string }}{{ x is number }}{{ 3 is integer }}{{ 3.0 is float }}{{ none is none }}{{ x is not none }}", {"x": "s"}),
    ("{{ u is defined }}{{ u is undefined }}{{ [] is iterable }}{{ {} is mapping }}{{ 'a' is sequence }}{{ true is boolean }}", {}),
    ("{{ 3 is odd }}{{ 4 is even }}{{ 9 is divisibleby 3 }}{{ 9 is divisibleby(2) }}{{ false is false }}{{ 1 is true }}{{ 2 is eq 2 }}{{ 2 is ne 3 }}", {}),
    ("{{ 'a' is in 'cat' }}{{ 1 is in [1] }}{{ 'abc' is lower }}{{ 'Ab' is upper }}{{ x is sameas false }}", {"x": False}),
    # Methods
    ("{{ '  a  '.strip() }}|{{ 'xxaxx'.lstrip('x') }}|{{ 'a\\n\\n'.rstrip('\\n') }}|{{ 'abc'.startswith('ab') }}{{ 'abc'.endswith(('x', 'c')) }}", {}),
    ("{{ 'a,b,,c'.split(',') }}|{{ '  a  b '.split() }}|{{ 'a,b,c'.split(',', 1) }}|{{ 'a b c'.split(none, 1) }}|{{ 'x</think>y'.split('</think>')[-1] }}", {}),
    ("{{ 'Hi'.upper() }}{{ 'Hi'.lower() }}{{ 'a-b'.replace('-', '+') }}{{ ', '.join(['x', 'y']) }}{{ 'hello'.find('l') }}{{ 'hi there'.title() }}", {}),
    ("{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}{{ d.keys() | list }}{{ d.values() | list }}{{ d.get('a') }}{{ d.get('z', 0) }}{{ d.get('z') }}",
     {"d": {"a": 1, "b": 2}}),
    # Statements, loops, scoping
    ("{% if x %}A{% elif y %}B{% else %}C{% endif %}{% if not x %}D{% endif %}", {"x": 0, "y": 1}),
    ("{% for x in xs %}{{ loop.index }}/{{ loop.index0 }}/{{ loop.revindex }}/{{ loop.first }}/{{ loop.last }}/{{ loop.length }} {% endfor %}", {"xs": "abc"}),
    ("{% for x in xs %}{{ loop.previtem }}-{{ x }}-{{ loop.nextitem }} {% endfor %}", {"xs": [1, 2, 3]}),
    ("{% for x in xs if x > 1 %}{{ x }}{{ loop.length }}{% else %}none{% endfor %}|{% for x in [] %}x{% else %}empty{% endfor %}", {"xs": [1, 2, 3]}),
    ("{% for x in xs %}{% if x == 2 %}{% continue %}{% endif %}{% if x == 4 %}{% break %}{% endif %}{{ x }}{% endfor %}", {"xs": [1, 2, 3, 4, 5]}),
    ("{% set a = 1 %}{% for x in [1, 2] %}{% set a = a + x %}{{ a }}{% endfor %}{{ a }}", {}),
    ("{% set ns = namespace(n=0, s='') %}{% for x in [1, 2, 3] %}{% set ns.n = ns.n + x %}{% endfor %}{{ ns.n }}", {}),
    ("{% set t %}inner {{ 1 + 1 }}{% endset %}[{{ t }}]{% set a, = [1] %}", {}),
    ("{% set t %}inner {{ 1 + 1 }}{% endset %}[{{ t }}]", {}),
    ("{% for a, b in [[1, 2], [3, 4]] %}{{ a + b }},{% endfor %}{% for i in range(3) %}{{ i }}{% endfor %}{{ range(1, 7, 2) | list }}", {}),
    ("{{ raise_exception('bad roles') }}", {}),
    ("{% for m in messages %}{{ m.role[0] | upper }}{% endfor %}{{ messages | length - 1 }}{{ messages[1:] | length }}", {"messages": MESSAGES}),
    # White space: trim_blocks, lstrip_blocks, '-' markers, comments
    ("A\n  {% if true %}\n    B\n  {% endif %}\nC\n", {}),
    ("A  {%- if true -%}  B  {%- endif -%}  C\n{# comment #}\nD {#- c -#} E\n", {}),
    ("{{- ' x ' -}}\n\n  {{ 'y' }}  \n  {%- for i in [1, 2] %}\n  - {{ i }}\n  {%- endfor %}\n", {}),
    ("line\n    {# indented comment #}\nnext\n{%- if true %} kept {% endif -%}\n\nend", {}),
    # Errors both must report
    ("{% if x %}unclosed", {}),
    ("{{ 1 + }}", {}),
    ("{% for x in 5 %}{% endfor %}", {}),
    ("{{ 'a' - 1 }}", {}),
]


def real_templates(reference):
    cases = []
    for vocab in ("llama3", "qwen3", "gemma3"):
        config = json.load(open(os.path.join(reference, vocab,
                                             "tokenizer_config.json"),
                                encoding="utf-8"))
        special = {k: config[k] for k in ("bos_token", "eos_token")
                   if isinstance(config.get(k), str)}
        for messages in (MESSAGES, NO_SYSTEM, THINKING):
            for gen in (True, False):
                cases.append((config["chat_template"],
                              dict(special, messages=messages,
                                   add_generation_prompt=gen)))
        if vocab == "qwen3":
            cases.append((config["chat_template"],
                          dict(special, messages=MESSAGES, tools=TOOLS,
                               add_generation_prompt=True,
                               enable_thinking=False)))
    return cases


def transformers_environment():
    """What transformers' _compile_jinja_template sets up."""
    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None,
               sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent,
                          separators=separators, sort_keys=sort_keys)

    env = jinja2.sandbox.ImmutableSandboxedEnvironment(
        trim_blocks=True, lstrip_blocks=True,
        extensions=[jinja2.ext.loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    return env


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--renderer", required=True)
    p.add_argument("--reference", required=True,
                   help="utils/setup-tokenizers.sh's directory")
    a = p.parse_args()
    if jinja2 is None:
        print("SKIP: Python's Jinja2 is absent (utils/setup.sh installs "
              "python3-jinja2)")
        return SKIP
    cases = list(CASES)
    if os.path.exists(os.path.join(a.reference, "qwen3")):
        cases += real_templates(a.reference)
    else:
        print(f"NOTE: {a.reference} is absent: the real templates are not "
              "checked (run utils/setup-tokenizers.sh)")
    env = transformers_environment()
    expected = []
    for template, context in cases:
        try:
            expected.append(env.from_string(template).render(**context))
        except Exception as e:  # noqa: BLE001 - any failure is the answer
            expected.append(e)
    r = subprocess.run([a.renderer], input=json.dumps(
        [{"template": t, "context": c} for t, c in cases]),
        capture_output=True, text=True, check=False)
    if r.returncode != 0:
        print(f"FAIL: {a.renderer} failed: {r.stderr}")
        return 1
    ours = json.loads(r.stdout)
    res = Results()
    for (template, _), want, got in zip(cases, expected, ours):
        label = template if len(template) < 70 else \
            template[:60].replace("\n", "\\n") + "..."
        if isinstance(want, Exception):
            res.check("error" in got, f"fails as Jinja2 does: {label!r}",
                      f"Jinja2: {want}; tlmc rendered {got.get('text')!r}")
        else:
            res.check(got.get("text") == want, f"renders as Jinja2: {label!r}",
                      f"Jinja2 {want!r}\n      tlmc   "
                      f"{got.get('text', got.get('error'))!r}")
    res.finish()


if __name__ == "__main__":
    raise SystemExit(main())
