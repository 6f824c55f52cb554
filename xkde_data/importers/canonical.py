"""Canonical cases: JSONL (one case per line) or parquet (the long table)."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from ..errors import XkdeError
from ..schema import case_from_dict, check_frame_schema, frame_to_cases, iter_jsonl
from .base import Importer


def sniff(path: str) -> bool:
    p = Path(path)
    if not p.is_file():
        return False
    if p.suffix.lower() == ".parquet":
        return True
    if p.suffix.lower() == ".jsonl":
        with open(p, "rb") as fh:
            head = fh.readline(1 << 20)
        return b'"langs"' in head
    return False


def load(path: str, *, corpus: str | None = None, lang: str = "en"):
    p = Path(path)
    if not p.is_file():
        raise XkdeError("no such file", file=path)
    if p.suffix.lower() == ".parquet":
        try:
            frame = pl.read_parquet(p)
        except Exception as err:  # polars/arrow raise many types for corrupt files
            raise XkdeError(f"unreadable parquet: {str(err).splitlines()[0]}", file=path) from None
        frame = check_frame_schema(frame, file=path)
        return _validate_frame(frame, path)
    cases = []
    for lineno, obj in iter_jsonl(p):
        try:
            cases.append(case_from_dict(obj))
        except XkdeError as err:
            raise err.at(file=path, line=lineno) from None
    if not cases:
        raise XkdeError("the file holds no cases", file=path)
    return cases


def _validate_frame(frame: pl.DataFrame, path: str):
    # Parquet written by other tools gets the same checks as JSONL.
    cases = frame_to_cases(frame)
    for i, case in enumerate(cases):
        try:
            case_from_dict(case.to_dict())
        except XkdeError as err:
            raise err.at(file=path, record=i) from None
    if not cases:
        raise XkdeError("the file holds no cases", file=path)
    return cases


IMPORTER = Importer("canonical", "xkde canonical cases (.jsonl, .parquet)", sniff, load)
