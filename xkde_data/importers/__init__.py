"""Corpus importers: each maps one on-disk format into canonical edit cases.

Formats are a registry (name -> importer) so that detection, ``--format`` and
error messages all read the same table. Every importer validates as it reads
and raises :class:`~xkde_data.errors.XkdeError` naming file, record and field.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import XkdeError
from ..schema import EditCase, check_unique_ids
from . import canonical, counterfact, easyedit, hub, parallel_tsv, parallel_zsre
from .base import Importer, ImportReject, ImportResult, read_json_file

IMPORTERS: dict[str, Importer] = {
    imp.name: imp
    for imp in (
        canonical.IMPORTER,
        parallel_zsre.IMPORTER,
        easyedit.IMPORTER,
        counterfact.IMPORTER,
        parallel_tsv.IMPORTER,
        hub.IMPORTER,
    )
}


def detect_format(source: str) -> str:
    """Guess the format of a path (or Hub id) from its name and first record."""
    for imp in IMPORTERS.values():
        if imp.sniff(source):
            return imp.name
    if not Path(source).exists() and not parallel_tsv.is_template(source):
        raise XkdeError("no such file or directory", file=source)
    raise XkdeError(
        f"cannot tell the format; pass --format ({', '.join(IMPORTERS)})", file=source
    )


def import_corpus(source: str | Path, format: str | None = None, *, corpus: str | None = None,
                  lang: str = "en", limit: int | None = None) -> ImportResult:
    """Read a corpus in any known format: validated cases (ids unique) plus records rejected at import."""
    source = str(source)
    name = format or detect_format(source)
    if name not in IMPORTERS:
        raise XkdeError(f"unknown format {name!r} (known: {', '.join(IMPORTERS)})")
    loaded = IMPORTERS[name].load(source, corpus=corpus, lang=lang)
    result = loaded if isinstance(loaded, ImportResult) else ImportResult(cases=loaded)
    check_unique_ids(result.cases, file=source)
    if limit is not None:
        # --limit takes the first N source records: every record is a case or a reject, in source order.
        result.rejects = [r for r in result.rejects if r.position < limit]
        result.cases = result.cases[: max(limit - len(result.rejects), 0)]
    return result


def load_cases(source: str | Path, format: str | None = None, **kwargs) -> list[EditCase]:
    """The valid cases of a corpus (see :func:`import_corpus` for the rejected ones)."""
    return import_corpus(source, format, **kwargs).cases


__all__ = ["IMPORTERS", "ImportReject", "ImportResult", "Importer", "import_corpus", "detect_format", "load_cases", "read_json_file"]
