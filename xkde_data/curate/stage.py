"""``curate_stage``: run every check over translated case x language rows; keep, reject, measure."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from ..schema import CASE_SCHEMA, row_to_block
from ..stats import REJECT_SCHEMA, StageResult, Stats
from . import filters as F
from .config import CHECKS, CurationConfig
from .decontam import load_benchmark_index
from .langid import LanguageIdentifier

#: Rejected rows: REJECT_SCHEMA plus the rejected block as JSON for side-by-side examples.
CURATION_REJECT_SCHEMA: dict[str, pl.DataType] = {**REJECT_SCHEMA, "translation": pl.String}

#: One row per translated case x language, for the report's charts.
MEASUREMENT_SCHEMA: dict[str, pl.DataType] = {
    "id": pl.String, "lang": pl.String, "kept": pl.Boolean, "reason": pl.String,
    "length_ratio": pl.Float64, "langid_margin": pl.Float64, "roundtrip_chrf": pl.Float64,
}


@dataclass
class CurationResult(StageResult):
    """A StageResult plus ``measurements`` (:data:`MEASUREMENT_SCHEMA`)."""

    measurements: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=MEASUREMENT_SCHEMA))


class _Row:
    """Checks of one case x language; the first failing check decides the reason, all are listed."""

    __slots__ = ("failures", "length_ratio", "langid_margin", "chrf")

    def __init__(self) -> None:
        self.failures: list[tuple[str, str]] = []
        self.length_ratio: float | None = None
        self.langid_margin: float | None = None
        self.chrf: float | None = None

    def fail(self, reason: str, detail: str | None) -> None:
        if detail is not None:
            self.failures.append((reason, detail))


def _chrf_metric():
    from sacrebleu.metrics import CHRF
    return CHRF()


def curate_stage(source: pl.DataFrame, translated: pl.DataFrame, *, source_lang: str, config: CurationConfig,
                 back_translations: pl.DataFrame | None = None, progress: bool = True) -> CurationResult:
    """Filter translated rows (CASE_SCHEMA) against their source rows; see :mod:`.filters` for reason codes.

    Returns ``kept`` (CASE_SCHEMA), ``rejected`` (:data:`CURATION_REJECT_SCHEMA`,
    stage ``filter``, one row per rejected case x language), ``stats``
    (``input.<lang>``, ``kept.<lang>``, ``rejected.<reason>.<lang>``,
    ``<check>.failed``, ``roundtrip_chrf.skipped``) and ``measurements``.
    """
    stats = Stats()
    sources = {row["id"]: row for row in source.iter_rows(named=True)}
    target_langs = sorted(set(translated["lang"].to_list())) if translated.height else []
    ident = LanguageIdentifier(min_script_share=config.min_script_share, max_foreign_share=config.max_foreign_share,
                               confusable_tolerance=config.confusable_tolerance)
    confusables = tuple(dict.fromkeys(l for l in (*config.confusables, *target_langs) if l != source_lang))
    back = _back_index(back_translations, source_lang)
    chrf = _chrf_metric() if back is not None and config.is_enabled("roundtrip_chrf") else None
    bench = load_benchmark_index(tuple(config.benchmarks)) if config.is_enabled("contaminated") else None
    source_contamination: dict[str, str | None] = {}

    rows = list(translated.iter_rows(named=True))
    results: list[_Row] = []
    iterator = rows
    if progress and rows:
        from tqdm import tqdm
        iterator = tqdm(rows, desc="curate", unit="case×lang", leave=False)
    for row in iterator:
        stats.stat_update(f"input.{row['lang']}")
        res = _Row()
        results.append(res)
        src = sources.get(row["id"])
        if src is None:
            res.fail("structure", "no source-language row for this case")
            continue
        pairs, problem = F.field_pairs(src, row)
        if problem is not None:
            res.fail("structure", problem)
            continue
        lang = row["lang"]
        if lang == source_lang:
            res.fail("structure", f"translated row is in the source language {source_lang}")
            continue
        _run_field_checks(res, pairs, lang, source_lang, config, ident, confusables)
        if chrf is not None:
            _roundtrip(res, back.get((row["id"], lang)), src, config, chrf, stats)
        elif config.is_enabled("roundtrip_chrf"):
            stats.stat_update("roundtrip_chrf.skipped")
        if bench is not None:
            if row["id"] not in source_contamination:
                source_contamination[row["id"]] = _contamination(bench, src, config)
            hit = source_contamination[row["id"]] or _contamination(bench, row, config)
            res.fail("contaminated", hit)

    if config.is_enabled("duplicate"):
        _duplicates(rows, results)

    kept_idx, reject_rows, measure_rows = [], [], []
    for i, (row, res) in enumerate(zip(rows, results)):
        res.failures.sort(key=lambda f: CHECKS.index(f[0]))
        for reason in dict.fromkeys(r for r, _ in res.failures):
            stats.stat_update(f"{reason}.failed")
        reason = res.failures[0][0] if res.failures else None
        if reason is None:
            kept_idx.append(i)
            stats.stat_update(f"kept.{row['lang']}")
        else:
            stats.stat_update(f"rejected.{reason}.{row['lang']}")
            reject_rows.append({
                "id": row["id"], "corpus": row["corpus"], "lang": row["lang"], "stage": "filter", "reason": reason,
                "detail": "; ".join(f"{r}: {d}" if k else d for k, (r, d) in enumerate(res.failures)),
                "translation": json.dumps(row_to_block(row).to_dict(), ensure_ascii=False),
            })
        measure_rows.append({"id": row["id"], "lang": row["lang"], "kept": reason is None, "reason": reason,
                             "length_ratio": res.length_ratio, "langid_margin": res.langid_margin,
                             "roundtrip_chrf": res.chrf})
    kept = translated[kept_idx] if kept_idx else translated.clear()
    return CurationResult(
        kept=kept.select(list(CASE_SCHEMA)),
        rejected=pl.DataFrame(reject_rows, schema=CURATION_REJECT_SCHEMA, orient="row"),
        stats=stats,
        measurements=pl.DataFrame(measure_rows, schema=MEASUREMENT_SCHEMA, orient="row"),
    )


def _run_field_checks(res: _Row, pairs: list[F.FieldPair], lang: str, source_lang: str, config: CurationConfig,
                      ident: LanguageIdentifier, confusables: tuple[str, ...]) -> None:
    on = config.is_enabled
    ratios: list[float] = []
    margins: list[float] = []
    questions = [p for p in pairs if p.kind == "question"]
    if on("wrong_language") and questions:
        # Per field against the source (an untranslated field); the block as a whole against third
        # languages, where there is enough text to tell near languages apart.
        per_field, block = ident.identify_fields([(p.target, p.source) for p in questions], lang,
                                                 source_lang=source_lang, confusables=confusables)
        for pair, verdict in zip(questions, per_field):
            if verdict.method != "none":
                margins.append(verdict.margin)
            if verdict.accepted is False:
                res.fail("wrong_language", f"{pair.name}: not {lang} ({verdict.method} margin {verdict.margin:.2f})")
        if block.method != "none":
            margins.append(block.margin)
        if block.accepted is False:
            res.fail("wrong_language", f"questions: not {lang} as a whole ({block.method} margin {block.margin:.2f})")
    for pair in pairs:
        if on("chatter"):
            res.fail("chatter", F.check_chatter(pair))
        if on("untranslated"):
            res.fail("untranslated", F.check_untranslated(pair))
        if on("wrong_language") and pair.kind != "question":
            res.fail("wrong_language", F.check_answer_script(pair, lang, source_lang))
        if on("number_mismatch"):
            res.fail("number_mismatch", F.check_numbers(pair))
        if on("length_ratio"):
            res.fail("length_ratio", F.check_length(pair, config.min_length_ratio, config.max_length_ratio))
        if pair.kind == "question" and (ratio := F.length_ratio(pair)) is not None:
            ratios.append(ratio)
    if on("answer_inconsistent"):
        res.fail("answer_inconsistent", F.check_answer_consistency(pairs))
    res.length_ratio = min(ratios) if ratios else None
    res.langid_margin = min(margins) if margins else None


def _back_index(back: pl.DataFrame | None, source_lang: str) -> dict[tuple[str, str], dict] | None:
    if back is None:
        return None
    if "from_lang" not in back.columns:
        raise ValueError("back_translations needs a from_lang column")  # a caller bug, not user input
    return {(r["id"], r["from_lang"]): r for r in back.iter_rows(named=True) if r["lang"] == source_lang}


def _roundtrip(res: _Row, back_row: dict | None, src: dict, config: CurationConfig, chrf, stats: Stats) -> None:
    """Reason ``roundtrip_chrf``: the back-translated questions drift from the source (mean chrF)."""
    if back_row is None:
        stats.stat_update("roundtrip_chrf.skipped")
        return
    pairs, problem = F.field_pairs(src, back_row)
    questions = [p for p in pairs if p.kind == "question"] if problem is None else []
    if not questions:
        stats.stat_update("roundtrip_chrf.skipped")
        return
    scores = [chrf.sentence_score(p.target, [p.source]).score for p in questions]
    res.chrf = sum(scores) / len(scores)
    if res.chrf < config.min_roundtrip_chrf:
        worst = min(zip(scores, questions), key=lambda x: x[0])
        res.fail("roundtrip_chrf", f"{worst[1].name}: round-trip chrF {res.chrf:.1f} < {config.min_roundtrip_chrf} "
                                   f"(back-translation {worst[1].target[:50]!r})")


def _contamination(bench, row: dict[str, Any], config: CurationConfig) -> str | None:
    questions = [("prompt", row["prompt"])] + [(f"rephrase[{i}]", r) for i, r in enumerate(row["rephrase"] or [])]
    questions += [(f"portability[{i}].prompt", qa["prompt"]) for i, qa in enumerate(row["portability"] or [])]
    for name, question in questions:
        hit = bench.match(row["subject"], question, config.contamination_overlap)
        if hit:
            return f"{row['lang']}.{name}: {hit}"
    return None


def _duplicates(rows: list[dict], results: list[_Row]) -> None:
    """Reason ``duplicate``: a later row repeats an edit (question, new answer, rephrases; exact, then normalised)."""
    exact: dict[tuple[str, str], str] = {}
    normal: dict[tuple[str, str], str] = {}
    for row, res in zip(rows, results):
        if res.failures:
            continue  # only rows that would be kept can shadow later ones
        # The edit and its in-scope queries make the training instances; the same question with another
        # new answer, or with other rephrases, gives other instances and is not a duplicate.
        key_exact = (row["lang"], row["prompt"], row["target_new"], tuple(row["rephrase"] or ()))
        key_norm = (row["lang"], F.normalize_text(row["prompt"]), F.normalize_text(row["target_new"]),
                    tuple(F.normalize_text(r) for r in row["rephrase"] or ()))
        if key_exact in exact:
            res.fail("duplicate", f"prompt: exact duplicate of {exact[key_exact]}")
        elif key_norm in normal:
            res.fail("duplicate", f"prompt: normalised duplicate of {normal[key_norm]}")
        else:
            exact[key_exact] = normal[key_norm] = row["id"]
