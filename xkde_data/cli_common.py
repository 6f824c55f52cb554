"""What every xkde command line shares: one-line errors with exit code 2."""

from __future__ import annotations

import sys

import typer

from .errors import XkdeError


def run_app(app: typer.Typer, *, resume_hint: str = "rerun the same command to resume") -> None:
    """Run a typer app; a user mistake prints one line and exits 2, never a traceback.

    Usage errors (unknown options, bad values) are typer's own and also exit 2.
    ``resume_hint`` is what Ctrl-C tells the user to do next.
    """
    try:
        app()
    except XkdeError as err:
        typer.echo(f"error: {err}", err=True)
        sys.exit(err.exit_code)
    except KeyboardInterrupt:
        typer.echo(f"interrupted; {resume_hint}", err=True)
        sys.exit(130)
