"""Importers on the real benchmark files, lossless round trips, and one-line errors for bad input."""

from __future__ import annotations

import json

import polars as pl
import pytest

from conftest import DEMO, shared
from xkde_data.errors import XkdeError
from xkde_data.importers import detect_format, import_corpus, load_cases
from xkde_data.schema import cases_to_frame, frame_to_cases, write_jsonl, write_parquet


def test_bizsre_parallel_json_maps_every_field():
    cases = load_cases(shared("bizsre/bizsre_test.json"))
    assert len(cases) == 1037
    first = cases[0]
    assert list(first.langs) == ["en", "zh"]
    en, zh = first.langs["en"], first.langs["zh"]
    assert en.prompt == "When was the inception of IAAF Combined Events Challenge?"
    assert en.target_new == "2006" and zh.target_new == "2006年"
    assert en.rephrase == ["When was the IAAF Combined Events Challenge launched?"]
    assert en.locality[0].answer == "The String"
    assert zh.portability[0].answer == "田径"
    assert first.id == "bizsre_test-00000"


@pytest.mark.parametrize("pair", ["zh", "de", "fr", "es"])
def test_mzsre_files_have_743_cases(pair):
    cases = load_cases(shared(f"mzsre/mzsre_test_en{pair}.json"))
    assert len(cases) == 743
    assert set(cases[0].langs) == {"en", pair}


def test_parallel_tsv_counts_and_import_rejects():
    result = import_corpus(str(shared("zsre_parallel")))
    # 35 source lines lost their answer in every language: counted as rejected, not dropped.
    assert len(result.cases) + len(result.rejects) == 10000
    assert {r.reason for r in result.rejects} == {"missing_answer"}
    assert set(result.cases[0].langs) == {"en", "zh", "de", "fr", "es"}
    template = import_corpus(str(shared("zsre_parallel")) + "/zsre_train_{lang}.txt")
    assert [c.id for c in template.cases] == [c.id for c in result.cases]


def test_inspect_json_reports_benchmark_sizes(xkde_data_cli):
    out = xkde_data_cli("inspect", str(shared("bizsre/bizsre_test.json")), "--json")
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)
    assert summary["cases"] == 1037
    assert summary["languages"]["en"]["cases"] == summary["languages"]["zh"]["cases"] == 1037
    assert summary["languages"]["zh"]["portability"] == 1037
    out = xkde_data_cli("inspect", str(shared("zsre_parallel")), "--json")
    summary = json.loads(out.stdout)
    assert summary["cases"] == 10000
    assert {k: v["cases"] for k, v in summary["languages"].items()} == dict.fromkeys(["de", "en", "es", "fr", "zh"], 10000)
    for pair in ["zh", "de", "fr", "es"]:
        out = xkde_data_cli("inspect", str(shared(f"mzsre/mzsre_test_en{pair}.json")), "--json")
        assert json.loads(out.stdout)["cases"] == 743


def _easyedit_records():
    return [
        {"subject": "Tanja Damaske", "src": "What sport does Tanja Damaske play?", "pred": "x",
         "rephrase": "Which sport is Tanja Damaske known for?", "alt": "tennis", "answers": ["javelin"],
         "loc": "nq question: who wrote hamlet", "loc_ans": "Shakespeare", "cond": "x",
         "portability": {"New Question": "Is Tanja Damaske a racket sport player?", "New Answer": "yes"}},
        {"subject": "Velmora", "src": "Which country is Velmora in?", "rephrase": ["Velmora lies in which country?"],
         "alt": "Portugal", "answers": ["Spain"], "loc": "capital of France?", "loc_ans": "Paris"},
    ]


def _counterfact_records():
    return [{
        "case_id": 7,
        "requested_rewrite": {"prompt": "{} was born in", "subject": "Maren Tollefsen", "relation_id": "P19",
                              "target_new": {"str": "Oslo", "id": "Q1"}, "target_true": {"str": "Bergen", "id": "Q2"}},
        "paraphrase_prompts": ["Maren Tollefsen's birthplace is"],
        "neighborhood_prompts": ["Edvard Grieg was born in", "Ole Bull was born in"],
    }]


