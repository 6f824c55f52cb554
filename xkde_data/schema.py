"""The canonical edit case, its validation, and its two storage forms.

An *edit case* is one fact edit with a block per language::

    {"id": "demo-0001", "corpus": "demo",
     "langs": {"en": {"subject", "prompt", "target_new", "target_true"?,
                      "rephrase": [...], "locality": [{"prompt", "answer"}],
                      "portability": [{"prompt", "answer"}]}, ...}}

JSONL stores one case per line in exactly that shape. Parquet and the
in-memory pipeline use the *long table*: one row per (case, language), with the
columns of :data:`CASE_SCHEMA`. Both round-trip losslessly, order included.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from .atomic import atomic_write
from .errors import XkdeError
from .langs import normalize_code

QA_DTYPE = pl.Struct({"prompt": pl.String, "answer": pl.String})

#: Long-table schema: one row per (case, language). Column order is part of it.
CASE_SCHEMA: dict[str, pl.DataType] = {
    "id": pl.String,
    "corpus": pl.String,
    "lang": pl.String,
    "subject": pl.String,
    "prompt": pl.String,
    "target_new": pl.String,
    "target_true": pl.String,
    "rephrase": pl.List(pl.String),
    "locality": pl.List(QA_DTYPE),
    "portability": pl.List(QA_DTYPE),
}

BLOCK_FIELDS = ("subject", "prompt", "target_new", "target_true", "rephrase", "locality", "portability")


@dataclass
class QA:
    prompt: str
    answer: str

    def to_dict(self) -> dict[str, str]:
        return {"prompt": self.prompt, "answer": self.answer}


@dataclass
class LangBlock:
    """One language's view of an edit. ``subject`` may be absent (parallel TSV has none)."""

    prompt: str
    target_new: str
    subject: str | None = None
    target_true: str | None = None
    rephrase: list[str] = field(default_factory=list)
    locality: list[QA] = field(default_factory=list)
    portability: list[QA] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"subject": self.subject, "prompt": self.prompt, "target_new": self.target_new}
        if self.target_true is not None:
            out["target_true"] = self.target_true
        out["rephrase"] = list(self.rephrase)
        out["locality"] = [qa.to_dict() for qa in self.locality]
        out["portability"] = [qa.to_dict() for qa in self.portability]
        return out


@dataclass
class EditCase:
    id: str
    corpus: str
    langs: dict[str, LangBlock]

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "corpus": self.corpus, "langs": {k: b.to_dict() for k, b in self.langs.items()}}


# ---------------------------------------------------------------- validation

def _text(value: Any, field_name: str, *, required: bool = True) -> str | None:
    if value is None:
        if required:
            raise XkdeError("missing required field", field=field_name)
        return None
    if not isinstance(value, str):
        raise XkdeError(f"expected a string, got {type(value).__name__}", field=field_name)
    if required and not value.strip():
        raise XkdeError("empty value", field=field_name)
    return value


def _qa_list(value: Any, field_name: str) -> list[QA]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise XkdeError(f"expected a list, got {type(value).__name__}", field=field_name)
    out = []
    for i, item in enumerate(value):
        where = f"{field_name}[{i}]"
        if not isinstance(item, dict):
            raise XkdeError(f"expected an object with prompt and answer, got {type(item).__name__}", field=where)
        out.append(QA(_text(item.get("prompt"), f"{where}.prompt"), _text(item.get("answer"), f"{where}.answer")))
    return out


def block_from_dict(data: Any, lang: str) -> LangBlock:
    """Validate one language block; errors name the field as ``lang.field``."""
    if not isinstance(data, dict):
        raise XkdeError(f"expected an object, got {type(data).__name__}", field=lang)
    unknown = set(data) - set(BLOCK_FIELDS)
    if unknown:
        raise XkdeError(f"unknown field(s) {sorted(unknown)}", field=lang)
    rephrase = data.get("rephrase") or []
    if not isinstance(rephrase, list):
        raise XkdeError(f"expected a list, got {type(rephrase).__name__}", field=f"{lang}.rephrase")
    subject = data.get("subject")
    if subject is not None and not isinstance(subject, str):
        raise XkdeError(f"expected a string, got {type(subject).__name__}", field=f"{lang}.subject")
    return LangBlock(
        subject=subject,
        prompt=_text(data.get("prompt"), f"{lang}.prompt"),
        target_new=_text(data.get("target_new"), f"{lang}.target_new"),
        target_true=_text(data.get("target_true"), f"{lang}.target_true", required=False),
        rephrase=[_text(r, f"{lang}.rephrase[{i}]") for i, r in enumerate(rephrase)],
        locality=_qa_list(data.get("locality"), f"{lang}.locality"),
        portability=_qa_list(data.get("portability"), f"{lang}.portability"),
    )


