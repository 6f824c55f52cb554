"""Shared fixtures: the read-only benchmark data beside the checkout, the demo corpus, a CLI runner."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("XKDE_SHARED_DATA", ROOT.parent / "shared" / "data"))
DEMO = ROOT / "corpora" / "demo" / "demo.jsonl"


def shared(relative: str) -> Path:
    path = SHARED / relative
    if not path.exists():
        pytest.skip(f"shared benchmark data not found: {path}")
    return path


@pytest.fixture
def shared_data() -> Path:
    if not SHARED.exists():
        pytest.skip(f"shared benchmark data not found: {SHARED}")
    return SHARED


def run_cli(module: str, *args: str, cwd: Path | None = None, env: dict | None = None,
            timeout: float = 600) -> subprocess.CompletedProcess:
    """Run ``python -m MODULE ARGS`` as a user would; returns the completed process."""
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1", "COLUMNS": "200", **(env or {})}
    return subprocess.run([sys.executable, "-m", module, *args], cwd=cwd or ROOT, env=full_env,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def xkde_data_cli():
    return lambda *args, **kw: run_cli("xkde_data", *args, **kw)


@pytest.fixture
def xkde_train_cli():
    return lambda *args, **kw: run_cli("xkde_train", *args, **kw)
