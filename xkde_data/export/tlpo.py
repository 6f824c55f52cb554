"""TL-PO preference pairs: chosen = the answer in t, rejected = the same answer in s."""

from __future__ import annotations

import unicodedata

import polars as pl

from ..stats import Stats
from ..template import EditTemplate
from .queries import (DEFAULT_DISTRACTORS, MESSAGE_DTYPE, META_SCHEMA, PairIndex, assistant_message,
                      case_queries, config_name, frame_from_columns, user_message, validate_distractors)
from .xeit import count_rows

TLPO_SCHEMA: dict[str, pl.DataType] = {
    "prompt": MESSAGE_DTYPE, "chosen": MESSAGE_DTYPE, "rejected": MESSAGE_DTYPE, **META_SCHEMA,
}


def normalize_answer(text: str) -> str:
    """Comparison form of an answer: NFKC, casefolded, inner whitespace collapsed, outer punctuation trimmed."""
    text = " ".join(unicodedata.normalize("NFKC", text).casefold().split())
    start, end = 0, len(text)
    while start < end and _trimmable(text[start]):
        start += 1
    while end > start and _trimmable(text[end - 1]):
        end -= 1
    return text[start:end]


def _trimmable(char: str) -> bool:
    return char.isspace() or unicodedata.category(char).startswith("P")


def build_tlpo(kept: pl.DataFrame, langs: list[str], *, template: EditTemplate, seed: int = 0,
               distractors: tuple[float, float, float] = DEFAULT_DISTRACTORS,
               splits: dict[str, str] | None = None) -> tuple[pl.DataFrame, Stats]:
    """Preference pairs for every ordered pair (s, t) of ``langs`` with s != t.

    The prompt is the XE-IT user message of the same (case, s, t, kind, index), built by
    the same code with the same seed, distractors and splits. All four kinds are paired:
    a locality answer given in s instead of t is the same language mismatch TL-PO trains
    away. Pairs whose answers are equal after :func:`normalize_answer` (names, numbers)
    carry no signal and are dropped; queries with no s counterpart (t has more portability
    or locality items than s) are skipped. Stats: ``pairs``, ``pairs:{config}``,
    ``pairs:{config}:{kind}``, ``dropped_equal``, ``dropped_equal:{config}``,
    ``no_source_answer``, ``no_source_answer:{config}``.
    """
    probs = validate_distractors(distractors)
    index = PairIndex(kept, splits)
    stats = Stats()
    columns: dict[str, list] = {name: [] for name in TLPO_SCHEMA}
    split_column: list[str | None] = []
    for s in langs:
        for t in langs:
            if s == t:
                continue
            config = config_name(s, t)
            for case_id in index.cases_with(s, t):
                case = index.rows[case_id]
                split = index.split_of(case_id)
                corpus = case[t]["corpus"]
                for query in case_queries(case[s], case[t]):
                    if query.source_answer is None:
                        stats.stat_update("no_source_answer", f"no_source_answer:{config}")
                        continue
                    if normalize_answer(query.answer) == normalize_answer(query.source_answer):
                        stats.stat_update("dropped_equal", f"dropped_equal:{config}")
                        continue
                    updates = index.updates(case_id, s, t, query, distractors=probs, seed=seed)
                    columns["prompt"].append([user_message(template, t, updates, query)])
                    columns["chosen"].append([assistant_message(query.answer)])
                    columns["rejected"].append([assistant_message(query.source_answer)])
                    for name, value in (("case_id", case_id), ("corpus", corpus), ("source_lang", s),
                                        ("target_lang", t), ("kind", query.kind), ("config", config)):
                        columns[name].append(value)
                    split_column.append(split)
    schema = dict(TLPO_SCHEMA)
    if splits is not None:
        columns["split"], schema["split"] = split_column, pl.String
    frame = frame_from_columns(columns, schema)
    count_rows(stats, frame, "pairs")
    return frame, stats
