"""Translation as pipeline stages over the long case table.

:func:`translate_stage` (source -> target languages), :func:`back_translate_stage`
(target -> source, for the round-trip check) and :func:`estimate` (``--dry-run``)
share one path: plan one job per (row, language pair), serve what the cache
holds, run the rest concurrently through a backend, and assemble kept and
rejected rows in a deterministic order.

Reject reason codes (stage ``translate`` / ``back_translate``):
``invalid_json``, ``missing_keys``, ``extra_keys``, ``empty_value``,
``truncated``, ``wrong_script`` (reply broke the contract after all retries),
``request_failed`` (HTTP errors/timeouts after all retries),
``not_cached`` (offline run, e.g. after ``--batch-results``, with no reply for it),
``missing_target_block`` / ``structure_mismatch`` (corpus backend).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

import polars as pl

from ..errors import XkdeError
from ..langs import normalize_code
from ..schema import CASE_SCHEMA
from ..stats import StageResult, Stats, rejects_frame
from .backends import Job, OpenAIBackend, Outcome
from .cache import TranslationCache
from .config import TranslatorConfig
from .contract import cache_key, estimate_tokens, fields_to_row, load_prompt, row_fields

BACK_SCHEMA = {**CASE_SCHEMA, "from_lang": pl.String}


# ---------------------------------------------------------------- planning

def _check_langs(source_lang: str, target_langs: list[str]) -> tuple[str, list[str]]:
    source_lang = normalize_code(source_lang)
    targets = [normalize_code(t) for t in target_langs]
    if source_lang in targets:
        raise XkdeError(f"target languages include the source language {source_lang!r}", field="langs")
    if len(set(targets)) != len(targets):
        raise XkdeError("a target language is listed twice", field="langs")
    return source_lang, targets


def _source_rows(source: pl.DataFrame, source_lang: str) -> list[dict[str, Any]]:
    missing = [c for c in CASE_SCHEMA if c not in source.columns]
    if missing:
        raise XkdeError(f"not a canonical case table: missing column(s) {missing}", field=missing[0])
    rows = source.select(list(CASE_SCHEMA)).to_dicts()
    for i, row in enumerate(rows):
        if row["lang"] != source_lang:
            raise XkdeError(f"expected only {source_lang!r} rows, found {row['lang']!r}", record=i, field="lang")
    return rows


def plan_jobs(rows: list[dict[str, Any]], pairs: Callable[[dict], list[tuple[str, str]]],
              config: TranslatorConfig) -> list[Job]:
    """One job per (row, (from, to)) in row order, then pair order; keys are cache keys."""
    prompt_hash = load_prompt(config.prompt).hash
    params = config.request_params()
    jobs: list[Job] = []
    for row in rows:
        fields = row_fields(row)
        for src, tgt in pairs(row):
            key = cache_key(model=config.model, base_url=config.base_url, prompt_hash=prompt_hash,
                            params=params, fields=fields, source_lang=src, target_lang=tgt)
            jobs.append(Job(len(jobs), row, src, tgt, fields, key))
    return jobs


# ---------------------------------------------------------------- running

def run_jobs(jobs: list[Job], config: TranslatorConfig, stats: Stats, *, progress: bool = True,
             offline: bool = False, desc: str = "translate") -> list[Outcome]:
    """Serve jobs from the cache, request the rest; outcomes come back in job order."""
    outcomes: list[Outcome | None] = [None] * len(jobs)
    with TranslationCache(config.cache_path) as cache:
        cached = cache.get_many(job.key for job in jobs)
        misses = []
        for job in jobs:
            if job.key in cached and set(cached[job.key]) == set(job.fields):
                outcomes[job.index] = Outcome(fields=cached[job.key])
                stats.stat_update("cache_hits")
            else:
                misses.append(job)
        if misses and offline:
            for job in misses:
                outcomes[job.index] = Outcome(reason="not_cached", detail="no reply for this request in the cache")
        elif misses:
            # Identical requests (same fields and languages) are paid for once.
            unique: dict[str, Job] = {}
            for job in misses:
                unique.setdefault(job.key, job)
            hits = len(jobs) - len(misses)
            _run_sync(_request_all(list(unique.values()), outcomes, config, stats, cache, progress,
                                   f"{desc} ({hits} cached)" if hits else desc))
            for job in misses:
                if outcomes[job.index] is None:
                    outcomes[job.index] = outcomes[unique[job.key].index]
    return outcomes  # type: ignore[return-value]


def _run_sync(coro) -> None:
    """asyncio.run, also from inside a running loop (notebooks) via a helper thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(coro)
        return
    error: list[BaseException] = []

    def target() -> None:
        try:
            asyncio.run(coro)
        except BaseException as err:  # re-raised in the caller's thread
            error.append(err)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if error:
        raise error[0]


