"""XE-IT instances, TL-PO pairs and splits on real Bi-ZsRE / MzsRE cases."""

from __future__ import annotations

from collections import Counter

import polars as pl
import pytest

from conftest import shared
from export_helpers import TEMPLATE, bizsre_kept, mixed_kept
from xkde_data.export import assign_splits, build_tlpo, build_xeit, normalize_answer, with_splits
from xkde_data.importers import load_cases
from xkde_data.template import edit_statement


def _user(row) -> str:
    return row["messages"][0]["content"] if "messages" in row else row["prompt"][0]["content"]


def _updates(content: str) -> list[str]:
    block = content.split("[Updated Information]:\n", 1)[1].split("\n\n[Query]:\n", 1)[0]
    return block.split("\n")


def test_xeit_covers_every_query_of_every_pair_with_the_released_template():
    kept = bizsre_kept(30)
    cases = {c.id: c for c in load_cases(shared("bizsre/bizsre_test.json"))[:30]}
    xeit, stats = build_xeit(kept, ["en", "zh"], template=TEMPLATE, distractors=(1.0, 0.0, 0.0))
    assert xeit["config"].unique(maintain_order=True).to_list() == ["en-en", "en-zh", "zh-en", "zh-zh"]
    for (s, t), rows in xeit.group_by(["source_lang", "target_lang"], maintain_order=True):
        for case_id, case in cases.items():
            sb, tb = case.langs[s], case.langs[t]
            got = rows.filter(pl.col("case_id") == case_id)
            expected = ([("reliability", tb.prompt, tb.target_new)]
                        + [("generality", r, tb.target_new) for r in tb.rephrase]
                        + [("portability", qa.prompt, qa.answer) for qa in tb.portability]
                        + [("locality", qa.prompt, qa.answer) for qa in tb.locality])
            assert got.height == len(expected)
            for row, (kind, question, answer) in zip(got.iter_rows(named=True), expected):
                assert row["kind"] == kind and row["corpus"] == "bizsre_test"
                assert [m["role"] for m in row["messages"]] == ["user", "assistant"]
                assert row["messages"][1]["content"] == answer
                assert row["messages"][0]["content"] == TEMPLATE.render(t, [edit_statement(sb.prompt, sb.target_new)],
                                                                        question)
    sample = xeit.filter((pl.col("config") == "en-zh") & (pl.col("kind") == "locality")).row(0, named=True)
    assert _user(sample).startswith("Please acknowledge the updated information provided below and respond "
                                    "to the subsequent query in Chinese.\n\n[Updated Information]:\n")
    assert stats["instances"] == xeit.height and stats["distractors:0"] == xeit.height
    assert stats["instances:en-zh"] == xeit.filter(pl.col("config") == "en-zh").height


def test_distractors_follow_the_probabilities_are_other_edits_and_reproducible():
    kept = bizsre_kept(200)
    statements = {"en": {}, "zh": {}}  # statement -> ids (Bi-ZsRE has a few cases with the same zh edit)
    for r in kept.iter_rows(named=True):
        statements[r["lang"]].setdefault(edit_statement(r["prompt"], r["target_new"]), set()).add(r["id"])
    xeit, stats = build_xeit(kept, ["en", "zh"], template=TEMPLATE, seed=7)
    sizes = Counter()
    for row in xeit.iter_rows(named=True):
        updates = _updates(_user(row))
        owners = [statements[row["source_lang"]][u] for u in updates]
        own = [i for i, ids in enumerate(owners) if row["case_id"] in ids]
        assert len(own) == 1 or all(len(owners[i]) > 1 for i in own)
        assert all(ids - {row["case_id"]} for i, ids in enumerate(owners) if i not in own[:1])
        sizes[len(updates) - 1] += 1
    total = xeit.height
    assert abs(sizes[0] / total - 0.5) < 0.05 and abs(sizes[1] / total - 0.25) < 0.05
    assert abs(sizes[2] / total - 0.25) < 0.05
    assert stats["distractors:2"] == sizes[2]
    # the relevant edit is not always first: order is shuffled
    firsts = [_updates(_user(r))[0] == edit_statement(*_own(kept, r)) for r in xeit.iter_rows(named=True)
              if len(_updates(_user(r))) == 3]
    assert 0.1 < sum(firsts) / len(firsts) < 0.6
    again, _ = build_xeit(kept, ["en", "zh"], template=TEMPLATE, seed=7)
    assert again.equals(xeit)
    other, _ = build_xeit(kept, ["en", "zh"], template=TEMPLATE, seed=8)
    assert not other.equals(xeit)
    # independent of the input's row order: the same instances, only the case order follows the input
    shuffled, _ = build_xeit(kept.reverse(), ["en", "zh"], template=TEMPLATE, seed=7)
    key = ["config", "case_id", "kind"]
    assert shuffled.sort(key, maintain_order=True).equals(xeit.sort(key, maintain_order=True))
    assert build_xeit(kept, ["en", "zh"], template=TEMPLATE, distractors=(0, 0, 1))[1]["distractors:2"] == total
    with pytest.raises(ValueError, match="summing to 1"):
        build_xeit(kept, ["en"], template=TEMPLATE, distractors=(0.5, 0.5, 0.5))


def _own(kept, row):
    own = kept.filter((pl.col("id") == row["case_id"]) & (pl.col("lang") == row["source_lang"])).row(0, named=True)
    return own["prompt"], own["target_new"]


