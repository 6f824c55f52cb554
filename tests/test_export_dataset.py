"""Hub-ready dataset folders: load_dataset on every config and split, deterministic bytes, the card,
sharding, atomic replacement, and validate_build / `xkde-data validate` on good and broken builds."""

from __future__ import annotations

import hashlib
import json

import datasets
import polars as pl
import pyarrow.parquet as pq
import pytest
import yaml

from export_helpers import CARD, TEMPLATE, bizsre_kept, mixed_kept, write_build
from xkde_data.errors import XkdeError
from xkde_data.export import CardInfo, assign_splits, build_tlpo, build_xeit, export_dataset, validate_build
from xkde_data.export import dataset as dataset_module


def _digest(folder):
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _card_yaml(folder) -> dict:
    text = (folder / "README.md").read_text(encoding="utf-8")
    return yaml.safe_load(text.split("---\n")[1])


@pytest.fixture(scope="module")
def build(tmp_path_factory):
    out = tmp_path_factory.mktemp("build")
    counts = write_build(mixed_kept(20), ["en", "zh", "de"], out)
    return out, counts


def test_every_config_and_split_loads_with_datasets(build, tmp_path):
    out, counts = build
    assert set(counts["instances"]["xeit"]) == {"all", "en-en", "en-zh", "en-de", "zh-en", "zh-zh", "de-en", "de-de"}
    assert set(counts["pairs"]["tlpo"]) == {"all", "en-zh", "en-de", "zh-en", "de-en"}
    for kind, section in (("xeit", "instances"), ("tlpo", "pairs")):
        for config, per_split in counts[section][kind].items():
            for split, rows in per_split.items():
                ds = datasets.load_dataset(str(out / kind), name=config, split=split, cache_dir=str(tmp_path))
                assert len(ds) == rows
                if config != "all":
                    assert set(ds["config"]) == {config}
    ds = datasets.load_dataset(str(out / "tlpo"), name="en-zh", split="train", cache_dir=str(tmp_path))
    first = ds[0]
    assert [m["role"] for m in first["prompt"]] == ["user"]
    assert "[Updated Information]:" in first["prompt"][0]["content"]
    assert first["chosen"][0]["role"] == "assistant"
    default = datasets.load_dataset(str(out / "xeit"), split="validation", cache_dir=str(tmp_path))
    assert len(default) == counts["instances"]["xeit"]["all"]["validation"]


def test_card_metadata_and_body(build):
    out, counts = build
    meta = _card_yaml(out / "xeit")
    assert meta["language"] == ["en", "zh", "de"]
    assert meta["license"] == "other" and meta["multilinguality"] == "multilingual"
    assert meta["size_categories"] == ["n<1K"] and "text-generation" in meta["task_categories"]
    assert meta["source_datasets"] == ["extended|bizsre", "extended|mzsre"]
    assert "knowledge-editing" in meta["tags"] and meta["pretty_name"] == "X-KDE test: XE-IT instances"
    configs = {c["config_name"]: c for c in meta["configs"]}
    assert list(configs)[0] == "all" and configs["all"]["default"] is True
    assert configs["en-zh"]["data_files"] == [{"split": "train", "path": "data/en-zh/train-*.parquet"},
                                              {"split": "validation", "path": "data/en-zh/validation-*.parquet"}]
    body = (out / "tlpo" / "README.md").read_text(encoding="utf-8").split("---\n", 2)[2]
    total = sum(counts["pairs"]["tlpo"]["en-de"].values())
    assert f"| `en-de` | {counts['pairs']['tlpo']['en-de']['train']} |" in body and f"| {total} |" in body
    assert "| `zh.kept` | 30 |" in body  # filter summary
    assert "| `date` | 2026-01-02 |" in body and f"| `xeit_template.hash` | {TEMPLATE.hash} |" in body
    assert "arXiv" in body and "2502.14645" in body and "Edit Once, Update Everywhere" in body
    assert "Cross-Lingual Knowledge Editing in Large Language Models" in body  # Bi-ZsRE's citation
    assert "Retrieval-augmented Multilingual Knowledge Editing" in body  # MzsRE's citation


