"""The one-command build on the demo corpus: layout, accounting, reruns, atomicity, bad input."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import polars as pl
import pytest


def _digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*.parquet"))}


@pytest.fixture(scope="module")
def demo_build(tmp_path_factory):
    from conftest import run_cli

    out = tmp_path_factory.mktemp("build") / "xkde-build"
    proc = run_cli("xkde_data", "build", "--langs", "en,zh,de", "--out", str(out), "--no-progress")
    assert proc.returncode == 0, proc.stderr
    return out, proc


def test_quickstart_build_layout_and_summary(demo_build):
    out, proc = demo_build
    for rel in ["build.json", "cases/kept.parquet", "cases/rejected.parquet", "xeit/README.md", "tlpo/README.md",
                "report/report.md", "report/report.html", "report/stats.json"]:
        assert (out / rel).is_file(), rel
    assert "kept / rejected per language" in proc.stderr
    assert "en-zh" in proc.stderr and "Traceback" not in proc.stderr
    configs = sorted(p.name for p in (out / "xeit" / "data").iterdir())
    assert configs == sorted(["all"] + [f"{s}-{t}" for s in ("en", "zh", "de") for t in ("en", "zh", "de")])


def test_accounting_adds_up(demo_build):
    out, _ = demo_build
    stats = json.loads((out / "report" / "stats.json").read_text())
    kept = pl.read_parquet(out / "cases" / "kept.parquet")
    rejected = pl.read_parquet(out / "cases" / "rejected.parquet")
    assert stats["source_lang"] == "en"
    for lang in ("zh", "de"):
        row = stats["languages"][lang]
        assert row["input"] == 48
        assert row["input"] == row["kept"] + sum(row["rejected"].values())
        assert row["kept"] == kept.filter(pl.col("lang") == lang).height
        assert sum(row["rejected"].values()) == rejected.filter(pl.col("lang") == lang).height
    # Human translations of the demo corpus should pass the filters almost entirely.
    assert stats["languages"]["zh"]["kept"] >= 44 and stats["languages"]["de"]["kept"] >= 44


def test_rerun_is_byte_identical(demo_build, tmp_path):
    from conftest import run_cli

    out, _ = demo_build
    before = _digest(out)
    proc = run_cli("xkde_data", "build", "--langs", "en,zh,de", "--out", str(out), "--no-progress")
    assert proc.returncode == 0, proc.stderr
    assert _digest(out) == before
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]


def test_validate_passes_on_a_fresh_build(demo_build):
    from conftest import run_cli

    out, _ = demo_build
    proc = run_cli("xkde_data", "validate", str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("args, message", [
    (["--langs", "en,zh,zh"], "listed twice"),
    (["--langs", "en,xx"], "unknown language code 'xx'"),
    (["--langs", "en,zh", "--source-lang", "ko"], "source language 'ko' is not in the corpus"),
    (["--langs", "en"], "at least two languages"),
])
def test_bad_build_arguments(args, message, tmp_path):
    from conftest import run_cli

    out = tmp_path / "b"
    proc = run_cli("xkde_data", "build", *args, "--out", str(out), "--no-progress")
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr and "Traceback" not in proc.stderr
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_refuses_a_foreign_output_folder(tmp_path):
    from conftest import run_cli

    out = tmp_path / "precious"
    out.mkdir()
    (out / "thesis.tex").write_text("do not delete")
    proc = run_cli("xkde_data", "build", "--langs", "en,zh", "--out", str(out), "--no-progress")
    assert proc.returncode == 2 and "--overwrite" in proc.stderr
    assert (out / "thesis.tex").read_text() == "do not delete"


def test_build_through_an_openai_server_with_round_trip_and_rerun(tmp_path):
    """The openai translator end to end: translate, back-translate, filter, export; a rerun sends nothing."""
    from conftest import DEMO, run_cli
    from xkde_data.testing.openai_server import FakeOpenAIServer, gold_from_corpora

    key = "sk-canary-build-0123456789abcdefghij"
    env = {"XKDE_CACHE_DIR": str(tmp_path / "cache"), "OPENAI_API_KEY": key}
    out = tmp_path / "b"
    with FakeOpenAIServer(gold_from_corpora(DEMO), api_key=key) as server:
        server.inject("invalid_json", times=None, match="Velmora")  # demo-0001 never gets a valid reply
        args = ["build", "--langs", "en,zh,de", "--translator", "openai", "--model", "fake-mt",
                "--base-url", server.base_url, "--out", str(out), "--no-progress", "--limit", "12"]
        dry = run_cli("xkde_data", *args, "--dry-run", env=env)
        assert dry.returncode == 0, dry.stderr
        assert server.counts["chat"] == 0 and not out.exists()
        proc = run_cli("xkde_data", *args, env=env)
        assert proc.returncode == 0, proc.stderr
        first, faulted = server.counts["chat"], server.counts["fault.invalid_json"]
        # 12 cases x 2 languages forward, the 11 good ones back again (round trip), plus retries for demo-0001.
        assert first == 12 * 2 + 11 * 2 + faulted - 2
        assert faulted >= 4  # each of demo-0001's two requests was retried before it was rejected
        stats = json.loads((out / "report" / "stats.json").read_text())
        for lang in ("zh", "de"):
            row = stats["languages"][lang]
            assert row["input"] == 12 == row["kept"] + sum(row["rejected"].values())
            assert row["rejected"].get("invalid_json") == 1
        assert stats["signature"]["translator"]["model"] == "fake-mt"
        proc = run_cli("xkde_data", *args, env=env)
        assert proc.returncode == 0, proc.stderr
        # Only the never-valid case is asked again; completed work is not paid twice.
        assert server.counts["chat"] - first == faulted
        assert server.counts["fault.invalid_json"] == 2 * faulted
    for path in [*out.rglob("*"), *(tmp_path / "cache").rglob("*")]:
        if path.is_file():
            assert key.encode() not in path.read_bytes(), path
    assert key not in proc.stdout + proc.stderr
