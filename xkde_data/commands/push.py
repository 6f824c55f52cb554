"""``xkde-data push``: upload a build's XE-IT and TL-PO datasets to the Hugging Face Hub."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer


def push(
    build_dir: Annotated[Path, typer.Argument(help="A folder written by `xkde-data build` (holds xeit/ and tlpo/).")],
    repo_id: Annotated[str, typer.Option("--repo-id", help="ORG/NAME; the datasets go to ORG/NAME-xeit and ORG/NAME-tlpo.")],
    private: Annotated[bool, typer.Option("--private", help="Create the repos private (repos that exist keep their visibility).")] = False,
    revision: Annotated[Optional[str], typer.Option("--revision", help="Branch to push to (created from main if missing).")] = None,
    create_pr: Annotated[bool, typer.Option("--create-pr", help="Open a pull request instead of committing directly.")] = False,
) -> None:
    """Upload BUILD_DIR/xeit and BUILD_DIR/tlpo as two Hub dataset repos.

    The token comes from HF_TOKEN or the stored `hf auth login`; HF_ENDPOINT picks the Hub.
    Unchanged files are not re-uploaded: pushing the same build twice makes no new commit.
    Metadata added to the remote cards by hand is kept.
    """
    from rich.console import Console
    from rich.table import Table

    from ..export.push import push_build

    results = push_build(build_dir, repo_id, private=private, revision=revision, create_pr=create_pr)
    table = Table(title=f"push {build_dir}")
    for col in ("dataset", "repo", "result", "commit / pull request"):
        table.add_column(col)
    for kind, info in results.items():
        outcome = "pull request" if info["pr_url"] else ("committed" if info["committed"] else "unchanged")
        table.add_row(kind, info["repo_id"], outcome, info["pr_url"] or info["commit"][:12])
    Console().print(table)
