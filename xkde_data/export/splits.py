"""Train / validation splits by case id: a case lives in exactly one split, in every dataset."""

from __future__ import annotations

import hashlib

import polars as pl

SPLITS = ("train", "validation")


def _unit(case_id: str, seed: int) -> float:
    digest = hashlib.sha256(f"{seed}\0{case_id}".encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def assign_splits(case_ids: list[str], *, validation_fraction: float = 0.05, seed: int = 0) -> dict[str, str]:
    """Case id -> "train" | "validation", by hashing id and seed.

    A case's split depends only on its id, the seed and the fraction, never on the other
    ids, so adding cases does not move existing ones. When the hash leaves validation
    empty although ``validation_fraction > 0`` and there are at least two cases, the case
    with the smallest hash moves to validation.
    """
    if not 0.0 <= validation_fraction < 1.0:
        raise ValueError(f"validation_fraction must be in [0, 1), got {validation_fraction}")
    units = {cid: _unit(cid, seed) for cid in dict.fromkeys(case_ids)}
    splits = {cid: "validation" if u < validation_fraction else "train" for cid, u in units.items()}
    if validation_fraction > 0 and len(splits) >= 2 and "validation" not in splits.values():
        splits[min(units, key=lambda cid: (units[cid], cid))] = "validation"
    return splits


def with_splits(frame: pl.DataFrame, splits: dict[str, str], *, id_column: str = "case_id") -> pl.DataFrame:
    """Add (or replace) the ``split`` column from a case id -> split map; unknown ids are an error."""
    missing = set(frame[id_column].unique().to_list()) - set(splits)
    if missing:
        raise ValueError(f"{len(missing)} case id(s) have no split, e.g. {sorted(missing)[0]!r}")
    return frame.with_columns(pl.col(id_column).replace_strict(splits, return_dtype=pl.String).alias("split"))
