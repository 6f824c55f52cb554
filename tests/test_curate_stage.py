"""curate_stage on real MzsRE / Bi-ZsRE rows: kept, rejected with reason codes, accounting, measurements."""

from __future__ import annotations

import json

import polars as pl
import pytest

from conftest import SHARED, shared
from xkde_data.curate import CURATION_REJECT_SCHEMA, MEASUREMENT_SCHEMA, CurationConfig, curate_stage
from xkde_data.importers import load_cases
from xkde_data.schema import CASE_SCHEMA, cases_to_frame
from xkde_data.stats import REJECT_SCHEMA

LANGS = ("zh", "de", "fr", "es")


def _mzsre(lang: str, limit: int = 80) -> tuple[pl.DataFrame, pl.DataFrame]:
    frame = cases_to_frame(load_cases(str(shared(f"mzsre/mzsre_test_en{lang}.json")), limit=limit))
    return frame.filter(pl.col("lang") == "en"), frame.filter(pl.col("lang") == lang)


@pytest.fixture(scope="module")
def no_decontam() -> CurationConfig:
    return CurationConfig(decontaminate=False, confusables=LANGS)


def test_gold_kept_and_corruptions_rejected_with_reasons(no_decontam):
    source, de = _mzsre("de")
    _, fr = _mzsre("fr")
    corrupted = pl.concat([
        de.head(10).with_columns((pl.lit("Hier ist die Übersetzung: ") + pl.col("prompt")).alias("prompt")),
        source.slice(10, 10).with_columns(pl.lit("de").alias("lang")),  # untranslated copy
        fr.slice(20, 10).with_columns(pl.lit("de").alias("lang"), de.slice(20, 10)["id"]),  # French for German
        de.slice(30, 50),
    ])
    result = curate_stage(source, corrupted, source_lang="en", config=no_decontam, progress=False)
    reasons = dict(zip(result.rejected["id"], result.rejected["reason"]))
    ids = corrupted["id"].to_list()
    assert all(reasons.get(i) == "chatter" for i in ids[:10])
    assert all(reasons.get(i) == "untranslated" for i in ids[10:20])
    assert all(reasons.get(i) == "wrong_language" for i in ids[20:30])
    assert sum(i in reasons for i in ids[30:]) <= 1  # gold
    assert result.kept.height + result.rejected.height == corrupted.height
    assert result.kept.schema == pl.Schema(CASE_SCHEMA)
    assert dict(result.rejected.schema) == CURATION_REJECT_SCHEMA
    assert set(REJECT_SCHEMA) <= set(result.rejected.columns)
    assert (result.rejected["stage"] == "filter").all()
    block = json.loads(result.rejected["translation"][0])
    assert block["prompt"].startswith("Hier ist die Übersetzung")
    assert "prompt" in result.rejected["detail"][0]
    assert result.stats["input.de"] == corrupted.height
    assert result.stats["kept.de"] == result.kept.height
    assert result.stats["roundtrip_chrf.skipped"] == corrupted.height  # no back-translations given
    m = result.measurements
    assert dict(m.schema) == MEASUREMENT_SCHEMA and m.height == corrupted.height
    assert m.filter(pl.col("kept"))["length_ratio"].drop_nulls().min() > 0.4


