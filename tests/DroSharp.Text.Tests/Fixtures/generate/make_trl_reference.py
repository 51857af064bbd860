"""TRL's conversational split, computed by TRL's and transformers' own code, for DroSharp's ConversationRenderer.

    PYTHONPATH=<dir with jinja2 3.1.6>:<transformers 4.55.0 and its deps> \\
        python3 make_trl_reference.py <TRL checkout>/trl/data_utils.py > ../trl-reference.jsonl

- `apply_chat_template` is TRL's function itself, taken from the given data_utils.py with `ast` (TRL
  huggingface/trl @ f2cd57710ae345ea6428ae95363267fcf38a3dc8 was used) and run with a processing class whose
  `apply_chat_template(..., tokenize=False)` is transformers' own (`render_jinja_template` with
  `{**special_tokens_map, **kwargs}`, as PreTrainedTokenizerBase.apply_chat_template does, including
  continue_final_message). `strftime_now` is frozen at 2025-03-07 09:05:03.
- Rows are built from the conversations of ../chat-templates/*/cases.jsonl: whole conversations (messages),
  prompt/completion splits at every assistant turn, prompts ending in an assistant turn (continued),
  explicit and implicit-prompt preference pairs. Each line: {"family", "special_tokens", "row", "output"} or
  {..., "error_type", "error"}.
"""

import ast
import copy
import json
import sys
from datetime import datetime
from itertools import takewhile  # noqa: F401 - used by TRL's function
from pathlib import Path

import transformers.utils.chat_template_utils as ctu
from transformers.utils.chat_template_utils import render_jinja_template

FROZEN_NOW = datetime(2025, 3, 7, 9, 5, 3)


class _FrozenDatetime:
    @staticmethod
    def now():
        return FROZEN_NOW


ctu.datetime = _FrozenDatetime  # transformers' strftime_now calls datetime.now()

ROOT = Path(__file__).resolve().parent.parent / "chat-templates"
STANDARD = ["bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token", "additional_special_tokens"]


class ProcessingClass:
    """The tokenize=False path of transformers' PreTrainedTokenizerBase.apply_chat_template (4.55.0)."""

    def __init__(self, template, special_tokens):
        self.chat_template = template
        self.special_tokens_map = special_tokens

    def apply_chat_template(self, conversation, tools=None, documents=None, add_generation_prompt=False,
                            continue_final_message=False, tokenize=False, **kwargs):
        assert not tokenize
        if continue_final_message and add_generation_prompt:
            raise ValueError("continue_final_message and add_generation_prompt are not compatible.")
        template_kwargs = {**self.special_tokens_map, **kwargs}
        rendered, _ = render_jinja_template(
            conversations=[conversation], tools=tools, documents=documents, chat_template=self.chat_template,
            continue_final_message=continue_final_message, add_generation_prompt=add_generation_prompt, **template_kwargs)
        return rendered[0]


def load_trl_apply_chat_template(path):
    tree = ast.parse(Path(path).read_text(encoding="utf-8"))
    fn = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "apply_chat_template")
    fn.args.args[1].annotation = None
    for a in fn.args.args + fn.args.kwonlyargs:
        a.annotation = None
    if fn.args.kwarg:
        fn.args.kwarg.annotation = None
    fn.returns = None
    module = ast.Module(body=[fn], type_ignores=[])
    scope = {"takewhile": takewhile}
    exec(compile(module, path, "exec"), scope)
    return scope["apply_chat_template"]


def load_template(family_dir):
    cfg = family_dir / "tokenizer_config.json"
    if cfg.exists():
        t = json.loads(cfg.read_text(encoding="utf-8"))["chat_template"]
        if isinstance(t, list):
            t = next(x["template"] for x in t if x["name"] == "default")
        return t
    return (family_dir / "chat_template.jinja").read_text(encoding="utf-8")


def rows_for(case):
    messages = case["messages"]
    extra = case["extra"]
    kwargs = {k: v for k, v in extra.items() if k not in STANDARD and k not in ("tools", "documents")}
    base = {}
    if kwargs:
        base["chat_template_kwargs"] = kwargs
    if extra.get("tools"):
        base["tools"] = extra["tools"]
    yield dict(base, messages=messages)
    for i, m in enumerate(messages):
        if m["role"] != "assistant" or i == 0:
            continue
        prompt, completion = messages[:i], [m]
        yield dict(base, prompt=prompt, completion=completion)
        rejected = [dict(m, content=(m.get("content") or "") + " (worse)")] if isinstance(m.get("content"), str) else [m]
        yield dict(base, prompt=prompt, chosen=completion, rejected=rejected)
        yield dict(base, chosen=messages[: i + 1], rejected=messages[:i] + rejected)
        if isinstance(m.get("content"), str) and len(m["content"]) > 3:
            half = len(m["content"]) // 2
            yield dict(base, prompt=prompt + [dict(m, content=m["content"][:half])], completion=[dict(m, content=m["content"][half:])])


def main():
    trl_apply = load_trl_apply_chat_template(sys.argv[1])
    out = sys.stdout
    for family_dir in sorted(p for p in ROOT.iterdir() if p.is_dir()):
        template = load_template(family_dir)
        for line in (family_dir / "cases.jsonl").read_text(encoding="utf-8").splitlines():
            case = json.loads(line)
            specials = {k: v for k, v in case["extra"].items() if k in STANDARD}
            for row in rows_for(case):
                result = {"family": family_dir.name, "special_tokens": specials, "row": row}
                example = copy.deepcopy(row)
                tools = example.pop("tools", None)
                try:
                    result["output"] = trl_apply(example, ProcessingClass(template, specials), tools)
                except Exception as e:  # noqa: BLE001 - a failure is the reference result
                    result["error_type"] = type(e).__name__
                    result["error"] = str(e)
                out.write(json.dumps(result, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