@pytest.fixture
def corpus_files(tmp_path):
    easy = tmp_path / "zsre_easy.json"
    easy.write_text(json.dumps(_easyedit_records()), encoding="utf-8")
    cf = tmp_path / "counterfact.json"
    cf.write_text(json.dumps(_counterfact_records()), encoding="utf-8")
    tsv_dir = tmp_path / "tsv"
    tsv_dir.mkdir()
    (tsv_dir / "mini_en.txt").write_text("Who founded Velmora?\tAda Lind\nWhen?\t1912\n", encoding="utf-8")
    (tsv_dir / "mini_de.txt").write_text("Wer gründete Velmora?\tAda Lind\nWann?\t1912\n", encoding="utf-8")
    return {"easyedit-zsre": easy, "counterfact": cf, "parallel-tsv": tsv_dir,
            "parallel-zsre": shared("mzsre/mzsre_test_ende.json")}


def test_demo_corpus_is_complete():
    cases = load_cases(DEMO)
    assert len(cases) >= 40
    for case in cases:
        assert list(case.langs) == ["en", "zh", "de", "fr", "es", "ja"]
        for block in case.langs.values():
            assert block.subject and block.target_true and block.rephrase and block.locality and block.portability


def test_formats_are_detected(corpus_files):
    for name, path in corpus_files.items():
        assert detect_format(str(path)) == name


def test_counterfact_mapping(corpus_files):
    (case,) = load_cases(corpus_files["counterfact"])
    en = case.langs["en"]
    assert case.id == "counterfact-7"
    assert en.prompt == "Maren Tollefsen was born in" and en.target_new == "Oslo" and en.target_true == "Bergen"
    assert [qa.answer for qa in en.locality] == ["Bergen", "Bergen"]


@pytest.mark.parametrize("suffix", [".parquet", ".jsonl"])
@pytest.mark.parametrize("fmt", ["easyedit-zsre", "counterfact", "parallel-tsv", "parallel-zsre", "canonical"])
def test_round_trip_is_identical(fmt, suffix, corpus_files, tmp_path):
    source = corpus_files.get(fmt) or DEMO
    cases = load_cases(source)
    first = tmp_path / f"first{suffix}"
    (write_parquet if suffix == ".parquet" else write_jsonl)(cases, first)
    again = load_cases(first)
    assert [c.to_dict() for c in again] == [c.to_dict() for c in cases]
    frame = cases_to_frame(again)
    assert frame.equals(cases_to_frame(frame_to_cases(frame)))


def test_hub_importer_reads_a_local_dataset_folder(tmp_path):
    cases = load_cases(shared("bizsre/bizsre_test.json"))[:20]
    folder = tmp_path / "hubds"
    write_parquet(cases, folder / "data" / "train-00000-of-00001.parquet")
    again = load_cases(f"hub:{folder}")
    assert [c.to_dict() for c in again] == [c.to_dict() for c in cases]
    write_jsonl(cases, tmp_path / "hubjsonl" / "train.jsonl")
    again = load_cases(f"hub:{tmp_path / 'hubjsonl'}")
    assert [c.to_dict() for c in again] == [c.to_dict() for c in cases]


# ------------------------------------------------------------------ bad input


def _canonical_line(**overrides):
    case = {"id": "c1", "corpus": "t", "langs": {"en": {"subject": "S", "prompt": "Who is S?", "target_new": "X",
                                                         "rephrase": [], "locality": [], "portability": []}}}
    case.update(overrides)
    return json.dumps(case)


