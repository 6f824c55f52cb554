"""``xkde-data validate``: re-check every invariant of a build folder."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer


def validate(
    build_dir: Annotated[Path, typer.Argument(help="A folder written by `xkde-data build`.")],
    show_all: Annotated[bool, typer.Option("--all", help="List every violation, not only the first.")] = False,
) -> None:
    """Check a build: dataset schemas, splits disjoint by case id, TL-PO chosen != rejected,
    `all` = sum of the pair configs, and row counts equal to report/stats.json.

    Exits 0 when valid, 1 naming the first violation otherwise (2 for a missing folder).
    """
    from ..export.validate import validate_build

    problems = validate_build(build_dir)
    if not problems:
        typer.echo(f"ok: {build_dir} is a valid build")
        return
    for problem in problems if show_all else problems[:1]:
        typer.echo(f"invalid: {problem}", err=True)
    if not show_all and len(problems) > 1:
        typer.echo(f"({len(problems) - 1} more; --all lists them)", err=True)
    sys.exit(1)
