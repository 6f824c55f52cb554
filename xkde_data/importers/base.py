"""Shared pieces of the importers: the interface and safe JSON reading."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ..errors import XkdeError
from ..schema import EditCase


@dataclass
class ImportReject:
    """A source record that cannot become a case, kept for the accounting."""

    id: str
    corpus: str
    langs: list[str]
    reason: str
    detail: str
    position: int  # index of the record in the source, so --limit can count records in order


@dataclass
class ImportResult:
    cases: list[EditCase] = field(default_factory=list)
    rejects: list[ImportReject] = field(default_factory=list)


@dataclass(frozen=True)
class Importer:
    name: str
    description: str
    sniff: Callable[[str], bool]
    load: Callable[..., "list[EditCase] | ImportResult"]  # a plain list means nothing was rejected


def read_json_file(path: str) -> Any:
    """Parse a JSON file; bad bytes or syntax give a one-line error with the line."""
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise XkdeError("no such file", file=path) from None
    except IsADirectoryError:
        raise XkdeError("is a directory, expected a file", file=path) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise XkdeError(f"not valid UTF-8 (byte {err.start})", file=path, line=line) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise XkdeError(f"malformed JSON: {err.msg} (column {err.colno})", file=path, line=err.lineno) from None


def first_json_record(path: str) -> Any:
    """The first element of a JSON list file (cheap sniffing on files < 64 MiB)."""
    p = Path(path)
    if not p.is_file() or p.suffix.lower() != ".json" or p.stat().st_size > 64 << 20:
        return None
    try:
        data = json.loads(p.read_bytes().decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    if isinstance(data, list) and data:
        return data[0]
    return None


def expect_list(data: Any, path: str) -> list:
    if not isinstance(data, list):
        raise XkdeError(f"expected a JSON list of records, got {type(data).__name__}", file=path)
    if not data:
        raise XkdeError("the file holds no records", file=path)
    return data


def corpus_name(path: str, corpus: str | None) -> str:
    return corpus or Path(path).stem


def str_field(record: dict, key: str, where: str, *, required: bool = True) -> str | None:
    """A string field of a foreign record; errors name ``where.key``."""
    value = record.get(key)
    if value is None:
        if required:
            raise XkdeError("missing required field", field=f"{where}{key}")
        return None
    if not isinstance(value, str):
        raise XkdeError(f"expected a string, got {type(value).__name__}", field=f"{where}{key}")
    if required and not value.strip():
        raise XkdeError("empty value", field=f"{where}{key}")
    return value


def str_or_list(record: dict, key: str, where: str) -> list[str]:
    """Fields such as ``rephrase`` are a string in some corpora, a list in others."""
    value = record.get(key)
    if value is None:
        return []
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list):
        raise XkdeError(f"expected a string or a list, got {type(value).__name__}", field=f"{where}{key}")
    for i, item in enumerate(items):
        if not isinstance(item, str) or not item.strip():
            raise XkdeError("expected a non-empty string", field=f"{where}{key}[{i}]")
    return list(items)
