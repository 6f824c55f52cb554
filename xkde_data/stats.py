"""Uniform stage results: every pipeline stage returns kept rows, rejected rows and counters.

Stages are functions over polars tables (see :mod:`xkde_data.schema` for the
case table). Rejections are rows of :data:`REJECT_SCHEMA`, one per
(case, language), each with the stage and a documented reason code, so that
for every language ``input == kept + rejected`` can be checked.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable

import polars as pl

REJECT_SCHEMA: dict[str, pl.DataType] = {
    "id": pl.String,
    "corpus": pl.String,
    "lang": pl.String,
    "stage": pl.String,
    "reason": pl.String,
    "detail": pl.String,
}


class Stats(Counter):
    """Named counters of a stage (datatrove's ``stat_update``)."""

    def stat_update(self, *names: str, value: int = 1) -> None:
        for name in names:
            self[name] += value

    def merge(self, other: "Stats", prefix: str = "") -> "Stats":
        for key, value in other.items():
            self[f"{prefix}{key}"] += value
        return self


@dataclass
class StageResult:
    """What a stage hands to the next one."""

    kept: pl.DataFrame
    rejected: pl.DataFrame = field(default_factory=lambda: empty_rejects())
    stats: Stats = field(default_factory=Stats)


def empty_rejects() -> pl.DataFrame:
    return pl.DataFrame(schema=REJECT_SCHEMA)


def rejects_frame(rows: Iterable[dict]) -> pl.DataFrame:
    rows = list(rows)
    return pl.DataFrame(rows, schema=REJECT_SCHEMA, orient="row") if rows else empty_rejects()
