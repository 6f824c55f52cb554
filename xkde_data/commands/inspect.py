"""``xkde-data inspect``: what a corpus holds."""

from __future__ import annotations

import json
from typing import Annotated, Optional

import typer

from ..corpora import resolve
from ..importers import import_corpus


def corpus_summary(source: str, format: str | None = None) -> dict:
    """Case and field counts per language: ``{"cases": N, "languages": {lang: {...}}}``."""
    path, fmt, _ = resolve(source)
    result = import_corpus(path, format or fmt)
    langs: dict[str, dict[str, int]] = {}
    for case in result.cases:
        for lang, block in case.langs.items():
            c = langs.setdefault(lang, {"cases": 0, "rephrase": 0, "locality": 0, "portability": 0, "subject": 0})
            c["cases"] += 1
            c["rephrase"] += len(block.rephrase)
            c["locality"] += len(block.locality)
            c["portability"] += len(block.portability)
            c["subject"] += block.subject is not None
    for rej in result.rejects:
        for lang in rej.langs:
            c = langs.setdefault(lang, {"cases": 0, "rephrase": 0, "locality": 0, "portability": 0, "subject": 0})
            c["cases"] += 1
    rejected: dict[str, int] = {}
    for rej in result.rejects:
        rejected[rej.reason] = rejected.get(rej.reason, 0) + 1
    return {"cases": len(result.cases) + len(result.rejects), "valid": len(result.cases),
            "rejected": rejected, "languages": langs}


def inspect(
    corpus: Annotated[str, typer.Argument(help="A corpus path (file, folder, 'dir/NAME_{lang}.txt'), "
                                                "a known corpus name (demo, bizsre, ...) or hub:ORG/NAME.")],
    format: Annotated[Optional[str], typer.Option("--format", "-f", help="Override format detection.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of a table.")] = False,
) -> None:
    """Count the cases of a corpus, its languages and their field coverage."""
    summary = corpus_summary(corpus, format)
    if as_json:
        typer.echo(json.dumps(summary, ensure_ascii=False))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{corpus}: {summary['cases']} cases")
    for col in ("language", "cases", "subject", "rephrase", "locality", "portability"):
        table.add_column(col, justify="right" if col != "language" else "left")
    for lang, c in summary["languages"].items():
        table.add_row(lang, *(str(c[k]) for k in ("cases", "subject", "rephrase", "locality", "portability")))
    console = Console()
    console.print(table)
    for reason, n in summary["rejected"].items():
        console.print(f"rejected at import: {n} ({reason})")
