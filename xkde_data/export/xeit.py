"""XE-IT instances: the edit in language s, the query and answer in language t."""

from __future__ import annotations

import polars as pl

from ..stats import Stats
from ..template import EditTemplate
from .queries import (DEFAULT_DISTRACTORS, MESSAGE_DTYPE, META_SCHEMA, PairIndex, assistant_message,
                      case_queries, config_name, frame_from_columns, user_message, validate_distractors)

XEIT_SCHEMA: dict[str, pl.DataType] = {"messages": MESSAGE_DTYPE, **META_SCHEMA}


def build_xeit(kept: pl.DataFrame, langs: list[str], *, template: EditTemplate,
               distractors: tuple[float, float, float] = DEFAULT_DISTRACTORS, seed: int = 0,
               splits: dict[str, str] | None = None) -> tuple[pl.DataFrame, Stats]:
    """Chat instances for every ordered pair (s, t) of ``langs``, s = t included.

    ``kept`` is the long case table; a pair uses the cases that have both an s and a t row.
    In-scope queries (reliability, generality, portability) answer with t's new answer,
    locality queries with t's original answer. Rows come out ordered by pair (``langs``
    order, s outer), then case (first-seen order), kind and query index.

    ``splits`` (case id -> split, from :func:`assign_splits`) adds a ``split`` column and
    draws distractors only from cases of the same split, so no validation edit ever shows
    up in a training prompt. Stats: ``instances``, ``instances:{config}``,
    ``instances:{config}:{kind}``, ``distractors:{n}``, ``cases:{config}``.
    """
    probs = validate_distractors(distractors)
    index = PairIndex(kept, splits)
    stats = Stats()
    columns: dict[str, list] = {name: [] for name in XEIT_SCHEMA}
    split_column: list[str | None] = []
    distractor_counts: list[int] = []
    for s in langs:
        for t in langs:
            config = config_name(s, t)
            for case_id in index.cases_with(s, t):
                case = index.rows[case_id]
                stats.stat_update(f"cases:{config}")
                split = index.split_of(case_id)
                corpus = case[t]["corpus"]
                for query in case_queries(case[s], case[t]):
                    updates = index.updates(case_id, s, t, query, distractors=probs, seed=seed)
                    columns["messages"].append([user_message(template, t, updates, query),
                                                assistant_message(query.answer)])
                    for name, value in (("case_id", case_id), ("corpus", corpus), ("source_lang", s),
                                        ("target_lang", t), ("kind", query.kind), ("config", config)):
                        columns[name].append(value)
                    split_column.append(split)
                    distractor_counts.append(len(updates) - 1)
    schema = dict(XEIT_SCHEMA)
    if splits is not None:
        columns["split"], schema["split"] = split_column, pl.String
    frame = frame_from_columns(columns, schema)
    count_rows(stats, frame, "instances")
    for n in distractor_counts:
        stats[f"distractors:{n}"] += 1
    return frame, stats


def count_rows(stats: Stats, frame: pl.DataFrame, name: str) -> None:
    """``name``, ``name:{config}`` and ``name:{config}:{kind}`` counters of an output frame."""
    stats[name] += frame.height
    for config, kind, n in frame.group_by(["config", "kind"], maintain_order=True).len().iter_rows():
        stats[f"{name}:{config}"] += n
        stats[f"{name}:{config}:{kind}"] += n
