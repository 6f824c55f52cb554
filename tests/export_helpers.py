"""Small real inputs for the export tests: kept tables cut from the shared Bi-ZsRE / MzsRE files."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from conftest import shared
from xkde_data.export import CardInfo, assign_splits, build_tlpo, build_xeit, export_dataset
from xkde_data.importers import load_cases
from xkde_data.schema import cases_to_frame
from xkde_data.template import EditTemplate

TEMPLATE = EditTemplate.load()
CARD = CardInfo(pretty_name="X-KDE test", corpora=["bizsre", "mzsre"],
                signature={"tool": "xkde 0.1.0", "translator": {"backend": "corpus", "model": None},
                           "xeit_template": {"name": TEMPLATE.name, "hash": TEMPLATE.hash}, "date": "2026-01-02"},
                filter_summary={"zh": {"input": 30, "kept": 30, "rejected": 0}})


def bizsre_kept(n: int = 30) -> pl.DataFrame:
    return cases_to_frame(load_cases(shared("bizsre/bizsre_test.json"))[:n])


def mixed_kept(n: int = 20) -> pl.DataFrame:
    """Bi-ZsRE cases (en, zh) followed by MzsRE en-de cases (en, de)."""
    return pl.concat([bizsre_kept(n), cases_to_frame(load_cases(shared("mzsre/mzsre_test_ende.json"))[:n])])


def write_build(kept: pl.DataFrame, langs: list[str], out: Path, *, validation_fraction: float = 0.2,
                seed: int = 0) -> dict:
    """What the build writes for the export part: xeit/, tlpo/ and report/stats.json's counts."""
    splits = assign_splits(kept["id"].unique(maintain_order=True).to_list(),
                           validation_fraction=validation_fraction, seed=seed)
    xeit, _ = build_xeit(kept, langs, template=TEMPLATE, seed=seed, splits=splits)
    tlpo, _ = build_tlpo(kept, langs, template=TEMPLATE, seed=seed, splits=splits)
    counts = {"instances": {"xeit": export_dataset(xeit, out / "xeit", kind="xeit", card=CARD)},
              "pairs": {"tlpo": export_dataset(tlpo, out / "tlpo", kind="tlpo", card=CARD)}}
    (out / "report").mkdir(parents=True, exist_ok=True)
    (out / "report" / "stats.json").write_text(json.dumps(counts, indent=2), encoding="utf-8")
    return counts
