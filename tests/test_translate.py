"""Translation engine against a real OpenAI-compatible HTTP server answering from Bi-ZsRE/MzsRE gold data."""

from __future__ import annotations

import json
import random
import socket

import polars as pl
import pytest

from conftest import shared
from xkde_data.errors import XkdeError
from xkde_data.importers import load_cases
from xkde_data.schema import CASE_SCHEMA, cases_to_frame
from xkde_data.stats import REJECT_SCHEMA
from xkde_data.testing.openai_server import FakeOpenAIServer, gold_from_corpora, unknown_marker
from xkde_data.translate import (TranslatorConfig, back_translate_stage, estimate, ingest_batch_results,
                                 translate_stage, write_batch_requests)
from xkde_data.translate.cache import TranslationCache
from xkde_data.translate.contract import load_prompt, row_fields

KEY = "sk-test-7c1e0b"


@pytest.fixture(scope="module")
def bizsre() -> pl.DataFrame:
    return cases_to_frame(load_cases(shared("bizsre/bizsre_test.json"))[:40])


@pytest.fixture(scope="module")
def gold() -> dict:
    return gold_from_corpora(shared("bizsre/bizsre_test.json"), shared("mzsre/mzsre_test_ende.json"))


@pytest.fixture
def server(gold):
    with FakeOpenAIServer(gold, api_key=KEY, retry_after=0.01) as srv:
        yield srv


def config(server, tmp_path, **kw) -> TranslatorConfig:
    return TranslatorConfig(model="fake", base_url=server.base_url, api_key=KEY,
                            cache_path=tmp_path / "cache.sqlite", **{"max_retries": 3, **kw})