def test_all_failing_reasons_listed_first_decides(no_decontam):
    source, zh = _mzsre("zh", 5)
    bad = zh.with_columns(pl.col("prompt").map_elements(lambda p: "Translation: " + p[: len(p) // 3],
                                                        return_dtype=pl.String))
    result = curate_stage(source, bad, source_lang="en", config=no_decontam, progress=False)
    assert result.rejected.height == 5
    assert (result.rejected["reason"] == "chatter").all()
    assert result.rejected["detail"].str.contains("length_ratio").all()


def test_duplicates_within_the_build(no_decontam):
    source, es = _mzsre("es", 20)
    repeated = es.head(3).with_columns(pl.format("dup-{}", pl.col("id")).alias("id"))
    normalised = es.slice(3, 2).with_columns((pl.format("norm-{}", pl.col("id"))).alias("id"),
                                             pl.col("prompt").str.to_uppercase())
    src_extra = pl.concat([source.head(3).with_columns(pl.format("dup-{}", pl.col("id")).alias("id")),
                           source.slice(3, 2).with_columns(pl.format("norm-{}", pl.col("id")).alias("id"))])
    result = curate_stage(pl.concat([source, src_extra]), pl.concat([es, repeated, normalised]), source_lang="en",
                          config=no_decontam, progress=False)
    dups = result.rejected.filter(pl.col("reason") == "duplicate")
    assert sorted(dups["id"].to_list()) == sorted(repeated["id"].to_list() + normalised["id"].to_list())
    assert dups.filter(pl.col("id").str.starts_with("norm-"))["detail"].str.contains("normalised").all()


def test_roundtrip_chrf_with_back_translations(no_decontam):
    source, fr = _mzsre("fr", 30)
    good_back = source.with_columns(pl.lit("fr").alias("from_lang"))
    # A back-translation of another case: the translation drifted.
    drifted = source.with_columns(pl.lit("fr").alias("from_lang"), pl.col("id").shift(1, fill_value="x"))
    kept = curate_stage(source, fr, source_lang="en", config=no_decontam, back_translations=good_back, progress=False)
    assert kept.stats["roundtrip_chrf.skipped"] == 0
    assert kept.measurements["roundtrip_chrf"].drop_nulls().min() > 90
    drift = curate_stage(source, fr, source_lang="en", config=no_decontam, back_translations=drifted, progress=False)
    assert drift.rejected.filter(pl.col("reason") == "roundtrip_chrf").height >= 25
    none = curate_stage(source, fr, source_lang="en", config=no_decontam, progress=False)
    assert none.stats["roundtrip_chrf.skipped"] == fr.height


def test_decontamination_against_the_benchmarks():
    if not SHARED.exists():
        pytest.skip("shared data missing")
    config = CurationConfig.with_shared_benchmarks(SHARED, confusables=LANGS)
    assert config.is_enabled("contaminated") and len(config.benchmarks) == 5
    source, zh = _mzsre("zh", 40)
    leaked = curate_stage(source, zh, source_lang="en", config=config, progress=False)
    assert leaked.kept.height == 0 and leaked.rejected.height == zh.height
    # Contamination is the last check: a row failing an earlier one lists it after the first reason.
    assert leaked.rejected["detail"].str.contains("mzsre_test|bizsre_test").all()
    assert (leaked.rejected["reason"] == "contaminated").sum() >= 0.9 * zh.height
    # zsRE training questions about other facts stay.
    train = cases_to_frame(load_cases(str(shared("zsre_parallel")) + "/zsre_train_{lang}.txt", limit=150))
    result = curate_stage(train.filter(pl.col("lang") == "en"), train.filter(pl.col("lang") == "de"),
                          source_lang="en", config=config, progress=False)
    assert (result.rejected["reason"] == "contaminated").sum() < 0.05 * 150
    off = CurationConfig.with_shared_benchmarks(SHARED, decontaminate=False, confusables=LANGS)
    assert not off.is_enabled("contaminated") and "contaminated" not in off.signature()["enabled"]


def test_structure_and_missing_source(no_decontam):
    source, de = _mzsre("de", 6)
    broken = de.with_columns(pl.when(pl.col("id") == de["id"][0]).then(pl.lit([], dtype=pl.List(pl.String)))
                             .otherwise(pl.col("rephrase")).alias("rephrase"))
    result = curate_stage(source.slice(1), broken, source_lang="en", config=no_decontam, progress=False)
    reasons = dict(zip(result.rejected["id"], result.rejected["detail"]))
    assert "no source-language row" in reasons[de["id"][0]]


def test_config_rejects_unknown_checks():
    from xkde_data.errors import XkdeError

    with pytest.raises(XkdeError, match="unknown curation check"):
        CurationConfig(enabled=("chatter", "vibes"))
    sig = CurationConfig(decontaminate=False).signature()
    assert sig["min_length_ratio"] == 0.4 and "contaminated" not in sig["enabled"]
