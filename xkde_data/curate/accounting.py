"""Build accounting: the ``report/stats.json`` contract and the ``input == kept + rejected`` invariant.

``stats.json``::

    {"format": 1, "source_lang": "en",
     "languages": {"zh": {"input": N, "kept": K, "rejected": {"<reason>": n, ...}}, ...},
     "rejected_by_stage": {"zh": {"filter": n, ...}},
     "reasons": {"<reason>": "what it means", ...},
     "signature": {...}, ...extra keys (translation, instances, pairs, checks)}
"""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

STATS_FORMAT = 1

#: Reason codes of every stage that may appear in a build (import, translate, filter).
#: Other stages register theirs with :func:`register_reasons`.
KNOWN_REASONS: dict[str, str] = {
    "structure": "the translated block lacks fields of the source (or has extra items)",
    "chatter": "wrapper text around a value (\"Here is the translation\", labels, quotes, code fences)",
    "untranslated": "a question copied from the source",
    "wrong_language": "a field not in the target language (language ID / script)",
    "number_mismatch": "a number or date of the source missing from the translation",
    "answer_inconsistent": "the source repeats the answer in a question, the translation does not",
    "length_ratio": "length out of bounds, or a question lost its final punctuation (truncation)",
    "roundtrip_chrf": "the back-translation drifts from the source (chrF)",
    "duplicate": "repeats an earlier edit of the build",
    "contaminated": "asks a question of an evaluation benchmark (Bi-ZsRE, MzsRE test)",
    "missing_answer": "import: a parallel line without an answer",
}


def register_reasons(reasons: dict[str, str]) -> None:
    """Add reason codes of another stage so that reports accept them."""
    KNOWN_REASONS.update(reasons)


class AccountingError(AssertionError):
    """``input != kept + rejected`` for a language: a bug in a stage, never a user mistake."""


def build_stats(source_lang: str, target_langs: Iterable[str], input_counts: dict[str, int],
                rejected: pl.DataFrame, kept_counts: dict[str, int], signature: dict, extra: dict | None = None) -> dict:
    """The ``stats.json`` contract from counts and the rejects of all stages (one row per case x language)."""
    languages: dict[str, dict] = {}
    by_stage: dict[str, dict[str, int]] = {}
    counts = (rejected.group_by(["lang", "stage", "reason"]).len().sort(["lang", "stage", "reason"]).iter_rows()
              if rejected.height else [])
    per_lang_reason: dict[str, dict[str, int]] = {}
    for lang, stage, reason, n in counts:
        per_lang_reason.setdefault(lang, {})
        per_lang_reason[lang][reason] = per_lang_reason[lang].get(reason, 0) + n
        by_stage.setdefault(lang, {})
        by_stage[lang][stage] = by_stage[lang].get(stage, 0) + n
    for lang in target_langs:
        languages[lang] = {"input": int(input_counts.get(lang, 0)), "kept": int(kept_counts.get(lang, 0)),
                           "rejected": dict(sorted(per_lang_reason.get(lang, {}).items()))}
    stray = sorted(set(per_lang_reason) - set(languages))
    if stray:
        raise AccountingError(f"rejects for languages outside the build: {stray}")
    # The build documents its own reason codes, so a report reads codes of stages it does not import.
    codes = sorted({r for entry in languages.values() for r in entry["rejected"]})
    reasons = {code: KNOWN_REASONS.get(code, "(undocumented: register it with register_reasons)") for code in codes}
    stats = {"format": STATS_FORMAT, "source_lang": source_lang, "languages": languages,
             "rejected_by_stage": by_stage, "reasons": reasons, "signature": signature}
    for key, value in (extra or {}).items():
        if key in stats:
            raise AccountingError(f"extra key {key!r} would overwrite the contract")
        stats[key] = value
    return stats


def check_accounting(stats: dict) -> None:
    """Raise AccountingError unless every language has ``input == kept + sum(rejected)``."""
    problems = []
    for lang, entry in stats.get("languages", {}).items():
        rejected = sum(entry.get("rejected", {}).values())
        if entry["input"] != entry["kept"] + rejected:
            problems.append(f"{lang}: input {entry['input']} != kept {entry['kept']} + rejected {rejected}")
    if problems:
        raise AccountingError("accounting violated: " + "; ".join(problems))
