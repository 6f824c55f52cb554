"""Per-record metrics from the probes, and their per-pair summary (the paper's table)."""

from __future__ import annotations

from typing import Any

import polars as pl

from .generation import exact_match, generate_answers, in_language, token_f1
from .records import IN_SCOPE, PROBES
from .scorer import agreement, score_probes

#: The paper's columns, in its order.
METRICS = ("reliability", "generality", "locality", "portability")


def score_records(model, tokenizer, records: pl.DataFrame, *, batch_size: int = 32, generate: bool = True,
                  max_new_tokens: int = 24, show_progress: bool = False) -> pl.DataFrame:
    """Per-record metrics (fractions in [0, 1]) and, with ``generate``, greedy answers and their scores."""
    # Probes record by record, in PROBES order, read column-wise (no per-row dicts).
    probe_columns = [list(zip(records[f"{p}_prompt"], records[f"{p}_answer"])) for p in PROBES]
    probes = [probe for record_probes in zip(*probe_columns) for probe in record_probes]
    results = score_probes(model, tokenizer, probes, batch_size=batch_size, show_progress=show_progress)
    by_name = {p: results[k::len(PROBES)] for k, p in enumerate(PROBES)}
    frame = records.select("record", "id", "pair", "src", "tgt", "file", "index", "edit").with_columns(
        pl.Series("reliability", [r.accuracy for r in by_name["reliability"]], dtype=pl.Float64),
        pl.Series("generality", [r.accuracy for r in by_name["generality"]], dtype=pl.Float64),
        pl.Series("locality", [agreement(plain.predicted_ids, edit.predicted_ids)
                               for plain, edit in zip(by_name["locality_plain"], by_name["locality_edit"])],
                  dtype=pl.Float64),
        pl.Series("portability", [r.accuracy for r in by_name["portability"]], dtype=pl.Float64),
    )
    if not generate:
        return frame
    rows = records.to_dicts()
    prompts = [row[f"{p}_prompt"] for row in rows for p in IN_SCOPE]
    answers = generate_answers(model, tokenizer, prompts, batch_size=batch_size, max_new_tokens=max_new_tokens,
                               show_progress=show_progress)
    gen_cols: dict[str, list] = {f"gen_{p}_{c}": [] for p in IN_SCOPE for c in ("text", "em", "f1", "in_lang")}
    for k, row in enumerate(rows):
        source_lang = row["src"] if row["src"] != row["tgt"] else None
        for j, p in enumerate(IN_SCOPE):
            text, gold = answers[k * len(IN_SCOPE) + j], row[f"{p}_answer"]
            gen_cols[f"gen_{p}_text"].append(text)
            gen_cols[f"gen_{p}_em"].append(exact_match(text, gold, row["tgt"]))
            gen_cols[f"gen_{p}_f1"].append(token_f1(text, gold, row["tgt"]))
            gen_cols[f"gen_{p}_in_lang"].append(in_language(text, row["tgt"], source_lang))
    return frame.with_columns(pl.Series(k, v, dtype=pl.Boolean if k.endswith("in_lang") else None)
                              for k, v in gen_cols.items())


def _pct(value: float | None) -> float | None:
    return None if value is None else round(100 * value, 2)


def summarize(scored: pl.DataFrame) -> dict[str, dict[str, Any]]:
    """Per pair (in first-seen order): the four metrics and their average (x100, two decimals), records, generation."""
    summary: dict[str, dict[str, Any]] = {}
    for pair in scored["pair"].unique(maintain_order=True).to_list():
        part = scored.filter(pl.col("pair") == pair)
        means = {m: float(part[m].mean()) for m in METRICS}
        entry: dict[str, Any] = {m: _pct(means[m]) for m in METRICS}
        entry["average"] = _pct(sum(means.values()) / len(METRICS))
        entry["records"] = part.height
        if "gen_reliability_text" in part.columns:
            em = {p: float(part[f"gen_{p}_em"].mean()) for p in IN_SCOPE}
            f1 = {p: float(part[f"gen_{p}_f1"].mean()) for p in IN_SCOPE}
            judged = pl.concat([part[f"gen_{p}_in_lang"] for p in IN_SCOPE]).drop_nulls()
            entry["generation"] = {
                "exact_match": {**{p: _pct(v) for p, v in em.items()}, "average": _pct(sum(em.values()) / len(em))},
                "token_f1": {**{p: _pct(v) for p, v in f1.items()}, "average": _pct(sum(f1.values()) / len(f1))},
                # Share of in-scope generated answers in the query language (None: language ID not installed).
                "language_consistency": _pct(float(judged.cast(pl.Float64).mean())) if judged.len() else None,
            }
        summary[pair] = entry
    return summary