BAD_INPUTS = {
    "malformed_json": ("bad.json", b'[{"en": {"src": "a", "alt": "b",}}]', "bad.json:1", "malformed JSON"),
    "malformed_jsonl": ("bad.jsonl", (_canonical_line() + "\n{not json\n").encode(), "bad.jsonl:2", "malformed JSON"),
    "non_utf8": ("bad.jsonl", b'{"id": "c1", "langs": {"en": {"prompt": "caf\xe9"}}}\n', "bad.jsonl:1", "UTF-8"),
    "missing_field": ("bad.json", json.dumps([{"en": {"subject": "S", "alt": "b", "src": "q"}},
                                              {"en": {"subject": "S", "src": "q2"}}]).encode(),
                      "record 1", "field 'en.alt'"),
    "wrong_type": ("bad.jsonl", (_canonical_line(langs={"en": {"prompt": 3, "target_new": "X"}}) + "\n").encode(),
                   "bad.jsonl:1", "field 'en.prompt'"),
    "empty_prompt": ("bad.jsonl", (_canonical_line(langs={"en": {"prompt": "  ", "target_new": "X"}}) + "\n").encode(),
                     "bad.jsonl:1", "empty value"),
    "empty_answer": ("bad.json", json.dumps([{"en": {"subject": "S", "src": "q", "alt": ""}}]).encode(),
                     "record 0", "field 'en.alt'"),
    "unknown_language": ("bad.json", json.dumps([{"xx": {"subject": "S", "src": "q", "alt": "a"}}]).encode(),
                         "record 0", "unknown language code 'xx'"),
    "duplicate_ids": ("bad.jsonl", (_canonical_line() + "\n" + _canonical_line() + "\n").encode(),
                      "record 1", "duplicate case id"),
}


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
def test_bad_input_is_one_line_exit_2(name, tmp_path, xkde_data_cli):
    filename, payload, where, what = BAD_INPUTS[name]
    path = tmp_path / filename
    path.write_bytes(payload)
    fmt = ["--format", "canonical"] if filename.endswith(".jsonl") else ["--format", "parallel-zsre"]
    out = xkde_data_cli("inspect", str(path), *fmt)
    assert out.returncode == 2, out.stderr
    err = out.stderr.strip()
    assert "\n" not in err and "Traceback" not in err
    assert where in err and what in err
    assert str(path) in err
    with pytest.raises(XkdeError):
        load_cases(path, fmt[1])


def test_misaligned_tsv_and_unknown_format(tmp_path, xkde_data_cli):
    (tmp_path / "x_en.txt").write_text("q1\ta1\nq2\ta2\n", encoding="utf-8")
    (tmp_path / "x_de.txt").write_text("q1\ta1\n", encoding="utf-8")
    out = xkde_data_cli("inspect", str(tmp_path))
    assert out.returncode == 2 and "misaligned" in out.stderr and "x_en.txt=2" in out.stderr
    out = xkde_data_cli("inspect", str(tmp_path), "--format", "nope")
    assert out.returncode == 2 and "unknown format 'nope'" in out.stderr
    (tmp_path / "x_de.txt").write_text("q1\ta1\textra\nq2\ta2\n", encoding="utf-8")
    out = xkde_data_cli("inspect", str(tmp_path))
    assert out.returncode == 2 and "x_de.txt:1" in out.stderr and "field 'answer'" in out.stderr


def test_language_aliases_and_validation():
    from xkde_data.langs import language_name, normalize_code, parse_lang_list

    assert normalize_code("cz") == "cs" and normalize_code("du") == "nl" and normalize_code("zh-CN") == "zh"
    assert language_name("zh") == "Chinese" and language_name("de") == "German"
    with pytest.raises(XkdeError, match="twice"):
        parse_lang_list("en,zh,en")
    with pytest.raises(XkdeError, match="unknown language code 'qq'"):
        parse_lang_list("en,qq")


def test_frame_schema_is_canonical():
    frame = cases_to_frame(load_cases(shared("bizsre/bizsre_test.json"))[:3])
    assert frame.columns == ["id", "corpus", "lang", "subject", "prompt", "target_new", "target_true",
                             "rephrase", "locality", "portability"]
    assert frame.height == 6
    assert frame.schema["locality"] == pl.List(pl.Struct({"prompt": pl.String, "answer": pl.String}))


def test_limit_counts_source_records_in_order():
    result = import_corpus(str(shared("zsre_parallel")), limit=45)
    # Line 40 lost its answer: the first 45 records are 44 cases and that one reject.
    assert [r.id for r in result.rejects] == ["zsre_train-00039"]
    assert len(result.cases) == 44 and result.cases[-1].id == "zsre_train-00044"
    assert len(import_corpus(str(shared("zsre_parallel")), limit=10).rejects) == 0
