"""The quality report from a real build directory, the CLI, and bad input (one line, exit 2)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import polars as pl
import pytest

from conftest import shared
from xkde_data.curate import CurationConfig, curate_stage
from xkde_data.curate.accounting import build_stats, check_accounting
from xkde_data.importers import load_cases
from xkde_data.report import write_build, write_report
from xkde_data.schema import cases_to_frame

SECRET = "sk-" + "test0123456789abcdefghijklmnop"  # built at run time: no key-shaped literal in the repo


def make_build(root: Path) -> dict:
    """A build of 40 MzsRE cases into zh and de, a third of them corrupted so that every chart has data."""
    frames = [cases_to_frame(load_cases(str(shared(f"mzsre/mzsre_test_en{lang}.json")), limit=40)) for lang in ("zh", "de")]
    source = frames[0].filter(pl.col("lang") == "en")
    ids = source["id"]
    zh = frames[0].filter(pl.col("lang") == "zh")
    de = frames[1].filter(pl.col("lang") == "de").with_columns(ids.alias("id"), pl.lit(source["corpus"][0]).alias("corpus"))
    zh = zh.with_columns(pl.when(pl.int_range(pl.len()) < 8).then(pl.lit("Here is the translation: ") + pl.col("prompt"))
                         .otherwise(pl.col("prompt")).alias("prompt"))
    de = de.with_columns(pl.when(pl.int_range(pl.len()) < 6).then(pl.col("prompt").str.slice(0, 12))
                         .otherwise(pl.col("prompt")).alias("prompt"))
    translated = pl.concat([zh, de])
    back = source.with_columns(pl.lit("zh").alias("from_lang"))
    result = curate_stage(source, translated, source_lang="en", config=CurationConfig(decontaminate=False),
                          back_translations=back, progress=False)
    langs = ["zh", "de"]
    counts = {lang: translated.filter(pl.col("lang") == lang).height for lang in langs}
    kept = {lang: result.kept.filter(pl.col("lang") == lang).height for lang in langs}
    signature = {"tool_version": "0.1.0", "prompt_hash": "abc123", "model": "corpus",
                 "thresholds": CurationConfig(decontaminate=False).signature(), "api_key": SECRET}
    stats = build_stats("en", langs, counts, result.rejected, kept, signature,
                        {"translation": {"requests": 12, "cache_hits": 30, "retries": 1, "tokens": 4567}})
    check_accounting(stats)
    write_build(root, kept=pl.concat([source, result.kept]), rejected=result.rejected, stats=stats,
                measurements=result.measurements)
    return stats


@pytest.fixture
def build(tmp_path) -> Path:
    root = tmp_path / "build"
    make_build(root)
    return root


def test_report_files_and_content(build):
    html_path = write_report(build, max_examples=3)
    report = build / "report"
    md = (report / "report.md").read_text(encoding="utf-8")
    html = html_path.read_text(encoding="utf-8")
    for png in ("outcomes.png", "length_ratio.png", "roundtrip_chrf.png", "langid_margin.png"):
        assert (report / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"({png})" in md
    assert html.count("data:image/png;base64,") == 4
    assert not re.search(r"""(src|href)=["']?(https?:|//|[^"'>]*\.png)""", html)  # opens offline
    stats = json.loads((report / "stats.json").read_text())
    zh = stats["languages"]["zh"]
    assert f"| zh | {zh['input']} | {zh['kept']} |" in md
    assert "### chatter" in md and "### length_ratio" in md
    assert "Here is the translation" in md
    # Examples sit beside their source block.
    chatter = md.split("### chatter")[1].split("###")[0]
    assert chatter.count("\n| mzsre") == 3 and "prompt: " in chatter
    assert "cache_hits" in md and "4567" in md and "prompt_hash" in md and "thresholds.min_length_ratio" in md
    assert SECRET not in md and SECRET not in html


def test_cli_report(build, xkde_data_cli):
    proc = xkde_data_cli("report", str(build), "--max-examples", "1")
    assert proc.returncode == 0, proc.stderr
    assert "zh" in proc.stdout and "report.html" in proc.stdout
    assert (build / "report" / "report.html").exists()
    assert xkde_data_cli("report", "--help").stdout.count("BUILD_DIR") >= 1


def _assert_one_line_error(proc, *needles):
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    err = proc.stderr.strip()
    assert "Traceback" not in proc.stderr and len(err.splitlines()) == 1, err
    for needle in needles:
        assert needle in err, err


def test_bad_inputs(build, tmp_path, xkde_data_cli):
    before = (build / "report" / "stats.json").read_text()
    # Truncated rejects table.
    rejected = build / "cases" / "rejected.parquet"
    data = rejected.read_bytes()
    rejected.write_bytes(data[: len(data) // 2])
    _assert_one_line_error(xkde_data_cli("report", str(build)), "rejected.parquet", "unreadable parquet")
    assert not (build / "report" / "report.md").exists()  # nothing half-written
    rejected.write_bytes(data)
    # Unknown reason code in stats.
    stats = json.loads(before)
    stats["languages"]["zh"]["rejected"]["vibes"] = 1
    (build / "report" / "stats.json").write_text(json.dumps(stats))
    _assert_one_line_error(xkde_data_cli("report", str(build)), "unknown reason code 'vibes'",
                           "languages.zh.rejected.vibes")
    # A stage's own code, documented by the build, is rendered.
    stats = json.loads(before)
    stats["languages"]["zh"]["rejected"]["rate_limited"] = 1
    stats["languages"]["zh"]["input"] += 1
    stats["reasons"]["rate_limited"] = "translate: gave up after retries"
    (build / "report" / "stats.json").write_text(json.dumps(stats))
    assert xkde_data_cli("report", str(build)).returncode == 0
    assert "gave up after retries" in (build / "report" / "report.md").read_text()
    # A build directory from an older format.
    old = {k: v for k, v in json.loads(before).items() if k != "format"}
    (build / "report" / "stats.json").write_text(json.dumps(old))
    _assert_one_line_error(xkde_data_cli("report", str(build)), "older format")
    # Corrupt JSON names the line.
    (build / "report" / "stats.json").write_text(before[:40])
    _assert_one_line_error(xkde_data_cli("report", str(build)), "stats.json:", "malformed JSON")
    (build / "report" / "stats.json").write_text(before)
    # Cases file of another shape.
    pl.DataFrame({"id": ["a"]}).write_parquet(build / "cases" / "kept.parquet")
    _assert_one_line_error(xkde_data_cli("report", str(build)), "kept.parquet", "missing column")
    _assert_one_line_error(xkde_data_cli("report", str(tmp_path / "nope")), "no such build directory")
