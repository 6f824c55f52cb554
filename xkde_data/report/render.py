"""Render the report from a build directory: Markdown, self-contained HTML and matplotlib charts."""

from __future__ import annotations

import base64
import html
import json
import re
from pathlib import Path

import polars as pl

from ..curate.accounting import KNOWN_REASONS
from ..atomic import atomic_write
from ..schema import row_to_block
from .build_dir import BuildData, load_build

# Names of settings that hold credentials ("api_key", "hf_token"); counts such as "tokens" are not secrets.
_SECRET_KEY = re.compile(r"(^|_)(key|token|secret|password|authorization|credentials?)$", re.IGNORECASE)


def redact(value):
    """Signatures never carry secrets; anything that looks like one is masked before it is written."""
    if isinstance(value, dict):
        return {k: ("***" if _SECRET_KEY.search(str(k)) and v else redact(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    if isinstance(value, str) and re.search(r"\b(sk|hf)[-_][A-Za-z0-9_\-]{16,}", value):
        return "***"
    return value


# ------------------------------------------------------------------ charts

def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> Path:
    atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight"))
    _plt().close(fig)
    return path


def chart_outcomes(stats: dict, path: Path) -> Path:
    """Stacked bars per language: kept, then rejected by reason."""
    plt = _plt()
    langs = list(stats["languages"])
    reasons = sorted({r for e in stats["languages"].values() for r in e.get("rejected", {})})
    fig, ax = plt.subplots(figsize=(max(4, 1.2 * len(langs) + 2), 3.6))
    bottom = [0] * len(langs)
    series = [("kept", [stats["languages"][lang]["kept"] for lang in langs])]
    series += [(r, [stats["languages"][lang].get("rejected", {}).get(r, 0) for lang in langs]) for r in reasons]
    for name, values in series:
        ax.bar(langs, values, bottom=bottom, label=name)
        bottom = [b + v for b, v in zip(bottom, values)]
    ax.set_ylabel("case × language")
    ax.set_title("Kept and rejected by reason")
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
    return _save(fig, path)


def chart_histogram(measurements: pl.DataFrame, column: str, title: str, xlabel: str, path: Path) -> Path | None:
    data = measurements.filter(pl.col(column).is_not_null()) if column in measurements.columns else None
    if data is None or data.height == 0:
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 3.2))
    for lang in sorted(set(data["lang"].to_list())):
        ax.hist(data.filter(pl.col("lang") == lang)[column].to_list(), bins=40, alpha=0.55, label=lang)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("case × language")
    ax.legend(fontsize=8)
    return _save(fig, path)


# ------------------------------------------------------------------ content

def _table(header: list[str], rows: list[list]) -> tuple[str, str]:
    """The same table as Markdown and HTML."""
    def cell_md(value) -> str:
        return str(value).replace("|", "\\|").replace("\n", " ")

    md = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    md += ["| " + " | ".join(cell_md(v) for v in row) + " |" for row in rows]
    h = ["<table><thead><tr>" + "".join(f"<th>{html.escape(str(c))}</th>" for c in header) + "</tr></thead><tbody>"]
    h += ["<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>" for row in rows]
    h.append("</tbody></table>")
    return "\n".join(md), "".join(h)


def _summary_rows(stats: dict) -> list[list]:
    rows = []
    for lang, e in stats["languages"].items():
        rejected = sum(e.get("rejected", {}).values())
        rate = e["kept"] / e["input"] if e["input"] else 0.0
        rows.append([lang, e["input"], e["kept"], rejected, f"{rate:.1%}"])
    return rows


def _reason_rows(stats: dict) -> list[list]:
    documented = stats.get("reasons", {})
    totals: dict[str, int] = {}
    for e in stats["languages"].values():
        for reason, n in e.get("rejected", {}).items():
            totals[reason] = totals.get(reason, 0) + n
    langs = list(stats["languages"])
    return [[reason, KNOWN_REASONS.get(reason) or documented.get(reason, ""), *[stats["languages"][l].get("rejected", {}).get(reason, 0) for l in langs],
             n] for reason, n in sorted(totals.items(), key=lambda kv: -kv[1])]


def _block_text(block: dict | None) -> str:
    if not block:
        return "—"
    parts = [f"prompt: {block.get('prompt')}", f"target_new: {block.get('target_new')}"]
    if block.get("subject"):
        parts.insert(0, f"subject: {block['subject']}")
    parts += [f"rephrase: {r}" for r in block.get("rephrase") or []]
    parts += [f"locality: {q.get('prompt')} → {q.get('answer')}" for q in block.get("locality") or []]
    parts += [f"portability: {q.get('prompt')} → {q.get('answer')}" for q in block.get("portability") or []]
    return "\n".join(parts)


def _examples(data: BuildData, max_examples: int) -> dict[str, list[tuple[dict, str, str]]]:
    """Up to N rejected examples per reason: (reject row, source text, translation text)."""
    source_lang = data.stats["source_lang"]
    sources = {r["id"]: r for r in data.kept.filter(pl.col("lang") == source_lang).iter_rows(named=True)}
    out: dict[str, list] = {}
    for row in data.rejected.iter_rows(named=True):
        bucket = out.setdefault(row["reason"], [])
        if len(bucket) >= max_examples:
            continue
        src = sources.get(row["id"])
        source_text = _block_text(row_to_block(src).to_dict()) if src else "—"
        try:
            translation = _block_text(json.loads(row["translation"])) if row.get("translation") else "—"
        except (json.JSONDecodeError, TypeError):
            translation = "(unreadable)"
        bucket.append((row, source_text, translation))
    return out


def _dict_rows(value: dict, prefix: str = "") -> list[list]:
    rows = []
    for key, v in value.items():
        if isinstance(v, dict):
            rows += _dict_rows(v, f"{prefix}{key}.")
        else:
            rows.append([f"{prefix}{key}", json.dumps(v, ensure_ascii=False) if isinstance(v, (list, bool)) or v is None
                         else v])
    return rows


# ------------------------------------------------------------------ documents

_CSS = ("body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}"
        "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;vertical-align:top;"
        "text-align:left}th{background:#f3f3f3}pre{white-space:pre-wrap;margin:0;font-size:12px}img{max-width:100%}")


def write_report(build_dir: Path, *, max_examples: int = 5, name: str | None = None) -> Path:
    """Write ``report/report.md``, ``report/report.html`` and charts for a build; returns the HTML path."""
    data = load_build(Path(build_dir))
    out = data.root / "report"
    stats = data.stats
    charts: list[tuple[str, Path]] = [("Kept vs rejected by reason", chart_outcomes(stats, out / "outcomes.png"))]
    if data.measurements is not None:
        for column, title, xlabel, name in (
            ("length_ratio", "Length ratio (translation / source, Latin-letter equivalents)", "ratio", "length_ratio.png"),
            ("roundtrip_chrf", "Round-trip chrF", "chrF", "roundtrip_chrf.png"),
            ("langid_margin", "Language-ID margin (> 0: target language wins)", "margin", "langid_margin.png"),
        ):
            chart = chart_histogram(data.measurements, column, title, xlabel, out / name)
            if chart is not None:
                charts.append((title, chart))

    # The build renders its report in a temp folder before the swap, so it passes the final name.
    title = name or data.root.name
    md: list[str] = [f"# Build quality report: {title}", ""]
    body: list[str] = [f"<h1>Build quality report: {html.escape(title)}</h1>"]

    def section(title: str) -> None:
        md.extend([f"## {title}", ""])
        body.append(f"<h2>{html.escape(title)}</h2>")

    def table(header, rows) -> None:
        t_md, t_html = _table(header, rows)
        md.extend([t_md, ""])
        body.append(t_html)

    section("Summary")
    table(["language", "input", "kept", "rejected", "kept %"], _summary_rows(stats))
    section("Rejected by reason")
    reason_rows = _reason_rows(stats)
    if reason_rows:
        table(["reason", "what it means", *stats["languages"], "total"], reason_rows)
    else:
        md.extend(["Nothing was rejected.", ""])
        body.append("<p>Nothing was rejected.</p>")
    section("Charts")
    for title, path in charts:
        md.extend([f"![{title}]({path.name})", ""])
        encoded = base64.b64encode(path.read_bytes()).decode("ascii")
        body.append(f"<figure><img alt=\"{html.escape(title)}\" src=\"data:image/png;base64,{encoded}\">"
                    f"<figcaption>{html.escape(title)}</figcaption></figure>")
    section(f"Rejected examples (up to {max_examples} per reason)")
    for reason, items in _examples(data, max_examples).items():
        md.extend([f"### {reason}", ""])
        body.append(f"<h3>{html.escape(reason)}</h3><table><thead><tr><th>case</th><th>detail</th>"
                    f"<th>source ({html.escape(stats['source_lang'])})</th><th>translation</th></tr></thead><tbody>")
        md.extend(["| case | detail | source | translation |", "|---|---|---|---|"])
        for row, source_text, translation in items:
            case = f"{row['id']} ({row['lang']}, {row['stage']})"
            md.append("| " + " | ".join(x.replace("|", "\\|").replace("\n", "<br>")
                                        for x in (case, row["detail"] or "", source_text, translation)) + " |")
            body.append("<tr>" + "".join(f"<td><pre>{html.escape(x)}</pre></td>"
                                         for x in (case, row["detail"] or "", source_text, translation)) + "</tr>")
        md.append("")
        body.append("</tbody></table>")
    for key, title in (("translation", "Translation statistics"), ("instances", "XE-IT instances"),
                       ("pairs", "TL-PO pairs")):
        if isinstance(stats.get(key), dict):
            section(title)
            table(["key", "value"], _dict_rows(redact(stats[key])))
    extra = {k: v for k, v in stats.items()
             if k not in ("format", "source_lang", "languages", "rejected_by_stage", "reasons", "signature",
                          "translation", "instances", "pairs")}
    if extra:
        section("Other statistics")
        table(["key", "value"], _dict_rows(redact(extra)))
    section("Build signature")
    table(["key", "value"], _dict_rows(redact(stats.get("signature") or {})))

    md_text = "\n".join(md) + "\n"
    html_text = ("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Build quality report</title>"
                 f"<style>{_CSS}</style></head><body>{''.join(body)}</body></html>\n")
    atomic_write(out / "report.md", lambda tmp: Path(tmp).write_text(md_text, encoding="utf-8"))
    atomic_write(out / "report.html", lambda tmp: Path(tmp).write_text(html_text, encoding="utf-8"))
    return out / "report.html"