def en(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.filter(pl.col("lang") == "en")


def expected(frame: pl.DataFrame, lang: str) -> pl.DataFrame:
    return frame.filter(pl.col("lang") == lang)


def test_translates_to_gold_in_one_request_per_case(server, bizsre, tmp_path):
    result = translate_stage(en(bizsre), "en", ["zh"], config(server, tmp_path), progress=False)
    assert result.kept.schema == pl.Schema(CASE_SCHEMA)
    assert result.rejected.schema == pl.Schema(REJECT_SCHEMA) and result.rejected.is_empty()
    # Bi-ZsRE's own zh blocks are the gold answers: the translation must reproduce them exactly.
    assert result.kept.equals(expected(bizsre, "zh"))
    assert server.counts["chat"] == 40 and result.stats["requests"] == 40
    assert result.stats["translated.zh"] == 40 and result.stats["tokens_in.zh"] > 0
    assert result.stats["tokens_out.zh"] > 0 and result.stats["cache_hits"] == 0
    # The request contract: exactly the row's fields as keys, a strict schema with the same keys.
    first = en(bizsre).row(0, named=True)
    logged_keys = sorted(tuple(entry["keys"]) for entry in server.log)
    assert logged_keys == sorted(tuple(row_fields(r)) for r in en(bizsre).to_dicts())
    assert "locality_0_prompt" in row_fields(first) and "rephrase_0" in row_fields(first)
    assert {e["response_format"] for e in server.log} == {"json_schema"}


def test_rerun_makes_zero_requests(server, bizsre, tmp_path):
    cfg = config(server, tmp_path)
    first = translate_stage(en(bizsre), "en", ["zh"], cfg, progress=False)
    before = server.counts["chat"]
    again = translate_stage(en(bizsre), "en", ["zh"], cfg, progress=False)
    assert server.counts["chat"] == before
    assert again.stats["requests"] == 0 and again.stats["cache_hits"] == 40
    assert again.kept.equals(first.kept)
    est = estimate(en(bizsre), "en", ["zh"], cfg)
    assert est["requests"] == 0 and est["cached"] == 40
    # A different prompt parameter is a different cache entry.
    assert estimate(en(bizsre), "en", ["zh"], config(server, tmp_path, temperature=0.7))["requests"] == 40


def test_several_targets_keep_source_then_language_order(gold, tmp_path):
    frame = cases_to_frame(load_cases(shared("mzsre/mzsre_test_ende.json"))[:12])
    with FakeOpenAIServer(gold, api_key=KEY, latency=0.01) as srv:
        srv.inject("slow", times=3)  # out-of-order completions must not change the output order
        srv.slow_seconds = 0.2
        result = translate_stage(en(frame), "en", ["de", "zh"], config(srv, tmp_path, concurrency=8), progress=False)
    assert list(zip(result.kept["id"], result.kept["lang"])) == [
        (i, lang) for i in en(frame)["id"] for lang in ("de", "zh")]
    assert result.kept.filter(pl.col("lang") == "de").equals(expected(frame, "de"))


def test_transient_faults_are_retried_and_counted(server, bizsre, tmp_path):
    for fault in ("rate_limit", "rate_limit", "server_error", "drop", "invalid_json", "missing_key",
                  "extra_key", "empty_value", "truncated"):
        server.inject(fault)
    result = translate_stage(en(bizsre), "en", ["zh"], config(server, tmp_path, concurrency=4), progress=False)
    assert result.rejected.is_empty()
    assert result.kept.equals(expected(bizsre, "zh"))
    assert result.stats["retries"] == 9
    assert result.stats["requests"] == 49 and server.counts["chat"] == 49
    assert server.counts["http.429"] == 2


def test_timeouts_are_retried(gold, bizsre, tmp_path):
    with FakeOpenAIServer(gold, api_key=KEY, slow_seconds=1.0) as srv:
        srv.inject("slow")
        result = translate_stage(en(bizsre).head(3), "en", ["zh"], config(srv, tmp_path, timeout=0.3), progress=False)
    assert result.rejected.is_empty() and result.stats["retries"] >= 1


@pytest.mark.parametrize("fault,reason", [
    ("invalid_json", "invalid_json"), ("missing_key", "missing_keys"), ("extra_key", "extra_keys"),
    ("empty_value", "empty_value"), ("truncated", "truncated"), ("wrong_language", "wrong_script"),
    ("server_error", "request_failed"),
])
def test_persistent_bad_replies_are_rejected_not_guessed(server, bizsre, tmp_path, fault, reason):
    source = en(bizsre).head(6)
    victim = source.row(2, named=True)
    server.inject(fault, times=None, match=victim["prompt"])
    cfg = config(server, tmp_path, max_retries=1)
    result = translate_stage(source, "en", ["zh"], cfg, progress=False)
    assert result.rejected.select("id", "lang", "stage", "reason").rows() == [(victim["id"], "zh", "translate", reason)]
    assert len(result.kept) + len(result.rejected) == 6
    assert victim["id"] not in result.kept["id"].to_list()
    assert result.stats[f"failed.{reason}"] == 1
    # Nothing invalid was cached: once the server behaves, only the failed item is requested again.
    server.clear_faults()
    before = server.counts["chat"]
    again = translate_stage(source, "en", ["zh"], cfg, progress=False)
    assert server.counts["chat"] - before == 1 and again.rejected.is_empty()
    assert again.kept.equals(expected(bizsre, "zh").head(6))


def test_response_format_modes_and_fallbacks(gold, bizsre, tmp_path):
    source = en(bizsre).head(4)
    with FakeOpenAIServer(gold, json_schema=False) as srv:
        with pytest.raises(XkdeError, match="json_object"):
            translate_stage(source, "en", ["zh"], config(srv, tmp_path, max_retries=0), progress=False)
        for mode in ("json_object", "text"):  # text: the server wraps the JSON in prose and a code fence
            result = translate_stage(source, "en", ["zh"], config(srv, tmp_path / mode, response_format=mode),
                                     progress=False)
            assert result.kept.equals(expected(bizsre, "zh").head(4))
        assert [e["response_format"] for e in srv.log[-8:]] == ["json_object"] * 4 + [None] * 4


def test_unknown_strings_get_the_marker_and_wrong_script_is_caught(server, tmp_path):
    row = {"id": "x-1", "corpus": "x", "lang": "en", "subject": None, "prompt": "What is the colour of zorblax?",
           "target_new": "Blue-ish", "target_true": None, "rephrase": [], "locality": [], "portability": []}
    source = pl.DataFrame([row], schema=CASE_SCHEMA, orient="row")
    result = translate_stage(source, "en", ["de", "zh"], config(server, tmp_path, max_retries=0), progress=False)
    assert result.kept["prompt"].to_list() == [unknown_marker("de", row["prompt"])]
    assert result.rejected["reason"].to_list() == ["wrong_script"]


def test_back_translation_returns_to_the_source_language(server, bizsre, tmp_path):
    cfg = config(server, tmp_path)
    forward = translate_stage(en(bizsre).head(10), "en", ["zh"], cfg, progress=False)
    back = back_translate_stage(forward.kept, "en", cfg, progress=False)
    assert back.kept["from_lang"].to_list() == ["zh"] * 10
    assert back.kept["lang"].to_list() == ["en"] * 10
    # The reply is the gold zh->en mapping of each translated field (several en strings can share one zh text).
    for back_row, zh_row in zip(back.kept.to_dicts(), forward.kept.to_dicts()):
        assert row_fields(back_row) == server.translate_fields(row_fields(zh_row), "en")
    same = sum(a == b for a, b in zip(back.kept.drop("from_lang").to_dicts(), en(bizsre).head(10).to_dicts()))
    assert same >= 8
    assert back.rejected.is_empty() and back.stats["requests"] == 10
    again = back_translate_stage(forward.kept, "en", cfg, progress=False)
    assert again.stats["requests"] == 0 and again.stats["cache_hits"] == 10


def test_corpus_backend_takes_existing_blocks_and_reports_missing_ones(bizsre, tmp_path):
    corpus = bizsre.filter(~((pl.col("lang") == "zh") & pl.col("id").is_in(["bizsre_test-00003", "bizsre_test-00007"])))
    cfg = TranslatorConfig(backend="corpus", cache_path=tmp_path / "c.sqlite")
    result = translate_stage(en(bizsre), "en", ["zh"], cfg, corpus=corpus, progress=False)
    assert result.rejected["id"].to_list() == ["bizsre_test-00003", "bizsre_test-00007"]
    assert set(result.rejected["reason"]) == {"missing_target_block"}
    assert result.kept.equals(expected(corpus, "zh"))
    assert result.stats["requests"] == 0 and len(result.kept) + len(result.rejected) == 40
    assert cfg.signature() == {"backend": "corpus"}


def test_batch_files_split_join_in_any_order_and_feed_the_cache(server, bizsre, tmp_path):
    cfg = config(server, tmp_path)
    source = en(bizsre).head(20)
    files = write_batch_requests(source, "en", ["zh"], cfg, tmp_path / "requests.jsonl", max_lines=7)
    assert [f.name for f in files] == ["requests.001.jsonl", "requests.002.jsonl", "requests.003.jsonl"]
    lines = [json.loads(line) for f in files for line in f.read_text().splitlines()]
    assert len(lines) == 20 and len({line["custom_id"] for line in lines}) == 20
    assert {tuple(sorted(line)) for line in lines} == {("body", "custom_id", "method", "url")}
    assert lines[0]["url"] == "/v1/chat/completions" and lines[0]["body"]["response_format"]["json_schema"]["strict"]
    results = []
    for i, f in enumerate(files):
        out = tmp_path / f"results{i}.jsonl"
        server.run_batch_file(f, out)
        results.extend(out.read_text().splitlines())
    random.Random(0).shuffle(results)
    results.append(json.dumps({"custom_id": "xkde-not-from-this-run", "response": {"status_code": 200, "body": {}}}))
    merged = tmp_path / "results.jsonl"
    merged.write_text("\n".join(results) + "\n")
    stats = ingest_batch_results(source, "en", ["zh"], cfg, [merged])
    assert stats["batch.ingested"] == 20 and stats["batch.unknown_id"] == 1
    chats = server.counts["chat"]
    result = translate_stage(source, "en", ["zh"], cfg, progress=False, offline=True)
    assert server.counts["chat"] == chats == 0
    assert result.kept.equals(expected(bizsre, "zh").head(20))
    assert write_batch_requests(source, "en", ["zh"], cfg, tmp_path / "again.jsonl") == []
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"custom_id": "a"}\nnot json\n')
    with pytest.raises(XkdeError, match=r"bad.jsonl:2"):
        ingest_batch_results(source, "en", ["zh"], cfg, [bad])


