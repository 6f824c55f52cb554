"""TL-PO preference pairs: chosen = the answer in t, rejected = the same answer in s."""

from __future__ import annotations

import unicodedata

import polars as pl

from ..stats import Stats
from ..template import EditTemplate
from .queries import (DEFAULT_DISTRACTORS, MESSAGE_DTYPE, META_SCHEMA, PairIndex, assistant_message,
                      case_queries, config_name, user_message, validate_distractors)

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
    rows = []
    for s in langs:
        for t in langs:
            if s == t:
                continue
            config = config_name(s, t)
            for case_id in index.cases_with(s, t):
                case = index.rows[case_id]
                for query in case_queries(case[s], case[t]):
                    if query.source_answer is None:
                        stats.stat_update("no_source_answer", f"no_source_answer:{config}")
                        continue
                    if normalize_answer(query.answer) == normalize_answer(query.source_answer):
                        stats.stat_update("dropped_equal", f"dropped_equal:{config}")
                        continue
                    updates = index.updates(case_id, s, t, query, distractors=probs, seed=seed)
                    row = {
                        "prompt": [user_message(template, t, updates, query)],
                        "chosen": [assistant_message(query.answer)],
                        "rejected": [assistant_message(query.source_answer)],
                        "case_id": case_id, "corpus": case[t]["corpus"], "source_lang": s, "target_lang": t,
                        "kind": query.kind, "config": config,
                    }
                    if splits is not None:
                        row["split"] = index.split_of(case_id)
                    rows.append(row)
                    stats.stat_update("pairs", f"pairs:{config}", f"pairs:{config}:{query.kind}")
    schema = dict(TLPO_SCHEMA, **({"split": pl.String} if splits is not None else {}))
    return pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema), stats
