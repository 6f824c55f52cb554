"""``xkde-data translate``: translate a corpus's source-language blocks into target languages."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import polars as pl
import typer

from .options import (ApiKey, BaseUrl, Cache, Concurrency, CorpusFormat, MaxRetries, MaxTokens, Model,
                      Progress, ResponseFormat, Rpm, SourceLang, Temperature, Timeout, Tpm)
from ..corpora import resolve
from ..errors import XkdeError
from ..importers import import_corpus
from ..langs import normalize_code, parse_lang_list
from ..schema import CASE_SCHEMA, cases_to_frame, write_parquet
from ..stats import StageResult, Stats, rejects_frame
from ..translate import (TranslatorConfig, estimate, ingest_batch_results, submit_batch, translate_stage,
                         write_batch_requests)


def rejects_path(out: Path) -> Path:
    """Where the rejected rows go: ``NAME.rejects.parquet`` beside ``NAME.parquet``."""
    return out.with_name(f"{out.stem}.rejects.parquet")


def assemble(frame_source: pl.DataFrame, kept: pl.DataFrame, targets: list[str]) -> pl.DataFrame:
    """Source rows and translated rows, grouped per case in source order, source language first."""
    order = {case_id: i for i, case_id in enumerate(frame_source["id"].to_list())}
    lang_rank = {lang: i + 1 for i, lang in enumerate(targets)}
    both = pl.concat([frame_source.select(list(CASE_SCHEMA)), kept.select(list(CASE_SCHEMA))], how="vertical")
    return (both.with_columns(pl.col("id").replace_strict(order, return_dtype=pl.Int64).alias("_case"),
                              pl.col("lang").replace_strict(lang_rank, default=0, return_dtype=pl.Int64).alias("_lang"))
            .sort(["_case", "_lang"], maintain_order=True).drop(["_case", "_lang"]))


def translate(
    corpus: Annotated[str, typer.Argument(help="Corpus path or known name (demo, bizsre, ...), as for 'inspect'.")],
    langs: Annotated[str, typer.Option("--langs", help="Target languages, comma-separated ISO 639-1 codes: zh,de.")],
    out: Annotated[Optional[Path], typer.Option("--out", help="Output .parquet: source rows + translated rows. "
                                                "Rejected rows go to NAME.rejects.parquet beside it.")] = None,
    source_lang: SourceLang = "en",
    translator: Annotated[str, typer.Option("--translator", help="openai: any OpenAI-compatible server (OpenAI, "
                                            "Azure, vLLM, Ollama, llama.cpp); corpus: take the target blocks that "
                                            "already exist in the corpus (no requests).")] = "openai",
    model: Model = None,
    base_url: BaseUrl = None,
    api_key: ApiKey = None,
    temperature: Temperature = 0.0,
    max_tokens: MaxTokens = 2048,
    concurrency: Concurrency = 16,
    rpm: Rpm = None,
    tpm: Tpm = None,
    timeout: Timeout = 60.0,
    max_retries: MaxRetries = 4,
    response_format: ResponseFormat = "json_schema",
    cache: Cache = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print requests and estimated tokens; spend nothing.")] = False,
    batch_file: Annotated[Optional[Path], typer.Option("--batch-file", help="Write an OpenAI Batch input file of "
                                                       "the uncached requests (split at 50,000 lines).")] = None,
    batch_results: Annotated[Optional[list[Path]], typer.Option("--batch-results", help="Ingest Batch/vLLM result "
                                                                "files into the cache, then write --out without "
                                                                "making requests.")] = None,
    batch: Annotated[Optional[str], typer.Option("--batch", help="'submit': upload --batch-file, poll until done, "
                                                 "ingest the results.")] = None,
    poll_seconds: Annotated[float, typer.Option("--poll-seconds", help="Batch status poll interval.")] = 30.0,
    limit: Annotated[Optional[int], typer.Option("--limit", help="Only the first N cases.")] = None,
    format: CorpusFormat = None,
    progress: Progress = True,
) -> None:
    """Translate the source-language blocks of a corpus, one JSON-in/JSON-out request per case and language.

    Replies are validated (same keys, non-empty values), cached in SQLite and resumable: rerunning after an interruption requests only what is missing. Ends with an accounting table.
    """
    from rich.console import Console

    console = Console(stderr=False)
    targets = parse_lang_list(langs)
    source_lang = normalize_code(source_lang)
    if batch is not None and batch != "submit":
        raise XkdeError(f"--batch: unknown action {batch!r} (only 'submit')")
    if batch == "submit" and batch_file is None:
        raise XkdeError("--batch submit needs --batch-file")
    needs_out = not dry_run and not (batch_file is not None and batch is None)
    if needs_out and out is None:
        raise XkdeError("missing --out FILE.parquet")
    if out is not None and out.suffix.lower() != ".parquet":
        raise XkdeError("the output must be a .parquet file", file=str(out))
    config = TranslatorConfig(backend=translator, model=model, base_url=base_url, api_key=api_key,
                              temperature=temperature, max_tokens=max_tokens, concurrency=concurrency, rpm=rpm,
                              tpm=tpm, timeout=timeout, max_retries=max_retries, response_format=response_format,
                              cache_path=cache)

    path, fmt, _ = resolve(corpus)
    imported = import_corpus(path, format or fmt, limit=limit)
    frame = cases_to_frame(imported.cases)
    source = frame.filter(pl.col("lang") == source_lang)
    if source.is_empty():
        raise XkdeError(f"the corpus has no {source_lang!r} block to translate from "
                        f"(it has: {', '.join(sorted(set(frame['lang'].to_list()))) or 'nothing'})",
                        file=str(path), field="--source-lang")
    no_source = [c for c in imported.cases if source_lang not in c.langs]

    if dry_run:
        print_estimate(console, estimate(source, source_lang, targets, config), len(source), config)
        return
    ingest_stats = Stats()
    if batch_file is not None:
        written = write_batch_requests(source, source_lang, targets, config, batch_file)
        lines = sum(1 for p in written for _ in open(p, "rb"))
        console.print(f"wrote {lines} request(s) to {len(written)} file(s): {', '.join(map(str, written)) or '-'}"
                      + ("" if written else " (everything is cached)"))
        if batch is None:
            return
        batch_results = submit_batch(written, config, poll_seconds=poll_seconds, echo=console.print) if written else []
    if batch_results is not None:
        ingest_stats = ingest_batch_results(source, source_lang, targets, config, batch_results)

    result = translate_stage(source, source_lang, targets, config, corpus=frame, progress=progress,
                             offline=batch_results is not None)
    result.stats.merge(ingest_stats)
    rejected = result.rejected
    if no_source:
        extra = rejects_frame({"id": c.id, "corpus": c.corpus, "lang": lang, "stage": "translate",
                               "reason": "missing_source_block", "detail": f"no {source_lang!r} block"}
                              for c in no_source for lang in targets)
        rejected = pl.concat([rejected, extra])
        result.stats.stat_update("failed.missing_source_block", value=len(extra))
    assert out is not None
    write_parquet(assemble(source, result.kept, targets), out)
    write_parquet(rejected, rejects_path(out))
    _print_summary(console, StageResult(result.kept, rejected, result.stats), source_lang, targets, len(source),
                   imported.cases)
    console.print(f"wrote {out} and {rejects_path(out)}")


def print_estimate(console, est: dict, n_cases: int, config: TranslatorConfig) -> None:
    from rich.table import Table

    table = Table(title=f"dry run: {n_cases} source cases, nothing sent")
    for col in ("language", "requests", "cached", "est. tokens in", "est. tokens out"):
        table.add_column(col, justify="left" if col == "language" else "right")
    for lang, row in est["by_lang"].items():
        table.add_row(lang, str(row["requests"]), str(row["cached"]), str(row["tokens_in"]), str(row["tokens_out"]))
    table.add_row("total", str(est["requests"]), str(est["cached"]), str(est["tokens_in"]), str(est["tokens_out"]))
    console.print(table)
    if config.backend == "corpus":
        console.print("corpus translator: target blocks are taken from the corpus; no requests.")


def _print_summary(console, result: StageResult, source_lang: str, targets: list[str], n_source: int,
                   cases) -> None:
    from rich.table import Table

    stats = result.stats
    rejected_by_lang = result.rejected.group_by("lang").len() if not result.rejected.is_empty() else None
    rej = dict(rejected_by_lang.iter_rows()) if rejected_by_lang is not None else {}
    table = Table(title=f"translate {source_lang} -> {','.join(targets)}: {len(cases)} cases")
    for col in ("language", "translated", "rejected", "tokens in", "tokens out"):
        table.add_column(col, justify="left" if col == "language" else "right")
    for lang in targets:
        table.add_row(lang, str(stats.get(f"translated.{lang}", 0)), str(rej.get(lang, 0)),
                      str(stats.get(f"tokens_in.{lang}", 0)), str(stats.get(f"tokens_out.{lang}", 0)))
    console.print(table)
    console.print(f"requests made: {stats.get('requests', 0)}   cache hits: {stats.get('cache_hits', 0)}   "
                  f"retries: {stats.get('retries', 0)}")
    if stats.get("batch.ingested") or stats.get("batch.unknown_id"):
        console.print(f"batch results ingested: {stats.get('batch.ingested', 0)}   "
                      f"not from this run: {stats.get('batch.unknown_id', 0)}")
    failures = {k.split(".", 1)[1]: v for k, v in sorted(stats.items()) if k.startswith("failed.") and v}
    if failures:
        console.print("failures by reason: " + ", ".join(f"{k} {v}" for k, v in failures.items()))
