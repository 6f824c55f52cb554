"""Calibration on gold parallel data: gold blocks must pass, synthetic corruptions must not.

The target blocks of the MzsRE and Bi-ZsRE test files are human/reviewed
translations of their English blocks (the "corpus translator"), so a filter
that rejects them is too strict; each corruption below is a failure mode of
machine translation that a filter must catch.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from ..importers import load_cases
from ..schema import cases_to_frame
from .config import CurationConfig
from .stage import curate_stage

#: Chatter as LLM translators produce it, in English and in target languages.
CHATTER_PREFIXES = ("Here is the translation: ", "Translation: ", "Sure! Here's the translation:\n",
                    "Voici la traduction : ", "Hier ist die Übersetzung: ", "Traducción: ", "以下是翻译：",
                    "Translated question: ")
CORRUPTIONS = ("copy_source", "other_language", "chatter_prefix", "truncated", "changed_number")


@dataclass
class GoldSet:
    name: str
    lang: str
    source: pl.DataFrame  # en rows
    translated: pl.DataFrame  # gold target rows
    other: pl.DataFrame | None  # another language's rows for the same cases (same ids)


def load_gold(shared_data: Path, limit: int | None = None) -> list[GoldSet]:
    """MzsRE en->{zh,de,fr,es} and Bi-ZsRE en->zh as (source, translated) long tables."""
    shared_data = Path(shared_data)
    mzsre = {lang: cases_to_frame(load_cases(str(shared_data / f"mzsre/mzsre_test_en{lang}.json"), limit=limit))
             for lang in ("zh", "de", "fr", "es")}
    partner = {"zh": "de", "de": "fr", "fr": "es", "es": "de"}
    sets = []
    for lang, frame in mzsre.items():
        other = mzsre[partner[lang]].filter(pl.col("lang") == partner[lang])
        other = other.with_columns(pl.Series("id", frame.filter(pl.col("lang") == lang)["id"]))  # aligned by record
        sets.append(GoldSet(f"mzsre en->{lang}", lang, frame.filter(pl.col("lang") == "en"),
                            frame.filter(pl.col("lang") == lang), other))
    biz = cases_to_frame(load_cases(str(shared_data / "bizsre/bizsre_test.json"), limit=limit))
    source = biz.filter(pl.col("lang") == "en")
    # Bi-ZsRE shares its English questions with MzsRE: the German block of the same question is "another language".
    de_by_prompt = {r["prompt"]: r for r in mzsre["de"].filter(pl.col("lang") == "en").iter_rows(named=True)}
    de_rows = {r["id"]: r for r in mzsre["de"].filter(pl.col("lang") == "de").iter_rows(named=True)}
    other_rows = []
    for r in source.iter_rows(named=True):
        match = de_by_prompt.get(r["prompt"])
        if match is not None:
            other_rows.append({**de_rows[match["id"]], "id": r["id"], "corpus": r["corpus"]})
    other = pl.DataFrame(other_rows, schema=biz.schema, orient="row") if other_rows else None
    sets.append(GoldSet("bizsre en->zh", "zh", source, biz.filter(pl.col("lang") == "zh"), other))
    return sets


def _map_prompt(frame: pl.DataFrame, fn) -> pl.DataFrame:
    return frame.with_columns(pl.col("prompt").map_elements(fn, return_dtype=pl.String))


def _change_number(text: str) -> str:
    # Shift the first number by one: 2006 -> 2007, as a wrong year or count would.
    return re.sub(r"\d+", lambda m: str(int(m.group(0)) + 1), text, count=1)


def corrupt(gold: GoldSet, kind: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(source, corrupted translated) for one corruption; only cases where it applies."""
    source, translated = gold.source, gold.translated
    if kind == "copy_source":
        return source, source.with_columns(pl.lit(gold.lang).alias("lang"))
    if kind == "other_language":
        if gold.other is None:
            return source.clear(), translated.clear()
        other = gold.other.with_columns(pl.lit(gold.lang).alias("lang"))
        return source.filter(pl.col("id").is_in(other["id"].implode())), other
    if kind == "chatter_prefix":
        prefixes = iter(CHATTER_PREFIXES * (translated.height // len(CHATTER_PREFIXES) + 1))
        return source, _map_prompt(translated, lambda p: next(prefixes) + p)
    if kind == "truncated":
        return source, _map_prompt(translated, lambda p: p[: int(len(p) * 0.4)])
    if kind == "changed_number":
        with_digits = source.filter(pl.col("target_new").str.contains(r"\d"))["id"]
        sel = translated.filter(pl.col("id").is_in(with_digits.implode()) & pl.col("target_new").str.contains(r"\d"))
        sel = sel.with_columns(pl.col("target_new").map_elements(_change_number, return_dtype=pl.String))
        return source.filter(pl.col("id").is_in(sel["id"].implode())), sel
    raise ValueError(f"unknown corruption {kind!r}")


def calibrate(shared_data: Path, *, limit: int | None = None, config: CurationConfig | None = None) -> list[dict]:
    """One row per gold set: gold acceptance and the rejection rate of each corruption (decontamination off)."""
    # The calibration build translates into all four languages: they are each other's confusables.
    config = config or CurationConfig(decontaminate=False, confusables=("zh", "de", "fr", "es"))
    rows = []
    for gold in load_gold(shared_data, limit):
        result = curate_stage(gold.source, gold.translated, source_lang="en", config=config, progress=False)
        row = {"set": gold.name, "lang": gold.lang, "cases": gold.translated.height,
               "gold_accepted": result.kept.height / max(1, gold.translated.height),
               "gold_rejects": result.rejected}
        for kind in CORRUPTIONS:
            source, bad = corrupt(gold, kind)
            if bad.height == 0:
                row[kind] = None
                continue
            res = curate_stage(source, bad, source_lang="en", config=config, progress=False)
            row[kind] = res.rejected.height / bad.height
            row[f"{kind}_n"] = bad.height
            row[f"{kind}_missed"] = res.kept
        rows.append(row)
    return rows
