"""Hub-ready dataset folders: ``data/{config}/{split}-0000i-of-0000N.parquet`` plus a ``README.md`` card.

Writes are atomic at the folder level (everything goes into a temp sibling folder that is
renamed into place) and byte-identical across reruns: rows keep the frame's order, parquet
is written by pyarrow with fixed options, and the card holds no timestamp other than the
build signature's date.
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from ..atomic import replace_dir, temp_dir_beside
from ..errors import XkdeError
from .card import CardInfo, render_card
from .queries import KINDS
from .splits import SPLITS
from .tlpo import TLPO_SCHEMA
from .xeit import XEIT_SCHEMA

DATASET_SCHEMAS = {"xeit": XEIT_SCHEMA, "tlpo": TLPO_SCHEMA}

#: Shards are cut so that none holds much more than this (in-memory estimate); the Hub likes < 500 MB files.
DEFAULT_MAX_SHARD_BYTES = 256 * 2**20

_MESSAGES = pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())]))


def arrow_schema(kind: str) -> pa.Schema:
    """The parquet schema of a dataset kind: plain (not large/view) string types, as `datasets` expects."""
    return pa.schema([(name, _MESSAGES if isinstance(dtype, pl.List) else pa.string())
                      for name, dtype in DATASET_SCHEMAS[kind].items()])


def export_dataset(frame: pl.DataFrame, out_dir: Path, *, kind: str, card: CardInfo,
                   max_shard_bytes: int = DEFAULT_MAX_SHARD_BYTES) -> dict[str, dict[str, int]]:
    """Write one dataset folder (``kind`` "xeit" or "tlpo") and return config -> split -> rows.

    ``frame`` is the output of :func:`build_xeit` / :func:`build_tlpo` plus a ``split``
    column ("train" | "validation"). There is one config per ``config`` value (source-target
    pair, in first-seen order) plus ``all`` (listed first, the default); a split with no rows
    is left out of its config. ``out_dir`` is replaced as a whole; a failure leaves the old
    folder (or nothing) in place.
    """
    if kind not in DATASET_SCHEMAS:
        raise ValueError(f"kind must be one of {sorted(DATASET_SCHEMAS)}, got {kind!r}")
    columns = list(DATASET_SCHEMAS[kind])
    missing = [c for c in [*columns, "split"] if c not in frame.columns]
    if missing:
        raise ValueError(f"{kind} frame lacks column(s) {missing}")
    unknown = set(frame["split"].unique().to_list()) - set(SPLITS)
    if unknown:
        raise ValueError(f"unknown split value(s) {sorted(map(str, unknown))}; expected {SPLITS}")
    if frame.is_empty():
        raise ValueError(f"no {kind} rows to export")

    frame = frame.select([*columns, "split"]).cast({**DATASET_SCHEMAS[kind], "split": pl.String})
    schema = arrow_schema(kind)
    configs = ["all", *frame["config"].unique(maintain_order=True).to_list()]
    out_dir = Path(out_dir)
    try:
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        tmp = temp_dir_beside(out_dir)
    except OSError as err:
        raise XkdeError(f"cannot write the {kind} dataset here: {err.strerror}", file=str(out_dir.parent)) from None
    try:
        counts: dict[str, dict[str, int]] = {}
        for config in configs:
            rows = frame if config == "all" else frame.filter(pl.col("config") == config)
            for split in SPLITS:
                part = rows.filter(pl.col("split") == split).drop("split")
                if part.height:
                    _write_shards(part, tmp / "data" / config, split, schema, max_shard_bytes)
                    counts.setdefault(config, {})[split] = part.height
        kinds = {config: _kind_counts(frame if config == "all" else frame.filter(pl.col("config") == config))
                 for config in counts}
        languages = list(dict.fromkeys([*frame["source_lang"].unique(maintain_order=True).to_list(),
                                        *frame["target_lang"].unique(maintain_order=True).to_list()]))
        (tmp / "README.md").write_text(render_card(kind, card, counts, kinds, languages), encoding="utf-8")
        replace_dir(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return counts


def _kind_counts(frame: pl.DataFrame) -> dict[str, int]:
    counted = dict(frame.group_by("kind").len().iter_rows())
    return {kind: counted[kind] for kind in KINDS if kind in counted}


def _write_shards(part: pl.DataFrame, folder: Path, split: str, schema: pa.Schema, max_shard_bytes: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    shards = max(1, math.ceil(part.estimated_size() / max_shard_bytes))
    per_shard = math.ceil(part.height / shards)
    shards = math.ceil(part.height / per_shard)
    for i in range(shards):
        chunk = part.slice(i * per_shard, per_shard)
        table = chunk.to_arrow().cast(schema)
        pq.write_table(table, folder / f"{split}-{i:05d}-of-{shards:05d}.parquet", compression="zstd",
                       row_group_size=10_000, write_statistics=False, store_schema=True)
