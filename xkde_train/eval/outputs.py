"""Writes the evaluation outputs: results.json, records.jsonl, results.md and results.png (all atomic)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl

from xkde_data.atomic import atomic_write

from .metrics import METRICS

COLUMNS = ("Reliability", "Generality", "Locality", "Portability", "Average")


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def results_markdown(results: dict[str, Any]) -> str:
    """The paper's table: rows = pairs (source→target), columns = the four metrics and their average."""
    lines = [f"# {results['benchmark']['pretty_name']}: {results['model']}", "",
             f"Teacher-forced token accuracy (%), template `{results['template']['name']}` "
             f"({results['template']['hash']}), {results['date']}.", "",
             "| Edit → Query | Records | " + " | ".join(COLUMNS) + " |",
             "|---|---:|" + "---:|" * len(COLUMNS)]
    for pair, entry in results["pairs"].items():
        src, tgt = pair.split("-")
        cells = [_fmt(entry[m]) for m in (*METRICS, "average")]
        lines.append(f"| {src} → {tgt} | {entry['records']} | " + " | ".join(cells) + " |")
    if any("generation" in e for e in results["pairs"].values()):
        lines += ["", "Greedy generation (in-scope queries: reliability, generality, portability; %).", "",
                  "| Edit → Query | Exact match | Token F1 | Answer in query language |", "|---|---:|---:|---:|"]
        for pair, entry in results["pairs"].items():
            gen = entry.get("generation")
            if gen:
                src, tgt = pair.split("-")
                lines.append(f"| {src} → {tgt} | {_fmt(gen['exact_match']['average'])} | "
                             f"{_fmt(gen['token_f1']['average'])} | {_fmt(gen['language_consistency'])} |")
    return "\n".join(lines) + "\n"


def write_chart(path: Path, results: dict[str, Any]) -> None:
    """Grouped bars: one group per pair, one bar per metric."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pairs = list(results["pairs"])
    keys = (*METRICS, "average")
    width = 0.8 / len(keys)
    fig, ax = plt.subplots(figsize=(max(6, 1.6 * len(pairs) + 2), 4))
    for k, (key, label) in enumerate(zip(keys, COLUMNS)):
        ax.bar([i + k * width for i in range(len(pairs))], [results["pairs"][p][key] or 0 for p in pairs],
               width, label=label)
    ax.set_xticks([i + width * (len(keys) - 1) / 2 for i in range(len(pairs))])
    ax.set_xticklabels([p.replace("-", " → ") for p in pairs])
    ax.set_ylabel("accuracy (%)")
    ax.set_ylim(0, 100)
    ax.set_title(f"{results['benchmark']['pretty_name']}: {Path(results['model']).name}")
    ax.legend(ncol=len(keys), fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.1))
    fig.tight_layout()
    atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=120))
    plt.close(fig)


def write_outputs(out_dir: str | Path, results: dict[str, Any], scored: pl.DataFrame) -> dict[str, Path]:
    """Write the four output files; returns their paths by kind."""
    out = Path(out_dir)
    paths = {"records": out / "records.jsonl", "markdown": out / "results.md", "chart": out / "results.png",
             "results": out / "results.json"}

    def write_records(tmp: str) -> None:
        with open(tmp, "w", encoding="utf-8") as fh:
            for row in scored.sort("record").iter_rows(named=True):
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")

    atomic_write(paths["records"], write_records)
    atomic_write(paths["markdown"], lambda tmp: Path(tmp).write_text(results_markdown(results), encoding="utf-8"))
    write_chart(paths["chart"], results)
    # results.json last: its presence means the run is complete.
    atomic_write(paths["results"], lambda tmp: Path(tmp).write_text(
        json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"))
    return paths
