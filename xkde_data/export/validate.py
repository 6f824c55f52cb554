"""Re-check a build's datasets against every invariant the export promises.

Checked, per dataset folder (``xeit/``, ``tlpo/``):

* the card's YAML lists ``configs`` whose ``data_files`` exist, and every ``data/`` folder is a config;
* every parquet file has exactly the dataset's schema (:func:`arrow_schema`);
* rows: ``config`` is the folder's config and ``source_lang-target_lang``; ``kind`` is known;
  XE-IT ``messages`` are [user, assistant]; TL-PO ``prompt`` is [user], ``chosen``/``rejected``
  are [assistant], source != target and chosen != rejected after :func:`normalize_answer`;
* splits are disjoint by case id, across both datasets;
* ``all`` holds exactly the rows of the pair configs, split by split;
* row counts equal ``report/stats.json``: ``stats["instances"]["xeit"]`` and
  ``stats["pairs"]["tlpo"]``, each ``{config: {split: rows}}`` (what :func:`export_dataset`
  returns; the build writes it there).
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq

from ..errors import XkdeError
from .dataset import arrow_schema
from .queries import KINDS
from .tlpo import normalize_answer

STATS_SECTIONS = {"xeit": "instances", "tlpo": "pairs"}
MESSAGE_ROLES = {"xeit": {"messages": "user,assistant"},
                 "tlpo": {"prompt": "user", "chosen": "assistant", "rejected": "assistant"}}


def validate_build(build_dir: Path) -> list[str]:
    """All violations found in a build folder, most basic first; an empty list means valid."""
    build_dir = Path(build_dir)
    if not build_dir.is_dir():
        raise XkdeError("no such build directory", file=str(build_dir))
    problems: list[str] = []
    stats_path = build_dir / "report" / "stats.json"
    stats = None
    try:
        stats = json.loads(stats_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        problems.append(f"{stats_path}: missing")
    except (OSError, ValueError) as err:
        problems.append(f"{stats_path}: unreadable ({err})")
    case_splits: dict[str, tuple[str, str]] = {}
    for kind, section in STATS_SECTIONS.items():
        counts = _check_dataset(build_dir / kind, kind, case_splits, problems)
        if stats is not None and counts is not None:
            expected = (stats.get(section) or {}).get(kind)
            if expected is None:
                problems.append(f"{stats_path}: no {section}.{kind} row counts")
            elif expected != counts:
                problems.append(f"{kind}: row counts {_first_difference(counts, expected)} "
                                f"differ from {stats_path.name} {section}.{kind}")
    return problems


def _first_difference(actual: dict, expected: dict) -> str:
    for config in sorted(set(actual) | set(expected)):
        a, e = actual.get(config, {}), expected.get(config, {})
        for split in sorted(set(a) | set(e)):
            if a.get(split) != e.get(split):
                return f"({config}/{split}: {a.get(split, 0)} on disk, {e.get(split, 0)} recorded)"
    return ""


def _check_dataset(folder: Path, kind: str, case_splits: dict, problems: list[str]) -> dict | None:
    from huggingface_hub import DatasetCard

    card_path = folder / "README.md"
    if not card_path.is_file():
        problems.append(f"{card_path}: missing")
        return None
    try:
        configs = DatasetCard(card_path.read_text(encoding="utf-8")).data.to_dict().get("configs")
    except Exception as err:  # bad YAML surfaces as several exception types
        problems.append(f"{card_path}: unreadable card ({str(err).splitlines()[0]})")
        return None
    if not configs:
        problems.append(f"{card_path}: no 'configs' in the card metadata")
        return None
    names = [entry.get("config_name") for entry in configs]
    on_disk = sorted(p.name for p in (folder / "data").iterdir() if p.is_dir()) if (folder / "data").is_dir() else []
    for stray in sorted(set(on_disk) - set(names)):
        problems.append(f"{folder / 'data' / stray}: folder is not a config of the card")
    if "all" not in names:
        problems.append(f"{card_path}: no 'all' config")
    counts: dict[str, dict[str, int]] = {}
    frames: dict[str, dict[str, pl.DataFrame]] = {}
    expected_schema = arrow_schema(kind)
    for entry in configs:
        name = entry.get("config_name")
        for data_file in entry.get("data_files") or []:
            split, pattern = data_file.get("split"), data_file.get("path")
            files = sorted(folder.glob(pattern)) if pattern else []
            if not files:
                problems.append(f"{card_path}: config {name!r} split {split!r}: no files match {pattern!r}")
                continue
            parts = []
            for file in files:
                try:
                    schema = pq.read_schema(file)
                except Exception as err:  # pyarrow raises several types for damaged files
                    problems.append(f"{file}: unreadable parquet ({str(err).splitlines()[0]})")
                    continue
                if not schema.remove_metadata().equals(expected_schema):
                    problems.append(f"{file}: schema {_schema_text(schema)} is not the {kind} schema "
                                    f"{_schema_text(expected_schema)}")
                    continue
                part = pl.read_parquet(file)
                _check_rows(part, file, kind, name, split, case_splits, problems)
                parts.append(part)
            if parts:
                frames.setdefault(name, {})[split] = pl.concat(parts)
                counts.setdefault(name, {})[split] = sum(p.height for p in parts)
    for split, rows in frames.get("all", {}).items():
        pair_rows = sum(frames[n][split].height for n in frames if n != "all" and split in frames[n])
        if rows.height != pair_rows:
            problems.append(f"{folder.name}: config 'all' split {split!r} has {rows.height} rows, "
                            f"the pair configs {pair_rows}")
    return counts


def _schema_text(schema) -> str:
    return "{" + ", ".join(f"{f.name}: {f.type}" for f in schema) + "}"


def _check_rows(frame: pl.DataFrame, file: Path, kind: str, config: str, split: str,
                case_splits: dict, problems: list[str]) -> None:
    def first_bad(mask: pl.Series, what: str) -> bool:
        bad = mask.arg_true()
        if len(bad):
            problems.append(f"{file}: row {bad[0]}: {what}")
            return True
        return False

    pair = frame["source_lang"] + "-" + frame["target_lang"]
    first_bad(frame["config"] != pair, "config is not source_lang-target_lang")
    if config != "all":
        first_bad(frame["config"] != config, f"config is not {config!r}")
    first_bad(~frame["kind"].is_in(KINDS), f"kind is not one of {KINDS}")
    for column, roles in MESSAGE_ROLES[kind].items():
        got = frame[column].list.eval(pl.element().struct.field("role")).list.join(",")
        first_bad(got != roles, f"{column} roles are not [{roles}]")
        empty = frame[column].list.eval(pl.element().struct.field("content").str.strip_chars() == "").list.any()
        first_bad(empty.fill_null(True), f"{column} has an empty message")
    if kind == "tlpo":
        first_bad(frame["source_lang"] == frame["target_lang"], "a TL-PO pair needs source_lang != target_lang")
        chosen = frame["chosen"].list.first().struct.field("content").to_list()
        rejected = frame["rejected"].list.first().struct.field("content").to_list()
        same = pl.Series([normalize_answer(c) == normalize_answer(r) for c, r in zip(chosen, rejected)],
                         dtype=pl.Boolean)
        first_bad(same, "chosen equals rejected after normalisation")
    for case_id in frame["case_id"].unique(maintain_order=True).to_list():
        seen = case_splits.setdefault(case_id, (split, str(file)))
        if seen[0] != split:
            problems.append(f"{file}: case {case_id!r} is in split {split!r} here and in {seen[0]!r} in {seen[1]}")
            break