async def _request_all(misses: list[Job], outcomes: list, config: TranslatorConfig, stats: Stats,
                       cache: TranslationCache, progress: bool, desc: str) -> None:
    from tqdm.auto import tqdm

    backend = OpenAIBackend(config, stats)
    queue: asyncio.Queue[Job] = asyncio.Queue()
    for job in misses:
        queue.put_nowait(job)
    bar = tqdm(total=len(misses), desc=desc, unit="req", disable=not progress, dynamic_ncols=True)
    writer = _CacheWriter(cache)

    async def worker() -> None:
        while True:
            try:
                job = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            outcome = await backend.translate(job)
            outcomes[job.index] = outcome
            stats.stat_update(f"tokens_in.{job.target_lang}", value=outcome.tokens_in)
            stats.stat_update(f"tokens_out.{job.target_lang}", value=outcome.tokens_out)
            stats.stat_update("retries", value=max(outcome.attempts - 1, 0))
            if outcome.fields is not None:
                writer.add((job.key, job.target_lang, outcome.fields, outcome.tokens_in, outcome.tokens_out))
            else:
                stats.stat_update(f"failed.{outcome.reason}")
            bar.update(1)

    workers = [asyncio.create_task(worker()) for _ in range(min(config.concurrency, len(misses)))]
    try:
        await asyncio.gather(*workers)
    finally:
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        writer.flush()
        bar.close()
        stats.stat_update("requests", value=backend.http_attempts)
        # HTTP-level retries happen inside the openai client; count them as the surplus attempts.
        content_attempts = sum(o.attempts for o in outcomes if o is not None and o.attempts)
        stats.stat_update("retries", value=max(backend.http_attempts - content_attempts, 0))
        await backend.close()


