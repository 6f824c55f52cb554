"""What XE-IT instances and TL-PO pairs share: the queries of a (case, s, t) and their user message.

One query is a question in the target language t with its answer in t and the
same answer in the source language s (``None`` where s has no counterpart).
The user message holds the case's s-language edit plus seeded *distractor*
edits (other cases' s-language edits, the LTE recipe), so XE-IT and TL-PO
render byte-identical prompts for the same (case, s, t, kind, index).
"""

from __future__ import annotations

import hashlib
import itertools
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import polars as pl
import pyarrow as pa

from ..template import EditTemplate, edit_statement

#: Query kinds in output order. In-scope kinds take the new answer; locality keeps its original one.
KINDS = ("reliability", "generality", "portability", "locality")

#: Probabilities of 0, 1 and 2 distractor edits in an update block (LTE's default).
DEFAULT_DISTRACTORS = (0.5, 0.25, 0.25)

MESSAGE_DTYPE = pl.List(pl.Struct({"role": pl.String, "content": pl.String}))

#: Metadata columns every XE-IT and TL-PO row carries, after its message columns.
META_SCHEMA: dict[str, pl.DataType] = {
    "case_id": pl.String,
    "corpus": pl.String,
    "source_lang": pl.String,
    "target_lang": pl.String,
    "kind": pl.String,
    "config": pl.String,
}


@dataclass(frozen=True)
class Query:
    kind: str
    index: int
    question: str  # in the target language
    answer: str  # in the target language
    source_answer: str | None  # the same answer in the source language


def config_name(source_lang: str, target_lang: str) -> str:
    return f"{source_lang}-{target_lang}"


def case_queries(source: dict[str, Any], target: dict[str, Any]) -> Iterator[Query]:
    """The queries of one case for a pair, from its s and t long-table rows, in :data:`KINDS` order."""
    yield Query("reliability", 0, target["prompt"], target["target_new"], source["target_new"])
    for i, rephrase in enumerate(target["rephrase"] or []):
        yield Query("generality", i, rephrase, target["target_new"], source["target_new"])
    for kind in ("portability", "locality"):
        source_items = source[kind] or []
        for i, qa in enumerate(target[kind] or []):
            counterpart = source_items[i]["answer"] if i < len(source_items) else None
            yield Query(kind, i, qa["prompt"], qa["answer"], counterpart)


def validate_distractors(distractors: tuple[float, float, float]) -> tuple[float, float, float]:
    probs = tuple(float(p) for p in distractors)
    if len(probs) != 3 or any(p < 0 for p in probs) or abs(sum(probs) - 1.0) > 1e-6:
        raise ValueError(f"distractors must be 3 probabilities (none, one, two) summing to 1, got {distractors}")
    return probs  # type: ignore[return-value]


class PairIndex:
    """The cases of a long table, by language, with everything a (s, t) pair needs."""

    def __init__(self, kept: pl.DataFrame, splits: dict[str, str] | None = None) -> None:
        self.rows: dict[str, dict[str, dict[str, Any]]] = {}  # case id -> lang -> row
        self.order: list[str] = []  # case ids, first-seen order
        for row in kept.iter_rows(named=True):
            case = self.rows.get(row["id"])
            if case is None:
                case = self.rows[row["id"]] = {}
                self.order.append(row["id"])
            case[row["lang"]] = row
        self.splits = splits
        # Distractor pools: sorted case ids with an s row (per split), so a draw never depends on row order.
        self._pools: dict[tuple[str, str | None], tuple[list[str], dict[str, int]]] = {}

    def split_of(self, case_id: str) -> str | None:
        if self.splits is None:
            return None
        try:
            return self.splits[case_id]
        except KeyError:
            raise ValueError(f"case {case_id!r} has no split assigned") from None

    def cases_with(self, source_lang: str, target_lang: str) -> list[str]:
        return [cid for cid in self.order if source_lang in self.rows[cid] and target_lang in self.rows[cid]]

    def _pool(self, lang: str, split: str | None) -> tuple[list[str], dict[str, int]]:
        key = (lang, split)
        if key not in self._pools:
            ids = sorted(cid for cid, langs in self.rows.items()
                         if lang in langs and (split is None or self.split_of(cid) == split))
            self._pools[key] = (ids, {cid: i for i, cid in enumerate(ids)})
        return self._pools[key]

    def updates(self, case_id: str, source_lang: str, target_lang: str, query: Query, *,
                distractors: tuple[float, float, float], seed: int) -> list[str]:
        """The update block: the case's s edit plus 0-2 other s edits, shuffled; seeded per query.

        The draws come from a hash of (seed, case, s, t, kind, index): the same query gets the
        same block in XE-IT and TL-PO, whatever else is in the table or in which order.
        """
        own = self.rows[case_id][source_lang]
        statements = [edit_statement(own["prompt"], own["target_new"])]
        key = f"{seed}|{case_id}|{source_lang}|{target_lang}|{query.kind}|{query.index}".encode("utf-8")
        count_draw, first, second, order = struct.unpack("<4Q", hashlib.blake2b(key, digest_size=32).digest())
        unit = count_draw / 2**64
        wanted = 0 if unit < distractors[0] else (1 if unit < distractors[0] + distractors[1] else 2)
        if not wanted:
            return statements
        pool, position = self._pool(source_lang, self.split_of(case_id))
        others = len(pool) - 1  # candidates: the pool without the case itself
        picks: list[int] = []
        if others >= 1:
            picks.append(first % others)
        if wanted == 2 and others >= 2:
            pick = second % (others - 1)
            picks.append(pick + (pick >= picks[0]))  # distinct from the first pick
        for pick in picks:
            row = self.rows[pool[pick + (pick >= position[case_id])]][source_lang]
            statements.append(edit_statement(row["prompt"], row["target_new"]))
        orders = _PERMUTATIONS[len(statements)]
        return [statements[i] for i in orders[order % len(orders)]]


_PERMUTATIONS = {n: list(itertools.permutations(range(n))) for n in (1, 2, 3)}


_ARROW_MESSAGES = pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())]))


def frame_from_columns(columns: dict[str, list], schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """Python column lists -> polars, via arrow (polars builds list-of-struct columns 5x slower itself)."""
    arrays = {name: pa.array(columns[name], type=_ARROW_MESSAGES if isinstance(dtype, pl.List) else pa.string())
              for name, dtype in schema.items()}
    return pl.from_arrow(pa.table(arrays)).cast(schema)


def user_message(template: EditTemplate, target_lang: str, updates: list[str], query: Query) -> dict[str, str]:
    return {"role": "user", "content": template.render(target_lang, updates, query.question)}


def assistant_message(text: str) -> dict[str, str]:
    return {"role": "assistant", "content": text}
