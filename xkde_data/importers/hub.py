"""A Hugging Face Hub dataset (``hub:ORG/NAME[:CONFIG[:SPLIT]]``) via ``datasets.load_dataset``.

Rows may be canonical cases (a ``langs`` column), canonical long-table rows,
or Bi-ZsRE-style ``{lang: {...}}`` records.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import XkdeError
from ..schema import CASE_SCHEMA, EditCase, case_from_dict, check_frame_schema, frame_to_cases
from .base import Importer

PREFIX = "hub:"


def sniff(source: str) -> bool:
    if source.startswith(PREFIX):
        return True
    # "org/name" that is not a local path reads as a Hub id.
    parts = source.split("/")
    return len(parts) == 2 and all(parts) and not Path(source).exists() and "{" not in source


def parse(source: str) -> tuple[str, str | None, str]:
    spec = source[len(PREFIX):] if source.startswith(PREFIX) else source
    repo, _, rest = spec.partition(":")
    config, _, split = rest.partition(":")
    return repo, config or None, split or "train"


def load(source: str, *, corpus: str | None = None, lang: str = "en") -> list[EditCase]:
    import datasets  # heavy import: only when a Hub corpus is asked for

    repo, config, split = parse(source)
    try:
        ds = datasets.load_dataset(repo, name=config, split=split)
    except Exception as err:  # datasets raises many types (not found, offline, bad config)
        raise XkdeError(f"cannot load dataset: {str(err).splitlines()[0]}", file=source) from None
    name = corpus or repo.rstrip("/").split("/")[-1]
    columns = set(ds.column_names)
    if "langs" in columns:
        cases = []
        for i, row in enumerate(ds):
            row = dict(row)
            row["langs"] = {k: _drop_none(v) for k, v in (row.get("langs") or {}).items() if v is not None}
            try:
                cases.append(case_from_dict(row))
            except XkdeError as err:
                raise err.at(file=source, record=i) from None
        return cases
    if set(CASE_SCHEMA) <= columns:
        return frame_to_cases(check_frame_schema(ds.to_polars(), file=source))
    from .parallel_zsre import to_block  # {lang: {...}} records

    cases = []
    for i, row in enumerate(ds):
        blocks = {}
        for code, block in row.items():
            if block is None:
                continue
            try:
                blocks[code] = to_block(block, f"{code}.")
            except XkdeError as err:
                raise err.at(file=source, record=i) from None
        cases.append(EditCase(f"{name}-{i:05d}", name, blocks))
    if not cases:
        raise XkdeError("the dataset holds no rows", file=source)
    return cases


def _drop_none(block: dict) -> dict:
    return {k: v for k, v in block.items() if v is not None}


IMPORTER = Importer("hub", "a Hugging Face Hub dataset id (hub:ORG/NAME[:CONFIG[:SPLIT]])", sniff, load)
