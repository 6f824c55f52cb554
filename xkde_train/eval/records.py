"""Evaluation records: one row per (case, language pair) with its five teacher-forced probes.

Each probe is a (prompt, answer) pair of texts; the prompt is already formatted
with the model's chat template and ends with the assistant turn's opening, so
``prompt + answer`` is exactly what the model reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from xkde_data.errors import XkdeError
from xkde_data.template import EditTemplate, edit_statement

from .benchmarks import Benchmark

#: The teacher-forced probes of a record. ``locality_plain`` is the locality question without the edit.
PROBES = ("reliability", "generality", "portability", "locality_edit", "locality_plain")
#: Probes whose answer is the expected (edited) answer; generation metrics are computed on them.
IN_SCOPE = ("reliability", "generality", "portability")

RECORD_SCHEMA: dict[str, pl.DataType] = {
    "record": pl.Int64, "id": pl.String, "pair": pl.String, "src": pl.String, "tgt": pl.String,
    "edit": pl.String, "file": pl.String, "index": pl.Int64,
    **{f"{p}_{part}": pl.String for p in PROBES for part in ("query", "prompt", "answer")},
}


@dataclass(frozen=True)
class ChatFormatter:
    """Turns a user message into the model's chat prompt (with the generation opening)."""

    tokenizer: object
    system_prompt: str | None = None

    def __call__(self, user: str) -> str:
        messages = ([{"role": "system", "content": self.system_prompt}] if self.system_prompt else [])
        messages.append({"role": "user", "content": user})
        return self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)


def load_chat_template(tokenizer, model_name: str, chat_template_file: str | None = None) -> None:
    """Install ``--chat-template FILE`` or check the tokenizer has one; a model without one is a user error."""
    if chat_template_file:
        path = Path(chat_template_file)
        if not path.is_file():
            raise XkdeError("no such chat template file", file=chat_template_file, field="--chat-template")
        text = path.read_text(encoding="utf-8")
        if "{%" not in text and "{{" not in text:
            raise XkdeError("not a Jinja chat template", file=chat_template_file, field="--chat-template")
        tokenizer.chat_template = text
    if not getattr(tokenizer, "chat_template", None):
        raise XkdeError(f"model {model_name!r} has no chat template; pass --chat-template FILE (a Jinja template)")


def _required(block, field_name: str, file: str, index: int, lang: str):
    """The first item of a list field (rephrase, locality, portability), or a located error."""
    items = getattr(block, field_name)
    if not items:
        raise XkdeError("missing field needed by the benchmark", file=file, record=index, field=f"{lang}.{field_name}")
    return items[0]


def build_records(benchmark: Benchmark, pairs: list[tuple[str, str]], format_chat: ChatFormatter,
                  template: EditTemplate | None = None, limit: int | None = None) -> pl.DataFrame:
    """The record table (:data:`RECORD_SCHEMA`) for the given pairs; ``limit`` keeps the first N cases."""
    template = template or EditTemplate.load()
    rows = []
    for src, tgt in pairs:
        source = benchmark.source_for(src, tgt)
        cases = source.cases[:limit] if limit is not None else source.cases
        for index, case in enumerate(cases):
            s, t = case.langs[src], case.langs[tgt]
            edit = edit_statement(s.prompt, s.target_new)
            rephrase = _required(t, "rephrase", source.path, index, tgt)
            port = _required(t, "portability", source.path, index, tgt)
            loc = _required(t, "locality", source.path, index, tgt)
            probes = {
                "reliability": (t.prompt, t.target_new),
                "generality": (rephrase, t.target_new),
                "portability": (port.prompt, port.answer),
                "locality_edit": (loc.prompt, loc.answer),
            }
            row = {"record": len(rows), "id": case.id, "pair": f"{src}-{tgt}", "src": src, "tgt": tgt,
                   "edit": edit, "file": source.path, "index": index}
            for name, (query, answer) in probes.items():
                row[f"{name}_query"] = query
                row[f"{name}_prompt"] = format_chat(template.render(target_lang=tgt, updates=[edit], query=query))
                row[f"{name}_answer"] = answer
            # Locality without the edit: the question alone.
            row["locality_plain_query"] = loc.prompt
            row["locality_plain_prompt"] = format_chat(loc.prompt)
            row["locality_plain_answer"] = loc.answer
            rows.append(row)
    if not rows:
        raise XkdeError("the benchmark holds no records to evaluate")
    return pl.DataFrame(rows, schema=RECORD_SCHEMA, orient="row")
