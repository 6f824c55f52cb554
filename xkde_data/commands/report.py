"""``xkde-data report``: (re)write the quality report of a build directory."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def report(
    build_dir: Annotated[Path, typer.Argument(help="A build directory (holds cases/kept.parquet, "
                                                    "cases/rejected.parquet and report/stats.json).")],
    max_examples: Annotated[int, typer.Option("--max-examples", min=0,
                                              help="Rejected examples shown per reason, side by side with the source.")] = 5,
) -> None:
    """Write BUILD_DIR/report/report.md, report.html (self-contained, opens offline) and PNG charts.

    Every build writes its report; run this to regenerate it, e.g. with more examples.
    """
    from rich.console import Console
    from rich.table import Table

    from ..report import load_build, write_report

    html_path = write_report(build_dir, max_examples=max_examples)
    stats = load_build(build_dir).stats
    table = Table(title=f"{build_dir}: quality report")
    for col in ("language", "input", "kept", "rejected", "top reason"):
        table.add_column(col, justify="left" if col in ("language", "top reason") else "right")
    for lang, e in stats["languages"].items():
        rejected = e.get("rejected", {})
        top = max(rejected.items(), key=lambda kv: kv[1])[0] if rejected else "—"
        table.add_row(lang, str(e["input"]), str(e["kept"]), str(sum(rejected.values())), top)
    console = Console()
    console.print(table)
    console.print(f"report: {html_path} and {html_path.with_suffix('.md')}")
