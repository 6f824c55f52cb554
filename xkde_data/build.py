"""The one-command build: import -> translate -> filter -> instances -> pairs -> export -> report.

Each stage is a function over polars tables that returns a table plus counts;
this module only wires them together, owns the build folder and its atomic
swap, and keeps the books (``input == kept + rejected`` per language).
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from . import __version__
from .atomic import replace_dir, temp_dir_beside
from .corpora import resolve
from .errors import XkdeError
from .importers import import_corpus
from .schema import CASE_SCHEMA, cases_to_frame
from .stats import REJECT_SCHEMA, rejects_frame

BUILD_MARKER = "build.json"  # present only in a finished build folder
BUILD_FORMAT = 1


@dataclass
class BuildOptions:
    langs: list[str]
    out: Path
    source_lang: str = "en"
    corpus: list[str] = field(default_factory=lambda: ["demo"])
    format: str | None = None
    limit: int | None = None
    seed: int = 0
    validation_fraction: float = 0.05
    distractors: tuple[float, float, float] = (0.5, 0.25, 0.25)
    round_trip: bool = True
    overwrite: bool = False
    progress: bool = True
    translator: object = None  # TranslatorConfig
    curation: object = None  # CurationConfig


@dataclass
class BuildResult:
    out: Path
    stats: dict
    paths: dict[str, Path] = field(default_factory=dict)


def build_date() -> str:
    """The day of the build, or SOURCE_DATE_EPOCH's day for reproducible builds."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    when = _dt.datetime.fromtimestamp(int(epoch), _dt.timezone.utc) if epoch else _dt.datetime.now(_dt.timezone.utc)
    return when.date().isoformat()


def check_output_dir(out: Path, overwrite: bool) -> None:
    """Refuse to replace a folder that is not an earlier xkde build unless asked to."""
    if out.exists() and not out.is_dir():
        raise XkdeError("output path exists and is not a folder", file=str(out))
    if out.is_dir() and any(out.iterdir()) and not (out / BUILD_MARKER).is_file() and not overwrite:
        raise XkdeError("output folder holds something that is not an xkde build; pass --overwrite to replace it",
                        file=str(out))
    parent = out.parent if out.parent != Path("") else Path(".")
    probe = parent
    while not probe.exists():
        probe = probe.parent
    if not os.access(probe, os.W_OK):
        raise XkdeError("output folder is not writable", file=str(out))


def import_corpora(corpora: list[str], format: str | None, limit: int | None):
    """Import one or more corpora into one case list; returns it and the corpus names for the card."""
    from .importers import ImportResult

    merged, names = ImportResult(), []
    for corpus in corpora:
        source_path, fmt, manifest = resolve(corpus)
        part = import_corpus(source_path, format or fmt, limit=limit)
        merged.cases += part.cases
        merged.rejects += part.rejects
        names.append(manifest.name if manifest else Path(corpus).stem.replace("{lang}", ""))
    if not merged.cases:
        raise XkdeError("the corpus holds no usable cases", file=", ".join(corpora))
    seen = set()
    for i, case in enumerate(merged.cases):
        if case.id in seen:
            raise XkdeError(f"duplicate case id {case.id!r} across corpora (give each corpus its own name)",
                            record=i, field="id")
        seen.add(case.id)
    return merged, names