class _CacheWriter:
    """Group commit: validated replies are committed as soon as the event loop is free, in one
    transaction for all replies that arrived together (a burst at high concurrency).

    A commit per reply cost ~0.1 ms of event-loop time each; waiting longer to batch more would
    let a kill -9 lose replies that were already paid for.
    """

    max_pending = 64

    def __init__(self, cache: TranslationCache) -> None:
        self.cache = cache
        self.pending: list[tuple] = []
        self.timer: asyncio.Handle | None = None
        self.error: BaseException | None = None  # from a timed flush; raised in a worker, as a direct write would

    def add(self, entry: tuple) -> None:
        if self.error is not None:
            raise self.error
        self.pending.append(entry)
        if len(self.pending) >= self.max_pending:
            self.flush()
        elif self.timer is None:
            self.timer = asyncio.get_running_loop().call_soon(self._timed_flush)

    def _timed_flush(self) -> None:
        self.timer = None
        try:
            self.flush()
        except Exception as err:
            self.error = err

    def flush(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        pending, self.pending = self.pending, []
        self.cache.put_many(pending)
        if self.error is not None:
            raise self.error


# ---------------------------------------------------------------- stages

def translate_stage(source: pl.DataFrame, source_lang: str, target_langs: list[str], config: TranslatorConfig,
                    *, corpus: pl.DataFrame | None = None, progress: bool = True,
                    offline: bool = False) -> StageResult:
    """Translate ``source`` (rows of ``source_lang`` only) into each target language.

    ``kept``: CASE_SCHEMA rows per (case, target) in source order then target order;
    ``rejected``: REJECT_SCHEMA rows, stage ``translate``. ``offline=True`` makes no
    request: what the cache lacks is rejected as ``not_cached``.
    """
    source_lang, targets = _check_langs(source_lang, target_langs)
    rows = _source_rows(source, source_lang)
    config = config.resolved()
    stats = Stats()
    if config.backend == "corpus":
        return _from_corpus(rows, targets, corpus, stats)
    jobs = plan_jobs(rows, lambda _row: [(source_lang, t) for t in targets], config)
    outcomes = run_jobs(jobs, config, stats, progress=progress, offline=offline, desc=f"translate {source_lang}->"
                        + ",".join(targets))
    kept, rejected = [], []
    for job, outcome in zip(jobs, outcomes):
        if outcome.fields is not None:
            kept.append(fields_to_row(job.row, outcome.fields, job.target_lang))
            stats.stat_update(f"translated.{job.target_lang}")
        else:
            rejected.append(_reject(job.row, job.target_lang, "translate", outcome))
    return StageResult(_frame(kept, CASE_SCHEMA), rejects_frame(rejected), stats)


def back_translate_stage(translated: pl.DataFrame, source_lang: str, config: TranslatorConfig,
                         *, progress: bool = True, offline: bool = False) -> StageResult:
    """Translate every non-``source_lang`` row back into ``source_lang`` (round-trip check).

    ``kept`` rows have ``lang == source_lang`` and an extra ``from_lang`` column;
    failures are rejected with stage ``back_translate`` under the row's own language.
    """
    source_lang = normalize_code(source_lang)
    config = config.resolved()
    if config.backend != "openai":
        raise XkdeError("back-translation needs the openai translator", field="translator")
    missing = [c for c in CASE_SCHEMA if c not in translated.columns]
    if missing:
        raise XkdeError(f"not a canonical case table: missing column(s) {missing}", field=missing[0])
    rows = [r for r in translated.select(list(CASE_SCHEMA)).to_dicts() if r["lang"] != source_lang]
    stats = Stats()
    jobs = plan_jobs(rows, lambda row: [(row["lang"], source_lang)], config)
    outcomes = run_jobs(jobs, config, stats, progress=progress, offline=offline, desc=f"back-translate ->{source_lang}")
    kept, rejected = [], []
    for job, outcome in zip(jobs, outcomes):
        if outcome.fields is not None:
            kept.append({**fields_to_row(job.row, outcome.fields, source_lang), "from_lang": job.source_lang})
            stats.stat_update(f"back_translated.{job.source_lang}")
        else:
            rejected.append(_reject(job.row, job.source_lang, "back_translate", outcome))
    return StageResult(_frame(kept, BACK_SCHEMA), rejects_frame(rejected), stats)


def estimate(source: pl.DataFrame, source_lang: str, target_langs: list[str], config: TranslatorConfig) -> dict:
    """What a run would cost: requests to make, cached items, estimated tokens in/out (total and per language)."""
    source_lang, targets = _check_langs(source_lang, target_langs)
    rows = _source_rows(source, source_lang)
    config = config.resolved()
    if config.backend == "corpus":
        return {"requests": 0, "cached": 0, "tokens_in": 0, "tokens_out": 0, "by_lang": {}}
    jobs = plan_jobs(rows, lambda _row: [(source_lang, t) for t in targets], config)
    with TranslationCache(config.cache_path) as cache:
        cached = cache.get_many(job.key for job in jobs)
    template = load_prompt(config.prompt)
    out: dict[str, Any] = {"requests": 0, "cached": 0, "tokens_in": 0, "tokens_out": 0, "by_lang": {}}
    for job in jobs:
        lang = out["by_lang"].setdefault(job.target_lang, {"requests": 0, "cached": 0, "tokens_in": 0, "tokens_out": 0})
        if job.key in cached:
            out["cached"] += 1
            lang["cached"] += 1
            continue
        messages = template.messages(job.fields, job.source_lang, job.target_lang)
        t_in = sum(estimate_tokens(m["content"]) for m in messages) + 8
        # The reply repeats the keys; values come back at roughly the source length.
        t_out = estimate_tokens(" ".join(job.fields)) + estimate_tokens(" ".join(job.fields.values())) + 8
        for bucket in (out, lang):
            bucket["requests"] += 1
            bucket["tokens_in"] += t_in
            bucket["tokens_out"] += t_out
    return out


# ---------------------------------------------------------------- helpers

def _from_corpus(rows: list[dict], targets: list[str], corpus: pl.DataFrame | None, stats: Stats) -> StageResult:
    """Take existing target blocks (parallel data): no requests; a missing block is reported, not invented."""
    if corpus is None:
        raise XkdeError("the corpus translator needs the full corpus table (corpus=...)", field="corpus")
    wanted = corpus.filter(pl.col("lang").is_in(targets)).select(list(CASE_SCHEMA)).to_dicts()
    index = {(r["id"], r["lang"]): r for r in wanted}
    kept, rejected = [], []
    for row in rows:
        for lang in targets:
            found = index.get((row["id"], lang))
            outcome = Outcome()
            if found is None:
                outcome.reason, outcome.detail = "missing_target_block", f"the corpus has no {lang!r} block"
            elif set(row_fields(found)) != set(row_fields(row)):
                outcome.reason = "structure_mismatch"
                outcome.detail = "the target block's fields differ from the source block's"
            if outcome.reason:
                rejected.append(_reject(row, lang, "translate", outcome))
                stats.stat_update(f"failed.{outcome.reason}")
            else:
                kept.append(found)
                stats.stat_update(f"translated.{lang}")
    return StageResult(_frame(kept, CASE_SCHEMA), rejects_frame(rejected), stats)


def _reject(row: dict, lang: str, stage: str, outcome: Outcome) -> dict:
    return {"id": row["id"], "corpus": row["corpus"], "lang": lang, "stage": stage,
            "reason": outcome.reason, "detail": outcome.detail}


def _frame(rows: list[dict], schema: dict) -> pl.DataFrame:
    """Column by column: polars builds list columns from Python lists ~10x slower than from one flat Series."""
    if not rows:
        return pl.DataFrame(schema=schema)
    return pl.DataFrame([_column(name, [row[name] for row in rows], dtype) for name, dtype in schema.items()])


def _column(name: str, values: list, dtype: pl.DataType) -> pl.Series:
    if not isinstance(dtype, pl.List) or any(v is None for v in values):
        return pl.Series(name, values, dtype=dtype)
    inner = dtype.inner
    flat_values = [item for value in values for item in value]
    if isinstance(inner, pl.Struct):
        flat = pl.DataFrame({f.name: [item.get(f.name) for item in flat_values] for f in inner.fields},
                            schema={f.name: f.dtype for f in inner.fields}).to_struct(name)
    else:
        flat = pl.Series(name, flat_values, dtype=inner)
    parts, start = [], 0
    for value in values:
        parts.append(flat.slice(start, len(value)))
        start += len(value)
    return pl.Series(name, parts).cast(dtype).rechunk()