def case_from_dict(data: Any) -> EditCase:
    """Validate a canonical case dict (the JSONL shape)."""
    if not isinstance(data, dict):
        raise XkdeError(f"expected an object, got {type(data).__name__}")
    case_id = _text(data.get("id"), "id")
    corpus = _text(data.get("corpus"), "corpus")
    langs = data.get("langs")
    if not isinstance(langs, dict) or not langs:
        raise XkdeError("expected a non-empty object of language blocks", field="langs")
    blocks: dict[str, LangBlock] = {}
    for raw_code, block in langs.items():
        try:
            code = normalize_code(raw_code)
        except XkdeError as err:
            raise XkdeError(err.message, field=f"langs.{raw_code}") from None
        if code in blocks:
            raise XkdeError(f"language {code!r} appears twice", field=f"langs.{raw_code}")
        blocks[code] = block_from_dict(block, code)
    return EditCase(case_id, corpus, blocks)


def check_unique_ids(cases: Iterable[EditCase], *, file: str | None = None) -> None:
    seen: dict[str, int] = {}
    for i, case in enumerate(cases):
        if case.id in seen:
            raise XkdeError(f"duplicate case id {case.id!r} (first at record {seen[case.id]})",
                            file=file, record=i, field="id")
        seen[case.id] = i


# ---------------------------------------------------------------- long table

def cases_to_frame(cases: Iterable[EditCase]) -> pl.DataFrame:
    """Cases -> long table (one row per case x language), order preserved."""
    rows = []
    for case in cases:
        for lang, b in case.langs.items():
            rows.append({
                "id": case.id, "corpus": case.corpus, "lang": lang,
                "subject": b.subject, "prompt": b.prompt, "target_new": b.target_new,
                "target_true": b.target_true, "rephrase": list(b.rephrase),
                "locality": [qa.to_dict() for qa in b.locality],
                "portability": [qa.to_dict() for qa in b.portability],
            })
    return pl.DataFrame(rows, schema=CASE_SCHEMA, orient="row") if rows else empty_cases()


def empty_cases() -> pl.DataFrame:
    return pl.DataFrame(schema=CASE_SCHEMA)


def row_to_block(row: dict[str, Any]) -> LangBlock:
    return LangBlock(
        subject=row["subject"], prompt=row["prompt"], target_new=row["target_new"],
        target_true=row["target_true"], rephrase=list(row["rephrase"] or []),
        locality=[QA(q["prompt"], q["answer"]) for q in row["locality"] or []],
        portability=[QA(q["prompt"], q["answer"]) for q in row["portability"] or []],
    )


def frame_to_cases(frame: pl.DataFrame) -> list[EditCase]:
    """Long table -> cases; rows of one case are grouped in first-seen order."""
    cases: dict[str, EditCase] = {}
    for row in frame.iter_rows(named=True):
        case = cases.get(row["id"])
        if case is None:
            case = cases[row["id"]] = EditCase(row["id"], row["corpus"], {})
        case.langs[row["lang"]] = row_to_block(row)
    return list(cases.values())


def check_frame_schema(frame: pl.DataFrame, *, file: str | None = None) -> pl.DataFrame:
    missing = [c for c in CASE_SCHEMA if c not in frame.columns]
    if missing:
        raise XkdeError(f"not a canonical case table: missing column(s) {missing}", file=file, field=missing[0])
    try:
        return frame.select(list(CASE_SCHEMA)).cast(CASE_SCHEMA)
    except Exception as err:  # polars raises several types for bad casts
        raise XkdeError(f"not a canonical case table: {str(err).splitlines()[0]}", file=file) from None


# ---------------------------------------------------------------- storage

def write_jsonl(cases: Iterable[EditCase], path: str | os.PathLike) -> None:
    def _write(tmp: str) -> None:
        with open(tmp, "w", encoding="utf-8") as fh:
            for case in cases:
                fh.write(json.dumps(case.to_dict(), ensure_ascii=False) + "\n")
    atomic_write(path, _write)


def write_parquet(cases_or_frame: Iterable[EditCase] | pl.DataFrame, path: str | os.PathLike) -> None:
    frame = cases_or_frame if isinstance(cases_or_frame, pl.DataFrame) else cases_to_frame(cases_or_frame)
    atomic_write(path, lambda tmp: frame.write_parquet(tmp, statistics=False))


def write_cases(cases: Iterable[EditCase], path: str | os.PathLike) -> None:
    """Write canonical cases; the suffix picks the form (.jsonl or .parquet)."""
    suffix = Path(path).suffix.lower()
    if suffix == ".parquet":
        write_parquet(cases, path)
    elif suffix in (".jsonl", ".json"):
        write_jsonl(cases, path)
    else:
        raise XkdeError("unknown output format (use .jsonl or .parquet)", file=str(path))


def iter_jsonl(path: str | os.PathLike) -> Iterator[tuple[int, Any]]:
    """Yield (line number, parsed object); bad bytes and bad JSON name the line."""
    with open(path, "rb") as fh:
        for lineno, raw in enumerate(fh, start=1):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as err:
                raise XkdeError(f"not valid UTF-8 (byte {err.start})", file=str(path), line=lineno) from None
            if not text.strip():
                continue
            try:
                yield lineno, json.loads(text)
            except json.JSONDecodeError as err:
                raise XkdeError(f"malformed JSON: {err.msg} (column {err.colno})", file=str(path), line=lineno) from None