def test_identical_requests_are_paid_once(server, bizsre, tmp_path):
    source = en(bizsre).head(3)
    twin = source.head(1).with_columns(pl.lit("bizsre_test-twin").alias("id"))
    result = translate_stage(pl.concat([source, twin]), "en", ["zh"], config(server, tmp_path), progress=False)
    assert server.counts["chat"] == 3 and len(result.kept) == 4
    assert result.kept.row(3, named=True) == {**result.kept.row(0, named=True), "id": "bizsre_test-twin"}


def test_no_target_language_is_an_empty_result(server, bizsre, tmp_path):
    result = translate_stage(en(bizsre), "en", [], config(server, tmp_path), progress=False)
    assert result.kept.is_empty() and result.rejected.is_empty() and server.counts["chat"] == 0


def test_offline_run_rejects_what_the_cache_lacks(server, bizsre, tmp_path):
    result = translate_stage(en(bizsre).head(3), "en", ["zh"], config(server, tmp_path), progress=False, offline=True)
    assert set(result.rejected["reason"]) == {"not_cached"} and server.counts["chat"] == 0


def test_user_mistakes_are_one_line_errors(server, bizsre, tmp_path):
    source = en(bizsre).head(2)
    wrong_key = TranslatorConfig(model="fake", base_url=server.base_url, api_key="sk-wrong-31337",
                                 cache_path=tmp_path / "c.sqlite", max_retries=0)
    with pytest.raises(XkdeError) as err:
        translate_stage(source, "en", ["zh"], wrong_key, progress=False)
    assert "401" in str(err.value) and "sk-wrong-31337" not in str(err.value)
    with FakeOpenAIServer({}, models={"good-model"}) as srv:
        with pytest.raises(XkdeError, match="rejected model 'bad-model'"):
            translate_stage(source, "en", ["zh"], TranslatorConfig(model="bad-model", base_url=srv.base_url,
                                                                   cache_path=tmp_path / "c.sqlite"), progress=False)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/v1"
    with pytest.raises(XkdeError, match=f"cannot reach {url}"):
        translate_stage(source, "en", ["zh"], TranslatorConfig(model="m", base_url=url, max_retries=0,
                                                               cache_path=tmp_path / "c.sqlite"), progress=False)
    with pytest.raises(XkdeError, match="unknown language code"):
        translate_stage(source, "en", ["qq"], config(server, tmp_path), progress=False)
    with pytest.raises(XkdeError, match="expected only 'de' rows"):
        translate_stage(source, "de", ["zh"], config(server, tmp_path), progress=False)
    with pytest.raises(XkdeError, match="needs --model"):
        translate_stage(source, "en", ["zh"], TranslatorConfig(base_url=server.base_url,
                                                               cache_path=tmp_path / "c.sqlite"), progress=False)


