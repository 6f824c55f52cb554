"""``xkde-train eval``: the Bi-ZsRE / MzsRE cross-lingual editing benchmark."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ..eval.benchmarks import BENCHMARKS


def eval_command(
    model: Annotated[str, typer.Option("--model", "-m", help="Model to evaluate: a local folder or a Hub id.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder: results.json, records.jsonl, "
                                                           "results.md, results.png.")],
    benchmark: Annotated[str, typer.Option(
        "--benchmark", "-b",
        help=f"{' | '.join(BENCHMARKS)} (looked up in $XKDE_BENCHMARK_DIR, then ../shared/data beside the "
             "checkout), or a path to a Bi-ZsRE-style JSON file, folder or glob.")] = "bizsre",
    pairs: Annotated[Optional[str], typer.Option(
        "--pairs", help="Comma-separated pairs s-t: the edit is given in s, the query and answer are in t "
                        "(e.g. en-en,en-zh,zh-en,zh-zh). Default: the benchmark's paper pairs.")] = None,
    all_pairs: Annotated[bool, typer.Option("--all-pairs", help="Every pair the benchmark's files cover.")] = False,
    batch_size: Annotated[int, typer.Option("--batch-size", help="Sequences per forward pass (32 suits CPUs; raise it on a GPU).")] = 32,
    limit: Annotated[Optional[int], typer.Option("--limit", help="Evaluate only the first N cases per pair.")] = None,
    system_prompt: Annotated[Optional[str], typer.Option("--system-prompt", help="System message for the chat.")] = None,
    chat_template: Annotated[Optional[Path], typer.Option(
        "--chat-template", help="Jinja chat template file, for models that have none.")] = None,
    generate: Annotated[bool, typer.Option(
        "--generate/--no-generate", help="Also generate answers greedily: exact match, token F1 and "
                                         "answer-language consistency.")] = True,
    max_new_tokens: Annotated[int, typer.Option("--max-new-tokens", help="Generation length limit.")] = 24,
    dtype: Annotated[Optional[str], typer.Option(
        "--dtype", help="float32 | bfloat16 | float16 (default: float32 on CPU, bfloat16 on GPU).")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars or summary table.")] = False,
) -> None:
    """Score a model on cross-lingual knowledge editing (the X-KDE protocol, teacher-forced).

    For each pair s-t, the edit "{s prompt} {s new answer}" is given in context (the XE-IT template) and the
    query is asked in t. Reliability, generality and portability are the share of answer tokens the model
    predicts; locality is the agreement of its predictions on an unrelated question with and without the
    edit. Run under `accelerate launch` to split the records across processes.
    """
    from ..eval.runner import EvalOptions, run_eval

    options = EvalOptions(model=model, benchmark=benchmark, pairs=pairs, all_pairs=all_pairs, batch_size=batch_size,
                          limit=limit, system_prompt=system_prompt,
                          chat_template=str(chat_template) if chat_template else None, generate=generate,
                          max_new_tokens=max_new_tokens, dtype=dtype)
    results = run_eval(options, out, show_progress=not quiet)
    if results is None or quiet:
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{results['benchmark']['pretty_name']} — {model}")
    for col in ("edit → query", "records", "Reliability", "Generality", "Locality", "Portability", "Average"):
        table.add_column(col, justify="left" if col.startswith("edit") else "right")
    has_gen = any("generation" in e for e in results["pairs"].values())
    if has_gen:
        table.add_column("EM", justify="right")
        table.add_column("F1", justify="right")
        table.add_column("in lang", justify="right")
    fmt = lambda v: "–" if v is None else f"{v:.2f}"  # noqa: E731
    for pair, e in results["pairs"].items():
        cells = [pair.replace("-", " → "), str(e["records"])]
        cells += [fmt(e[k]) for k in ("reliability", "generality", "locality", "portability", "average")]
        if has_gen:
            g = e["generation"]
            cells += [fmt(g["exact_match"]["average"]), fmt(g["token_f1"]["average"]), fmt(g["language_consistency"])]
        table.add_row(*cells)
    console = Console()
    console.print(table)
    console.print(f"wrote {out}/results.json, records.jsonl, results.md, results.png")