def test_card_never_prints_secret_looking_signature_fields(tmp_path):
    xeit, _ = build_xeit(bizsre_kept(3), ["en"], template=TEMPLATE)
    card = CardInfo("t", corpora=["bizsre"], signature={"translator": {"model": "gpt-x", "api_key": "sk-live-123"},
                                                        "hf_token": "hf_abc", "date": "2026-01-02"})
    export_dataset(xeit.with_columns(split=pl.lit("train")), tmp_path / "x", kind="xeit", card=card)
    text = (tmp_path / "x" / "README.md").read_text()
    assert "gpt-x" in text and "sk-live-123" not in text and "hf_abc" not in text


def test_export_into_an_unwritable_place_is_one_line(tmp_path):
    xeit, _ = build_xeit(bizsre_kept(3), ["en"], template=TEMPLATE)
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(XkdeError, match="cannot write the xeit dataset here"):
        export_dataset(xeit.with_columns(split=pl.lit("train")), tmp_path / "file" / "xeit", kind="xeit", card=CARD)


def test_reexport_is_byte_identical_and_replaces_the_folder(tmp_path):
    kept = bizsre_kept(25)
    splits = assign_splits(kept["id"].unique().to_list(), validation_fraction=0.2)
    xeit, _ = build_xeit(kept, ["en", "zh"], template=TEMPLATE, splits=splits)
    export_dataset(xeit, tmp_path / "a", kind="xeit", card=CARD)
    export_dataset(xeit, tmp_path / "b", kind="xeit", card=CARD)
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    again, _ = build_xeit(kept, ["en", "zh"], template=TEMPLATE, splits=splits)
    (tmp_path / "a" / "data" / "stale").mkdir()
    export_dataset(again, tmp_path / "a", kind="xeit", card=CARD)
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")  # stale folder gone, same bytes
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b"]  # no temp folders left


