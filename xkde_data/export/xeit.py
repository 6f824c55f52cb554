"""XE-IT instances: the edit in language s, the query and answer in language t."""

from __future__ import annotations

import polars as pl

from ..stats import Stats
from ..template import EditTemplate
from .queries import (DEFAULT_DISTRACTORS, MESSAGE_DTYPE, META_SCHEMA, PairIndex, assistant_message,
                      case_queries, config_name, user_message, validate_distractors)

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
    rows = []
    for s in langs:
        for t in langs:
            config = config_name(s, t)
            for case_id in index.cases_with(s, t):
                case = index.rows[case_id]
                stats.stat_update(f"cases:{config}")
                for query in case_queries(case[s], case[t]):
                    updates = index.updates(case_id, s, t, query, distractors=probs, seed=seed)
                    row = {
                        "messages": [user_message(template, t, updates, query), assistant_message(query.answer)],
                        "case_id": case_id, "corpus": case[t]["corpus"], "source_lang": s, "target_lang": t,
                        "kind": query.kind, "config": config,
                    }
                    if splits is not None:
                        row["split"] = index.split_of(case_id)
                    rows.append(row)
                    stats.stat_update("instances", f"instances:{config}", f"instances:{config}:{query.kind}",
                                      f"distractors:{len(updates) - 1}")
    schema = dict(XEIT_SCHEMA, **({"split": pl.String} if splits is not None else {}))
    return pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema), stats
