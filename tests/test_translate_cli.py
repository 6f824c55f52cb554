"""``xkde-data translate`` as a user runs it: subprocesses against a real server on 127.0.0.1."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import polars as pl
import pytest

from conftest import ROOT, run_cli, shared
from xkde_data.importers import load_cases
from xkde_data.schema import cases_to_frame
from xkde_data.testing.openai_server import FakeOpenAIServer, gold_from_corpora
from xkde_data.translate import TranslatorConfig, translate_stage
from xkde_data.translate.cache import TranslationCache

SECRET = "sk-xkde-canary-5d41402abc4b2a76"


@pytest.fixture(scope="module")
def bizsre_path():
    return str(shared("bizsre/bizsre_test.json"))


@pytest.fixture(scope="module")
def zh_gold(bizsre_path) -> pl.DataFrame:
    return cases_to_frame(load_cases(bizsre_path)[:60]).filter(pl.col("lang") == "zh")


@pytest.fixture(scope="module")
def gold(bizsre_path):
    return gold_from_corpora(bizsre_path)


@pytest.fixture(scope="module")
def clean_zh(gold, zh_gold, tmp_path_factory) -> pl.DataFrame:
    """An uninterrupted in-process run over the first 60 cases: what every CLI run must reproduce."""
    source = cases_to_frame(load_cases(shared("bizsre/bizsre_test.json"))[:60]).filter(pl.col("lang") == "en")
    with FakeOpenAIServer(gold) as srv:
        config = TranslatorConfig(model="fake", base_url=srv.base_url,
                                  cache_path=tmp_path_factory.mktemp("clean") / "c.sqlite")
        kept = translate_stage(source, "en", ["zh"], config, progress=False).kept
    # Gold strings shared by several cases make a few differ from Bi-ZsRE's own zh blocks; most match.
    assert sum(a == b for a, b in zip(kept.to_dicts(), zh_gold.to_dicts())) >= 50
    return kept


def cli(tmp_path, *args):
    return run_cli("xkde_data", "translate", *args, env={"XKDE_CACHE_DIR": str(tmp_path / "cache")}, timeout=120)


def popen(tmp_path, *args) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "XKDE_CACHE_DIR": str(tmp_path / "cache")}
    return subprocess.Popen([sys.executable, "-m", "xkde_data", "translate", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_translate_writes_table_rejects_and_summary_and_never_leaks_the_key(gold, bizsre_path, zh_gold, tmp_path):
    with FakeOpenAIServer(gold, api_key=SECRET) as srv:
        srv.inject("missing_key", times=None, match="Ramalinaceae")  # one case fails for good
        srv.inject("rate_limit")
        out = tmp_path / "out" / "bizsre.parquet"
        args = [bizsre_path, "--langs", "zh", "--out", str(out), "--model", "fake", "--base-url", srv.base_url,
                "--limit", "20", "--max-retries", "1", "--no-progress"]
        dry = cli(tmp_path, *args, "--dry-run", "--api-key", SECRET)
        assert dry.returncode == 0, dry.stderr
        assert "20" in dry.stdout and "est. tokens in" in dry.stdout and srv.counts["chat"] == 0
        batch = cli(tmp_path, *args, "--batch-file", str(tmp_path / "out" / "req.jsonl"), "--api-key", SECRET)
        assert batch.returncode == 0, batch.stderr
        run = run_cli("xkde_data", "translate", *args, timeout=120,
                      env={"XKDE_CACHE_DIR": str(tmp_path / "cache"), "OPENAI_API_KEY": SECRET})
        assert run.returncode == 0, run.stderr
        wrong = cli(tmp_path, *args, "--api-key", "sk-wrong-key-0000")
    table = pl.read_parquet(out)
    rejects = pl.read_parquet(tmp_path / "out" / "bizsre.rejects.parquet")
    assert rejects.select("id", "reason").rows() == [("bizsre_test-00001", "missing_keys")]
    assert table.filter(pl.col("lang") == "en").height == 20
    assert table.filter(pl.col("lang") == "zh").equals(zh_gold.head(20).filter(pl.col("id") != "bizsre_test-00001"))
    assert table["id"].to_list()[:3] == ["bizsre_test-00000"] * 2 + ["bizsre_test-00001"]
    for word in ("requests made: 22", "cache hits: 0", "retries: 2", "missing_keys 1"):
        assert word in run.stdout
    assert wrong.returncode == 2 and "401" in wrong.stderr and "sk-wrong-key-0000" not in wrong.stderr + wrong.stdout
    assert "Traceback" not in wrong.stderr
    # The key reaches no output: console, tables, cache, batch file.
    for proc in (dry, batch, run):
        assert SECRET not in proc.stdout + proc.stderr
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(files) >= 4
    for path in files:
        assert SECRET.encode() not in path.read_bytes(), path


def test_kill_9_then_rerun_resumes_without_repeating_completed_requests(gold, bizsre_path, clean_zh, tmp_path):
    out = tmp_path / "t.parquet"
    with FakeOpenAIServer(gold, latency=0.03) as srv:
        args = [bizsre_path, "--langs", "zh", "--out", str(out), "--model", "fake", "--base-url", srv.base_url,
                "--limit", "60", "--concurrency", "2", "--no-progress"]
        proc = popen(tmp_path, *args)
        deadline = time.time() + 60
        while srv.counts["ok"] < 15 and time.time() < deadline and proc.poll() is None:
            time.sleep(0.01)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        assert not out.exists()
        with TranslationCache(tmp_path / "cache" / "translations.sqlite") as cache:
            done = len(cache)
        assert 10 <= done < 60
        before = srv.counts["chat"]
        rerun = cli(tmp_path, *args)
        assert rerun.returncode == 0, rerun.stderr
        assert srv.counts["chat"] - before == 60 - done
        assert f"cache hits: {done}" in rerun.stdout
    assert pl.read_parquet(out).filter(pl.col("lang") == "zh").equals(clean_zh)


def test_two_processes_share_one_cache(gold, bizsre_path, clean_zh, tmp_path):
    with FakeOpenAIServer(gold, latency=0.01) as srv:
        procs = [popen(tmp_path, bizsre_path, "--langs", "zh", "--out", str(tmp_path / f"o{i}.parquet"), "--model",
                       "fake", "--base-url", srv.base_url, "--limit", "60", "--no-progress") for i in range(2)]
        for proc in procs:
            _, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, err
        assert 60 <= srv.counts["chat"] <= 120
    first, second = (pl.read_parquet(tmp_path / f"o{i}.parquet") for i in range(2))
    assert first.equals(second) and first.filter(pl.col("lang") == "zh").equals(clean_zh)
    with TranslationCache(tmp_path / "cache" / "translations.sqlite") as cache:
        assert len(cache) == 60


def test_batch_submit_and_batch_results(gold, bizsre_path, zh_gold, tmp_path):
    with FakeOpenAIServer(gold, api_key=SECRET) as srv:
        common = [bizsre_path, "--langs", "zh", "--model", "fake", "--base-url", srv.base_url, "--api-key", SECRET,
                  "--limit", "12", "--no-progress"]
        submitted = cli(tmp_path, *common, "--out", str(tmp_path / "a.parquet"), "--batch-file",
                        str(tmp_path / "req.jsonl"), "--batch", "submit", "--poll-seconds", "0.01")
        assert submitted.returncode == 0, submitted.stderr
        assert "batch results ingested: 12" in submitted.stdout and srv.counts["chat"] == 0
        # vLLM-style offline: write requests, answer them elsewhere, ingest the results.
        fresh = tmp_path / "fresh"
        written = cli(fresh, *common, "--batch-file", str(tmp_path / "req2.jsonl"))
        assert written.returncode == 0 and "wrote 12 request(s)" in written.stdout
        srv.run_batch_file(tmp_path / "req2.jsonl", tmp_path / "res2.jsonl")
        ingested = cli(fresh, *common, "--out", str(tmp_path / "b.parquet"), "--batch-results",
                       str(tmp_path / "res2.jsonl"))
        assert ingested.returncode == 0, ingested.stderr
        assert srv.counts["chat"] == 0
    for name in ("a", "b"):
        assert pl.read_parquet(tmp_path / f"{name}.parquet").filter(pl.col("lang") == "zh").equals(zh_gold.head(12))


@pytest.mark.parametrize("args,message", [
    (["--langs", "zh,klingon"], "unknown language code 'klingon'"),
    (["--langs", "zh", "--source-lang", "fr"], "has no 'fr' block"),
    (["--langs", "zh", "--base-url", "http://127.0.0.1:9/v1", "--max-retries", "0"], "cannot reach http://127.0.0.1:9/v1"),
    (["--langs", "zh", "--translator", "deepl"], "unknown translator 'deepl'"),
    (["--langs", "zh", "--out", "x.csv"], "must be a .parquet file"),
])
def test_bad_input_is_one_line_exit_2(bizsre_path, tmp_path, args, message):
    if "--out" not in args:
        args = [*args, "--out", str(tmp_path / "o.parquet")]
    proc = cli(tmp_path, bizsre_path, "--model", "m", "--limit", "2", "--no-progress", *args)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "o.parquet").exists()
