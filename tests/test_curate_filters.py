"""Each filter on real gold fields and on the failure modes it exists for."""

from __future__ import annotations

import json

import pytest

from conftest import shared
from xkde_data.curate import filters as F
from xkde_data.curate.filters import FieldPair


def q(source: str, target: str, name: str = "prompt") -> FieldPair:
    return FieldPair(name, "question", source, target)


def a(source: str, target: str, name: str = "target_new") -> FieldPair:
    return FieldPair(name, "answer", source, target)


@pytest.fixture(scope="module")
def bizsre() -> list[dict]:
    return json.loads(shared("bizsre/bizsre_test.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("wrapped", [
    "Here is the translation: IAAF综合项目挑战赛的创立时间是什么时候？",
    "Translation: IAAF综合项目挑战赛的创立时间是什么时候？",
    "以下是翻译：IAAF综合项目挑战赛的创立时间是什么时候？",
    "IAAF综合项目挑战赛的创立时间是什么时候？\n(Translated from English)",
    "```\nIAAF综合项目挑战赛的创立时间是什么时候？\n```",
    "\"IAAF综合项目挑战赛的创立时间是什么时候？\"",
    "Frage: Wann wurde die IAAF Combined Events Challenge gegründet?",
])
def test_chatter_caught(wrapped):
    assert F.check_chatter(q("When was the inception of IAAF Combined Events Challenge?", wrapped)) is not None


def test_chatter_spares_gold_fields_and_title_marks(bizsre):
    flagged = 0
    for rec in bizsre:
        pairs, problem = F.field_pairs(_block(rec["en"]), _block(rec["zh"]))
        assert problem is None
        flagged += any(F.check_chatter(p) for p in pairs)
    assert flagged / len(bizsre) < 0.01
    assert F.check_chatter(FieldPair("subject", "name", "Dancing Queen", "《舞后》")) is None


def test_untranslated_copy_only_for_questions():
    assert F.check_untranslated(q("Who wrote Dune?", "who wrote dune")) is not None
    assert F.check_untranslated(a("Frank Herbert", "Frank Herbert")) is None  # names may stay


def test_numbers_normalised_across_scripts():
    assert F.numbers_in("二〇〇六年") == ["2006"]
    assert F.numbers_in("十二月") == ["12"]
    assert F.numbers_in("２００６年") == ["2006"]
    assert F.numbers_in("siglo XIX") == ["19"]
    assert F.check_numbers(a("2006", "2006年")) is None
    assert F.check_numbers(a("3,000 metres", "3 000 mètres")) is None
    assert F.check_numbers(a("2006", "2007年")) is not None
    assert F.check_numbers(a("10", "dix")) is None  # small numbers may be spelled out
    assert F.check_numbers(a("10", "11")) is not None  # ...but digits must match
    assert F.check_numbers(a("1990", "neunzehnhundertneunzig")) is not None


def test_answer_consistency():
    answer = a("Gmina Łódź", "Gmina Łódź")
    ok = q("In which voivodeship is Dłutówka, part of Gmina Łódź?", "当Dłutówka是Łódź的一部分时，它位于哪个省？",
           "portability[0].prompt")
    assert F.check_answer_consistency([answer, ok]) is None
    changed = q("Which city hosts Konyaspor?", "诺扬·奥兹所在的团队位于哪个城市？", "portability[0].prompt")
    assert F.check_answer_consistency([a("Konyaspor", "科尼亚体育足球俱乐部"), changed]) is not None
    # Common nouns are paraphrased legitimately and not checked.
    assert F.check_answer_consistency([a("male", "männlich"), q("Is he male?", "Ist er ein Mann?")]) is None


def test_length_and_truncation():
    source = "What was the record label of The View from the Bottom?"
    assert F.check_length(q(source, "Welches Plattenlabel hieß The View from the Bottom?"), 0.4, 2.5) is None
    assert "final" in F.check_length(q(source, "Welches Plattenlabel hieß The"), 0.4, 2.5)
    assert "ratio" in F.check_length(q(source, "Plattenlabel?"), 0.4, 2.5)
    # Han is dense: a much shorter Chinese question is the expected length.
    assert F.check_length(q("When was the inception of IAAF Combined Events Challenge?",
                            "IAAF综合项目挑战赛的创立时间是什么时候？"), 0.4, 2.5) is None


def test_answer_script_rules():
    assert F.check_answer_script(a("Yemen", "也门"), "zh", "en") is None
    assert F.check_answer_script(a("Yemen", "Yemen"), "zh", "en") is None
    assert F.check_answer_script(a("Yemen", "Йемен"), "de", "en") is not None


def test_structure_mismatch():
    src = {"subject": "X", "prompt": "Who is X?", "target_new": "Y", "target_true": None, "rephrase": ["Who's X?"],
           "locality": [], "portability": []}
    tgt = {**src, "rephrase": []}
    assert F.field_pairs(src, tgt)[1].startswith("rephrase")
    assert F.field_pairs(src, {**src, "target_new": "  "})[1].startswith("target_new")


def _block(raw: dict) -> dict:
    port = raw.get("portability")
    return {"subject": raw["subject"], "prompt": raw["src"], "target_new": raw["alt"], "target_true": None,
            "rephrase": [raw["rephrase"]], "locality": [{"prompt": raw["loc"], "answer": raw["loc_ans"]}],
            "portability": [{"prompt": port["New Question"], "answer": port["New Answer"]}] if port else []}