def test_the_key_stays_out_of_repr_signature_and_cache(server, bizsre, tmp_path):
    cfg = config(server, tmp_path)
    assert KEY not in repr(cfg) and KEY not in json.dumps(cfg.signature())
    sig = cfg.signature()
    assert sig["prompt_hash"] == load_prompt("translate/v1").hash and sig["model"] == "fake"
    translate_stage(en(bizsre).head(5), "en", ["zh"], cfg, progress=False)
    for path in tmp_path.iterdir():
        assert KEY.encode() not in path.read_bytes()


def test_rate_limits_pace_requests(server, bizsre, tmp_path):
    import time

    start = time.perf_counter()
    translate_stage(en(bizsre).head(4), "en", ["zh"], config(server, tmp_path, rpm=120, concurrency=4), progress=False)
    # 120 rpm is one request per 0.5 s, evenly paced: 4 requests take >= 1.5 s.
    assert time.perf_counter() - start >= 1.4
    with TranslationCache(tmp_path / "cache.sqlite") as cache:
        assert len(cache) == 4
    # 90k tokens/min is 1,500 per second; 4 requests budgeted at ~900 tokens each need >= ~1.3 s.
    start = time.perf_counter()
    translate_stage(en(bizsre).tail(4), "en", ["zh"], config(server, tmp_path, tpm=90_000, concurrency=4),
                    progress=False)
    assert time.perf_counter() - start >= 1.0
