"""``xkde-data build``: the whole pipeline in one command."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ..langs import normalize_code, parse_lang_list
from .options import (ApiKey, BaseUrl, Cache, Concurrency, CorpusFormat, MaxRetries, MaxTokens, Model,
                      Progress, ResponseFormat, Rpm, SourceLang, Temperature, Timeout, Tpm)


def build(
    langs: Annotated[str, typer.Option("--langs", help="Languages of the dataset, comma-separated ISO 639-1 codes. "
                                                        "Every ordered pair becomes a config (en-zh, zh-en, ...).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Build folder (replaced atomically).")] = Path("xkde-build"),
    source_lang: SourceLang = "en",
    corpus: Annotated[Optional[list[str]], typer.Option(
        "--corpus", help="Corpus name (see corpora/manifests) or path; repeat to combine corpora. Default: demo.")] = None,
    format: CorpusFormat = None,
    translator: Annotated[str, typer.Option("--translator", help="corpus: use the corpus's own target blocks "
                                                                 "(offline); openai: any OpenAI-compatible server.")] = "corpus",
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
    round_trip: Annotated[bool, typer.Option("--round-trip/--no-round-trip",
                                             help="Back-translate for the round-trip chrF check (openai only).")] = True,
    decontaminate: Annotated[Optional[bool], typer.Option(
        "--decontaminate/--no-decontaminate",
        help="Drop cases that overlap the evaluation benchmarks (default: on when benchmark files are found).")] = None,
    limit: Annotated[Optional[int], typer.Option("--limit", min=1, help="Use only the first N cases of each corpus.")] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed for distractors and splits.")] = 0,
    validation_fraction: Annotated[float, typer.Option("--validation-fraction", min=0.0, max=0.5)] = 0.05,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an output folder that is not an xkde build.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count requests and tokens; spend nothing, write nothing.")] = False,
    progress: Progress = True,
) -> None:
    """Build curated XE-IT instances and TL-PO pairs, export them Hub-ready, and write the quality report.

    With the defaults it runs offline on the embedded demo corpus:
    `xkde-data build --langs en,zh,de`.
    """
    from rich.console import Console

    from ..build import BuildOptions, run_build
    from ..translate import TranslatorConfig

    lang_list = parse_lang_list(langs)
    source = normalize_code(source_lang)
    translator_config = TranslatorConfig(backend=translator, model=model, base_url=base_url, api_key=api_key,
                                         temperature=temperature, max_tokens=max_tokens, concurrency=concurrency,
                                         rpm=rpm, tpm=tpm, timeout=timeout, max_retries=max_retries,
                                         response_format=response_format, cache_path=cache)
    curation = curation_config(decontaminate)
    opts = BuildOptions(langs=lang_list, out=out, source_lang=source, corpus=corpus or ["demo"], format=format, limit=limit,
                        seed=seed, validation_fraction=validation_fraction, round_trip=round_trip,
                        overwrite=overwrite, progress=progress, translator=translator_config, curation=curation)
    console = Console(stderr=True)
    if dry_run:
        from ..build import dry_run as plan

        plan(opts, console)
        return
    result = run_build(opts, console)
    print_summary(result, console)


def curation_config(decontaminate: bool | None):
    """Decontamination is on whenever benchmark files are found, unless turned off."""
    from ..benchmark_data import find_benchmark_dir
    from ..curate import CurationConfig

    if decontaminate is False:
        return CurationConfig(decontaminate=False)
    found = find_benchmark_dir()
    if found is None:
        if decontaminate:
            from ..errors import XkdeError

            raise XkdeError("--decontaminate: no benchmark files found; set XKDE_BENCHMARK_DIR to the folder "
                            "holding bizsre/ and mzsre/")
        return CurationConfig(decontaminate=False)
    return CurationConfig.with_shared_benchmarks(found)


def print_summary(result, console) -> None:
    from rich.table import Table

    stats = result.stats
    table = Table(title="kept / rejected per language")
    for col in ("language", "input", "kept", "rejected", "top reasons"):
        table.add_column(col, justify="left" if col in ("language", "top reasons") else "right")
    for lang, row in stats["languages"].items():
        reasons = sorted(row["rejected"].items(), key=lambda kv: -kv[1])[:3]
        table.add_row(lang, str(row["input"]), str(row["kept"]), str(sum(row["rejected"].values())),
                      ", ".join(f"{k} {v}" for k, v in reasons))
    console.print(table)
    counts = Table(title="datasets per config")
    for col in ("config", "XE-IT train", "XE-IT val", "TL-PO train", "TL-PO val"):
        counts.add_column(col, justify="left" if col == "config" else "right")
    xeit = stats.get("instances", {}).get("xeit", {})
    tlpo = stats.get("pairs", {}).get("tlpo", {})
    for config in xeit:
        counts.add_row(config, *(str(d.get(config, {}).get(s, 0)) for d in (xeit, tlpo)
                                 for s in ("train", "validation")))
    console.print(counts)
    for name, path in result.paths.items():
        console.print(f"{name:>7}: {path}")
