"""``xkde-train``: XE-IT then TL-PO on TRL, and the cross-lingual editing benchmark."""

from __future__ import annotations

import typer

from xkde_data.cli_common import run_app

from .commands import eval as eval_cmd
from .commands import train as train_cmd

app = typer.Typer(
    name="xkde-train",
    help=(
        "Train a model to apply edits across languages (X-KDE): `run` does XE-IT (SFT) then "
        "TL-PO (ORPO); `eval` runs the Bi-ZsRE / MzsRE cross-lingual editing benchmark."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """Keeps sub-commands as sub-commands."""


app.command("eval")(eval_cmd.eval_command)
app.command("run")(train_cmd.run)
app.command("xeit")(train_cmd.xeit)
app.command("tlpo")(train_cmd.tlpo)
app.command("tiny-model")(train_cmd.tiny_model)


def main() -> None:
    run_app(app, resume_hint="rerun the same command with --resume to continue from the last checkpoint")


if __name__ == "__main__":
    main()