def test_failed_export_leaves_the_previous_folder_untouched(tmp_path, monkeypatch):
    kept = bizsre_kept(10)
    tlpo, _ = build_tlpo(kept, ["en", "zh"], template=TEMPLATE)
    tlpo = tlpo.with_columns(split=pl.lit("train"))
    export_dataset(tlpo, tmp_path / "tlpo", kind="tlpo", card=CARD)
    before = _digest(tmp_path / "tlpo")

    def crash(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(dataset_module, "render_card", crash)  # fails after the parquet files are written
    with pytest.raises(RuntimeError, match="disk full"):
        export_dataset(tlpo.head(5), tmp_path / "tlpo", kind="tlpo", card=CARD)
    assert _digest(tmp_path / "tlpo") == before
    assert [p.name for p in tmp_path.iterdir()] == ["tlpo"]


def test_large_splits_are_sharded_and_still_load(tmp_path):
    kept = bizsre_kept(40)
    xeit, _ = build_xeit(kept, ["en", "zh"], template=TEMPLATE)
    xeit = xeit.with_columns(split=pl.lit("train"))
    counts = export_dataset(xeit, tmp_path / "xeit", kind="xeit", card=CARD, max_shard_bytes=64 * 1024)
    shards = sorted(p.name for p in (tmp_path / "xeit" / "data" / "all").iterdir())
    assert len(shards) > 2 and shards[0] == f"train-00000-of-{len(shards):05d}.parquet"
    assert counts["all"] == {"train": xeit.height}  # an empty split is left out of the config
    ds = datasets.load_dataset(str(tmp_path / "xeit"), name="all", split="train", cache_dir=str(tmp_path / "c"))
    assert ds["case_id"] == xeit["case_id"].to_list()  # order kept across shards
    assert "validation" not in (tmp_path / "xeit" / "README.md").read_text()


def test_export_refuses_frames_without_splits_or_rows(tmp_path):
    xeit, _ = build_xeit(bizsre_kept(3), ["en"], template=TEMPLATE)
    with pytest.raises(ValueError, match="split"):
        export_dataset(xeit, tmp_path / "x", kind="xeit", card=CARD)
    with pytest.raises(ValueError, match="kind"):
        export_dataset(xeit.with_columns(split=pl.lit("train")), tmp_path / "x", kind="sft", card=CARD)
    with pytest.raises(ValueError, match="no xeit rows"):
        export_dataset(xeit.head(0).with_columns(split=pl.lit("train")), tmp_path / "x", kind="xeit", card=CARD)
    assert not (tmp_path / "x").exists()


# ---------------------------------------------------------------- validate

@pytest.fixture
def small_build(tmp_path):
    write_build(bizsre_kept(15), ["en", "zh"], tmp_path / "build", validation_fraction=0.3)
    return tmp_path / "build"


def _rewrite(path, transform):
    table = pl.read_parquet(path)
    schema = pq.read_schema(path)
    pq.write_table(transform(table).to_arrow().cast(schema.remove_metadata()), path)


def test_valid_build_passes(small_build, xkde_data_cli):
    assert validate_build(small_build) == []
    done = xkde_data_cli("validate", str(small_build))
    assert done.returncode == 0 and "ok:" in done.stdout


def test_validate_names_a_count_mismatch(small_build, xkde_data_cli):
    stats_path = small_build / "report" / "stats.json"
    stats = json.loads(stats_path.read_text())
    stats["pairs"]["tlpo"]["en-zh"]["train"] += 1
    stats_path.write_text(json.dumps(stats))
    done = xkde_data_cli("validate", str(small_build))
    assert done.returncode == 1 and "Traceback" not in done.stderr
    first = done.stderr.splitlines()[0]
    assert first.startswith("invalid: tlpo: row counts (en-zh/train:") and "stats.json pairs.tlpo" in first


def test_validate_finds_a_case_in_two_splits(small_build):
    valid_case = pl.read_parquet(next((small_build / "xeit" / "data" / "en-zh").glob("validation-*")))["case_id"][0]
    train_file = next((small_build / "xeit" / "data" / "en-zh").glob("train-*"))
    _rewrite(train_file, lambda t: t.with_columns(case_id=pl.lit(valid_case)))
    problems = validate_build(small_build)
    assert any(f"case {valid_case!r} is in split" in p for p in problems)


def test_validate_finds_equal_chosen_and_rejected(small_build):
    train_file = next((small_build / "tlpo" / "data" / "all").glob("train-*"))
    _rewrite(train_file, lambda t: t.with_columns(rejected=pl.col("chosen")))
    problems = validate_build(small_build)
    assert problems and problems[0].endswith("row 0: chosen equals rejected after normalisation")


def test_validate_finds_a_wrong_schema_and_missing_files(small_build, xkde_data_cli):
    train_file = next((small_build / "xeit" / "data" / "zh-en").glob("train-*"))
    pl.read_parquet(train_file).drop("kind").write_parquet(train_file)
    (next((small_build / "tlpo" / "data" / "zh-en").glob("validation-*"))).unlink()
    (next((small_build / "tlpo" / "data" / "en-zh").glob("train-*"))).write_bytes(b"PAR1 truncated")
    problems = validate_build(small_build)
    assert any("unreadable parquet" in p for p in problems)
    assert any("is not the xeit schema" in p for p in problems)
    assert any("config 'zh-en' split 'validation': no files match" in p for p in problems)
    done = xkde_data_cli("validate", str(small_build), "--all")
    assert done.returncode == 1 and len(done.stderr.splitlines()) == len(problems)
    missing = xkde_data_cli("validate", str(small_build / "nope"))
    assert missing.returncode == 2 and missing.stderr.strip().endswith("no such build directory")
