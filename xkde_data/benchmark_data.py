"""Where the evaluation benchmark files (Bi-ZsRE, MzsRE test) live on this machine.

Both the evaluator (which scores on them) and curation (which keeps them out of
training data) look them up here, in this order: ``$XKDE_BENCHMARK_DIR``,
``$XKDE_SHARED_DATA``, ``../shared/data`` beside the checkout, ``./data``.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
MARKERS = ("bizsre", "mzsre")


def benchmark_data_dirs() -> list[Path]:
    dirs = [Path(os.environ[var]) for var in ("XKDE_BENCHMARK_DIR", "XKDE_SHARED_DATA") if os.environ.get(var)]
    dirs.append(REPO_ROOT.parent / "shared" / "data")
    dirs.append(Path.cwd() / "data")
    return dirs


def find_benchmark_dir() -> Path | None:
    """The first folder that holds a ``bizsre/`` or ``mzsre/`` sub-folder, if any."""
    for folder in benchmark_data_dirs():
        if any((folder / marker).is_dir() for marker in MARKERS):
            return folder
    return None