def test_pairs_use_only_cases_with_both_languages():
    kept = mixed_kept(10)
    xeit, stats = build_xeit(kept, ["en", "zh", "de"], template=TEMPLATE)
    by_config = {c: set(rows["corpus"].to_list()) for (c,), rows in xeit.group_by(["config"])}
    assert by_config["en-zh"] == {"bizsre_test"} and by_config["de-en"] == {"mzsre_test_ende"}
    assert by_config["en-en"] == {"bizsre_test", "mzsre_test_ende"}
    assert "zh-de" not in by_config and "de-zh" not in by_config
    assert stats["cases:en-en"] == 20 and stats["cases:en-de"] == 10


def test_splits_keep_distractors_inside_their_split():
    kept = bizsre_kept(60)
    splits = assign_splits(kept["id"].unique().to_list(), validation_fraction=0.3, seed=1)
    xeit, _ = build_xeit(kept, ["en", "zh"], template=TEMPLATE, splits=splits, distractors=(0, 0, 1))
    statement_owner = {edit_statement(r["prompt"], r["target_new"]): r["id"] for r in kept.iter_rows(named=True)}
    for row in xeit.iter_rows(named=True):
        assert row["split"] == splits[row["case_id"]]
        assert {splits[statement_owner[u]] for u in _updates(_user(row))} == {row["split"]}


def test_tlpo_pairs_share_the_xeit_prompt_and_drop_equal_answers():
    kept = mixed_kept(40)
    langs = ["en", "zh", "de"]
    xeit, _ = build_xeit(kept, langs, template=TEMPLATE, seed=3)
    tlpo, stats = build_tlpo(kept, langs, template=TEMPLATE, seed=3)
    assert set(tlpo["config"].unique()) == {"en-zh", "zh-en", "en-de", "de-en"}
    xeit_prompts = {(r["case_id"], r["config"], r["kind"], _user(r)) for r in xeit.iter_rows(named=True)}
    rows = {c.id: c for c in load_cases(shared("bizsre/bizsre_test.json"))[:40]}
    for row in tlpo.iter_rows(named=True):
        assert (row["case_id"], row["config"], row["kind"], _user(row)) in xeit_prompts
        assert [m["role"] for m in row["prompt"]] == ["user"]
        assert row["chosen"][0]["role"] == row["rejected"][0]["role"] == "assistant"
        assert normalize_answer(row["chosen"][0]["content"]) != normalize_answer(row["rejected"][0]["content"])
        if row["kind"] == "reliability" and row["case_id"] in rows:
            case = rows[row["case_id"]]
            assert row["chosen"][0]["content"] == case.langs[row["target_lang"]].target_new
            assert row["rejected"][0]["content"] == case.langs[row["source_lang"]].target_new
    # every cross-lingual XE-IT query is either a pair, an equal (dropped) answer, or has no s counterpart
    cross = xeit.filter(pl.col("source_lang") != pl.col("target_lang"))
    assert stats["pairs"] + stats["dropped_equal"] + stats["no_source_answer"] == cross.height
    for config in ("en-zh", "en-de"):
        assert stats[f"pairs:{config}"] + stats[f"dropped_equal:{config}"] + stats[f"no_source_answer:{config}"] \
            == cross.filter(pl.col("config") == config).height
    # names and numbers are often the same in de and en: a sizeable share is dropped
    assert stats["dropped_equal:en-de"] > 0.2 * cross.filter(pl.col("config") == "en-de").height
    assert "locality" in set(tlpo["kind"])  # locality answers translated differently are kept as pairs


def test_normalize_answer():
    assert normalize_answer("  Paris. ") == normalize_answer("paris")
    assert normalize_answer("２００６") == "2006"
    assert normalize_answer("«Leichtathletik»") == "leichtathletik"
    assert normalize_answer("New   York") == "new york"
    assert normalize_answer("Die Saite") != normalize_answer("The String")
    assert normalize_answer("2006年") != normalize_answer("2006")


def test_assign_splits_is_deterministic_by_id_and_seed():
    ids = [c.id for c in load_cases(shared("bizsre/bizsre_test.json"))]
    splits = assign_splits(ids, validation_fraction=0.05, seed=0)
    assert set(splits) == set(ids) and set(splits.values()) == {"train", "validation"}
    share = sum(v == "validation" for v in splits.values()) / len(ids)
    assert 0.03 < share < 0.07
    assert assign_splits(list(reversed(ids)), validation_fraction=0.05, seed=0) == splits
    subset = assign_splits(ids[:500], validation_fraction=0.05, seed=0)
    assert all(subset[i] == splits[i] for i in ids[:500])  # other ids do not move a case
    assert assign_splits(ids, validation_fraction=0.05, seed=1) != splits
    assert list(assign_splits(["a", "b"], validation_fraction=0.05).values()).count("validation") == 1
    assert set(assign_splits(["a", "b", "c"], validation_fraction=0.0).values()) == {"train"}
    assert assign_splits(["only"], validation_fraction=0.5) in ({"only": "train"}, {"only": "validation"})
    with pytest.raises(ValueError):
        assign_splits(ids, validation_fraction=1.0)


def test_with_splits_adds_the_column_and_refuses_unknown_ids():
    xeit, _ = build_xeit(bizsre_kept(5), ["en"], template=TEMPLATE)
    splits = assign_splits(xeit["case_id"].unique().to_list(), validation_fraction=0.5)
    out = with_splits(xeit, splits)
    assert out["split"].to_list() == [splits[c] for c in xeit["case_id"]]
    with pytest.raises(ValueError, match="no split"):
        with_splits(xeit, {})