def split_source(frame: pl.DataFrame, source_lang: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Source-language rows, and reject rows for cases that lack a source block."""
    ids_all = frame.select("id", "corpus").unique(maintain_order=True)
    source = frame.filter(pl.col("lang") == source_lang)
    if source.is_empty():
        langs = sorted(frame["lang"].unique().to_list())
        raise XkdeError(f"source language {source_lang!r} is not in the corpus (it has {', '.join(langs)})",
                        field="--source-lang")
    missing = ids_all.join(source.select("id"), on="id", how="anti")
    rejects = [{"id": r["id"], "corpus": r["corpus"], "lang": source_lang, "stage": "import",
                "reason": "missing_source_block", "detail": f"case has no {source_lang} block"}
               for r in missing.iter_rows(named=True)]
    return source, rejects_frame(rejects)


def _with_translation(rejects: pl.DataFrame) -> pl.DataFrame:
    """Reject rows of stages that have no translated text to show."""
    return rejects.select(list(REJECT_SCHEMA)).with_columns(pl.lit(None, pl.String).alias("translation"))


def run_build(opts: BuildOptions, console=None) -> BuildResult:
    """Run every stage into a temp folder beside ``opts.out``, then swap it into place."""
    from rich.console import Console

    from .curate import CurationConfig, curate_stage
    from .curate.accounting import build_stats, check_accounting, register_reasons
    from .export import CardInfo, assign_splits, build_tlpo, build_xeit, export_dataset
    from .report import write_build, write_report
    from .template import EditTemplate
    from .translate import TranslatorConfig, back_translate_stage, translate_stage
    from .translate.contract import REASON_DESCRIPTIONS

    register_reasons(REASON_DESCRIPTIONS)

    console = console or Console(stderr=True)
    out = Path(opts.out)
    check_output_dir(out, opts.overwrite)
    if len(opts.langs) < 2:
        raise XkdeError("--langs needs at least two languages: XE-IT and TL-PO pair an edit language with "
                        "another query language")
    if opts.source_lang in opts.langs:
        targets = [lang for lang in opts.langs if lang != opts.source_lang]
    else:
        targets = list(opts.langs)
    translator = opts.translator or TranslatorConfig(backend="corpus")
    curation = opts.curation or CurationConfig()
    # A translation may slip into any language of the build, not only the source.
    curation.confusables = tuple(dict.fromkeys([*curation.confusables, *opts.langs]))
    template = EditTemplate.load()

    # -- import
    console.print(f"[bold]import[/] {', '.join(opts.corpus)}")
    imported, manifests = import_corpora(opts.corpus, opts.format, opts.limit)
    frame = cases_to_frame(imported.cases)
    source, missing_source = split_source(frame, opts.source_lang)
    import_rejects = rejects_frame(
        {"id": r.id, "corpus": r.corpus, "lang": lang, "stage": "import", "reason": r.reason, "detail": r.detail}
        for r in imported.rejects for lang in [opts.source_lang, *targets] if lang in r.langs
    )
    input_counts = {lang: source.height + import_rejects.filter(pl.col("lang") == lang).height
                    for lang in [opts.source_lang, *targets]}
    input_counts[opts.source_lang] += missing_source.height

    # -- translate (+ back-translate for the round-trip check)
    console.print(f"[bold]translate[/] {opts.source_lang} -> {','.join(targets) or '(none)'} with {translator.backend}")
    translated = translate_stage(source, opts.source_lang, targets, translator, corpus=frame, progress=opts.progress)
    back = None
    if opts.round_trip and translator.backend != "corpus" and not translated.kept.is_empty():
        console.print("[bold]back-translate[/] for the round-trip check")
        back_result = back_translate_stage(translated.kept, opts.source_lang, translator, progress=opts.progress)
        back = back_result.kept
        translated.stats.merge(back_result.stats, prefix="back.")

    # -- filter
    console.print("[bold]filter[/]")
    curated = curate_stage(source, translated.kept, source_lang=opts.source_lang, config=curation,
                           back_translations=back, progress=opts.progress)
    kept = pl.concat([source, curated.kept.select(list(CASE_SCHEMA))])
    rejected = pl.concat([
        _with_translation(import_rejects),
        _with_translation(missing_source),
        _with_translation(translated.rejected),
        curated.rejected.select([*REJECT_SCHEMA, "translation"]),
    ])

    # -- instances, pairs, splits
    console.print("[bold]instances[/] XE-IT and TL-PO")
    # Splits first: distractors are drawn within a split, so no validation edit leaks into training.
    splits = assign_splits(source["id"].to_list(), validation_fraction=opts.validation_fraction, seed=opts.seed)
    xeit, xeit_stats = build_xeit(kept, opts.langs, template=template, distractors=opts.distractors,
                                  seed=opts.seed, splits=splits)
    tlpo, tlpo_stats = build_tlpo(kept, opts.langs, template=template, distractors=opts.distractors,
                                  seed=opts.seed, splits=splits)
    for name, frame_ in (("XE-IT instances", xeit), ("TL-PO pairs", tlpo)):
        if frame_.is_empty():
            raise XkdeError(f"no {name} survive (every case x language rejected, or every answer identical "
                            "across the languages); try more cases or other languages")

    signature = {
        "tool": f"xkde {__version__}",
        "format": BUILD_FORMAT,
        "corpus": opts.corpus,
        "source_lang": opts.source_lang,
        "langs": opts.langs,
        "translator": translator.signature(),
        "curation": curation.signature(),
        "xeit_template": {"name": template.name, "hash": template.hash},
        "seed": opts.seed,
        "validation_fraction": opts.validation_fraction,
        "distractors": list(opts.distractors),
        "date": build_date(),
    }

    # -- write everything into a temp folder, then swap it into place
    tmp = temp_dir_beside(out)
    try:
        kept_counts = {lang: kept.filter(pl.col("lang") == lang).height for lang in [opts.source_lang, *targets]}
        card = CardInfo(pretty_name=f"X-KDE {', '.join(opts.langs)} ({', '.join(manifests)})", corpora=manifests,
                        signature=signature, filter_summary={})
        instances = export_dataset(xeit, tmp / "xeit", kind="xeit", card=card)
        pairs = export_dataset(tlpo, tmp / "tlpo", kind="tlpo", card=card)
        translation = {k: v for k, v in translated.stats.items()}
        stats = build_stats(opts.source_lang, targets, input_counts, rejected, kept_counts, signature,
                            {"translation": translation, "instances": {"xeit": instances},
                             "pairs": {"tlpo": pairs}, "xeit_stats": dict(xeit_stats), "tlpo_stats": dict(tlpo_stats)})
        check_accounting(stats)
        write_build(tmp, kept=kept, rejected=rejected, stats=stats, measurements=curated.measurements)
        write_report(tmp, name=out.name)
        (tmp / BUILD_MARKER).write_text(json.dumps(signature, indent=2, ensure_ascii=False), encoding="utf-8")
        replace_dir(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return BuildResult(out, stats, {"kept": out / "cases" / "kept.parquet", "xeit": out / "xeit",
                                    "tlpo": out / "tlpo", "report": out / "report" / "report.html"})


def dry_run(opts: BuildOptions, console) -> dict:
    """What a build would send: requests and estimated tokens per language. Nothing is written or spent."""
    from .commands.translate import print_estimate
    from .translate import TranslatorConfig, estimate

    translator = opts.translator or TranslatorConfig(backend="corpus")
    imported, _ = import_corpora(opts.corpus, opts.format, opts.limit)
    frame = cases_to_frame(imported.cases)
    source, _ = split_source(frame, opts.source_lang)
    targets = [lang for lang in opts.langs if lang != opts.source_lang]
    plan = estimate(source, opts.source_lang, targets, translator)
    print_estimate(console, plan, source.height, translator)
    if translator.backend != "corpus" and opts.round_trip:
        console.print("round trip on: kept translations are also sent back once (about as many requests again).")
    return plan
