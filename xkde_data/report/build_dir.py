"""Read a build directory for the report, validating every file (bad input -> one-line XkdeError)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from ..curate.accounting import KNOWN_REASONS, STATS_FORMAT
from ..errors import XkdeError
from ..schema import CASE_SCHEMA
from ..stats import REJECT_SCHEMA

KEPT = "cases/kept.parquet"
REJECTED = "cases/rejected.parquet"
STATS = "report/stats.json"
MEASUREMENTS = "report/measurements.parquet"


@dataclass
class BuildData:
    root: Path
    stats: dict
    kept: pl.DataFrame
    rejected: pl.DataFrame
    measurements: pl.DataFrame | None


def _read_parquet(path: Path, required: dict[str, pl.DataType], what: str) -> pl.DataFrame:
    if not path.is_file():
        raise XkdeError(f"missing {what}; is this a build directory?", file=str(path))
    try:
        frame = pl.read_parquet(path)
    except Exception as err:  # polars/arrow raise many types for truncated or corrupt files
        raise XkdeError(f"unreadable parquet ({str(err).splitlines()[0][:120]}); rebuild to recreate it",
                        file=str(path)) from None
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise XkdeError(f"not a {what}: missing column(s) {missing} (a build from an older format? rebuild it)",
                        file=str(path), field=missing[0])
    try:
        return frame.with_columns([pl.col(c).cast(t) for c, t in required.items()])
    except Exception as err:
        raise XkdeError(f"not a {what}: {str(err).splitlines()[0][:120]}", file=str(path)) from None


def _read_stats(path: Path) -> dict:
    if not path.is_file():
        raise XkdeError("missing report/stats.json; is this a build directory?", file=str(path))
    try:
        stats = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as err:
        raise XkdeError(f"not valid UTF-8 (byte {err.start})", file=str(path)) from None
    except json.JSONDecodeError as err:
        raise XkdeError(f"malformed JSON: {err.msg} (column {err.colno})", file=str(path), line=err.lineno) from None
    if not isinstance(stats, dict):
        raise XkdeError("expected a JSON object", file=str(path))
    fmt = stats.get("format")
    if fmt is None or not isinstance(stats.get("languages"), dict) or "source_lang" not in stats:
        raise XkdeError("a build directory from an older format (no 'format'/'languages'/'source_lang'); "
                        "rebuild it with this version", file=str(path))
    if fmt != STATS_FORMAT:
        raise XkdeError(f"stats format {fmt!r} is not supported (this version reads {STATS_FORMAT}); rebuild it",
                        file=str(path), field="format")
    documented = stats.get("reasons", {})
    if not isinstance(documented, dict):
        raise XkdeError("expected an object of reason codes", file=str(path), field="reasons")
    known = set(KNOWN_REASONS) | set(documented)
    for lang, entry in stats["languages"].items():
        where = f"languages.{lang}"
        if not isinstance(entry, dict):
            raise XkdeError("expected an object", file=str(path), field=where)
        for key in ("input", "kept"):
            if not isinstance(entry.get(key), int):
                raise XkdeError("expected an integer count", file=str(path), field=f"{where}.{key}")
        rejected = entry.get("rejected", {})
        if not isinstance(rejected, dict):
            raise XkdeError("expected an object of reason counts", file=str(path), field=f"{where}.rejected")
        for reason, n in rejected.items():
            if reason not in known:
                raise XkdeError(f"unknown reason code {reason!r} (known: {', '.join(sorted(known))})",
                                file=str(path), field=f"{where}.rejected.{reason}")
            if not isinstance(n, int):
                raise XkdeError("expected an integer count", file=str(path), field=f"{where}.rejected.{reason}")
    return stats


def load_build(build_dir: Path) -> BuildData:
    root = Path(build_dir)
    if not root.is_dir():
        raise XkdeError("no such build directory", file=str(root))
    stats = _read_stats(root / STATS)
    kept = _read_parquet(root / KEPT, CASE_SCHEMA, "case table")
    rejected = _read_parquet(root / REJECTED, REJECT_SCHEMA, "rejects table")
    if "translation" not in rejected.columns:
        rejected = rejected.with_columns(pl.lit(None, dtype=pl.String).alias("translation"))
    known = list(set(KNOWN_REASONS) | set(stats.get("reasons", {})))
    unknown = rejected.filter(~pl.col("reason").is_in(known))
    if unknown.height:
        idx = rejected["reason"].is_in(known).not_().arg_true()[0]
        raise XkdeError(f"unknown reason code {unknown['reason'][0]!r}", file=str(root / REJECTED),
                        record=int(idx), field="reason")
    measurements = None
    if (root / MEASUREMENTS).exists():
        measurements = _read_parquet(root / MEASUREMENTS, {"id": pl.String, "lang": pl.String}, "measurements table")
    return BuildData(root, stats, kept, rejected, measurements)


def write_build(build_dir: Path, *, kept: pl.DataFrame, rejected: pl.DataFrame, stats: dict,
                measurements: pl.DataFrame | None = None) -> None:
    """Write the files the report reads, each atomically (the build command calls this before the report)."""
    from ..atomic import atomic_write

    root = Path(build_dir)
    atomic_write(root / KEPT, lambda tmp: kept.write_parquet(tmp))
    atomic_write(root / REJECTED, lambda tmp: rejected.write_parquet(tmp))
    if measurements is not None:
        atomic_write(root / MEASUREMENTS, lambda tmp: measurements.write_parquet(tmp))
    text = json.dumps(stats, ensure_ascii=False, indent=2)
    atomic_write(root / STATS, lambda tmp: Path(tmp).write_text(text + "\n", encoding="utf-8"))
