"""``xkde-data``: import, translate, curate and export cross-lingual editing datasets."""

from __future__ import annotations

import typer

from .cli_common import run_app
from .commands import build as build_cmd
from .commands import inspect as inspect_cmd
from .commands import push as push_cmd
from .commands import translate as translate_cmd
from .commands import validate as validate_cmd

app = typer.Typer(
    name="xkde-data",
    help=(
        "Build curated cross-lingual knowledge-editing datasets (X-KDE): import edit corpora, "
        "translate them, filter with reason codes, build XE-IT instances and TL-PO pairs, "
        "export Hub-ready datasets and quality reports.\n\n"
        "Start with: xkde-data build --langs en,zh,de  (offline, on the embedded demo corpus)."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)



@app.callback()
def _root() -> None:
    """Keeps sub-commands as sub-commands even while only one is registered."""


app.command("build")(build_cmd.build)
app.command("inspect")(inspect_cmd.inspect)
app.command("push")(push_cmd.push)
app.command("translate")(translate_cmd.translate)
app.command("validate")(validate_cmd.validate)


def main() -> None:
    run_app(app)


if __name__ == "__main__":
    main()
