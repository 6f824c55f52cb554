"""OpenAI Batch API files: write request files, ingest result files into the cache, submit and poll.

A request line is ``{"custom_id", "method": "POST", "url": "/v1/chat/completions", "body"}``
with the cache key as ``custom_id``, so results join back on it whatever their order.
Files hold at most 50,000 lines (and ~190 MB); larger jobs are split into
``NAME.001.jsonl``, ``NAME.002.jsonl``, ... The same files work with vLLM's
offline ``run_batch``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import polars as pl

from ..errors import XkdeError
from ..schema import atomic_write
from ..stats import Stats
from .backends import OPENAI_DEFAULT_URL, scrub
from .cache import TranslationCache
from .config import TranslatorConfig
from .contract import CHAT_URL, BadReply, load_prompt, parse_reply, request_body

MAX_LINES = 50_000
MAX_BYTES = 190 * 1024 * 1024


def _jobs(source: pl.DataFrame, source_lang: str, target_langs: list[str], config: TranslatorConfig):
    from .engine import _check_langs, _source_rows, plan_jobs

    source_lang, targets = _check_langs(source_lang, target_langs)
    rows = _source_rows(source, source_lang)
    if config.backend != "openai":
        raise XkdeError("batch files need the openai translator (--translator openai)", field="translator")
    if not config.model:
        raise XkdeError("batch files need --model", field="model")
    return plan_jobs(rows, lambda _row: [(source_lang, t) for t in targets], config)


def write_batch_requests(source: pl.DataFrame, source_lang: str, target_langs: list[str], config: TranslatorConfig,
                         path: str | Path, *, max_lines: int = MAX_LINES) -> list[Path]:
    """Write the requests the cache cannot answer; returns the files written (none if all cached)."""
    config = config.resolved()
    jobs = _jobs(source, source_lang, target_langs, config)
    with TranslationCache(config.cache_path) as cache:
        cached = cache.get_many(j.key for j in jobs)
    template = load_prompt(config.prompt)
    lines = []
    for job in jobs:
        if job.key in cached:
            continue
        body = request_body(config.model, template.messages(job.fields, job.source_lang, job.target_lang),
                            config.request_params(), config.response_format, list(job.fields))
        lines.append(json.dumps({"custom_id": job.key, "method": "POST", "url": CHAT_URL, "body": body},
                                ensure_ascii=False) + "\n")
    chunks: list[list[str]] = []
    size = 0
    for line in lines:
        if not chunks or len(chunks[-1]) >= max_lines or size + len(line.encode()) > MAX_BYTES:
            chunks.append([])
            size = 0
        chunks[-1].append(line)
        size += len(line.encode())
    path = Path(path)
    paths = [path] if len(chunks) == 1 else [path.with_name(f"{path.stem}.{i:03d}{path.suffix}")
                                             for i in range(1, len(chunks) + 1)]
    for target, chunk in zip(paths, chunks):
        def write(tmp: str, chunk=chunk) -> None:
            with open(tmp, "w", encoding="utf-8") as fh:
                fh.writelines(chunk)
        atomic_write(target, write)
    return paths if chunks else []


def ingest_batch_results(source: pl.DataFrame, source_lang: str, target_langs: list[str], config: TranslatorConfig,
                         paths: list[str | Path]) -> Stats:
    """Validate batch results against this run's requests and cache the good ones (joined on ``custom_id``).

    Counters: ``batch.ingested``, ``batch.unknown_id`` (results of another run), ``failed.<reason>``.
    """
    config = config.resolved()
    jobs = {j.key: j for j in _jobs(source, source_lang, target_langs, config)}
    stats = Stats()
    with TranslationCache(config.cache_path) as cache:
        for path in paths:
            path = str(path)
            try:
                handle = open(path, "rb")
            except OSError as err:
                raise XkdeError(f"cannot read batch results: {err.strerror}", file=path) from None
            with handle:
                for lineno, raw in enumerate(handle, start=1):
                    if not raw.strip():
                        continue
                    try:
                        item = json.loads(raw)
                        custom_id = item["custom_id"]
                    except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError):
                        raise XkdeError("not a batch result line (needs JSON with custom_id)",
                                        file=path, line=lineno, field="custom_id") from None
                    job = jobs.get(custom_id)
                    if job is None:
                        stats.stat_update("batch.unknown_id")
                        continue
                    response = item.get("response") or {}
                    body = response.get("body") or {}
                    if item.get("error") or response.get("status_code") != 200 or not body.get("choices"):
                        stats.stat_update("failed.request_failed")
                        continue
                    choice = body["choices"][0]
                    usage = body.get("usage") or {}
                    stats.stat_update(f"tokens_in.{job.target_lang}", value=usage.get("prompt_tokens") or 0)
                    stats.stat_update(f"tokens_out.{job.target_lang}", value=usage.get("completion_tokens") or 0)
                    try:
                        fields = parse_reply((choice.get("message") or {}).get("content"), choice.get("finish_reason"),
                                             list(job.fields), lenient=config.response_format == "text",
                                             target_lang=job.target_lang)
                    except BadReply as bad:
                        stats.stat_update(f"failed.{bad.reason}")
                        continue
                    cache.put(custom_id, job.target_lang, fields, usage.get("prompt_tokens") or 0,
                              usage.get("completion_tokens") or 0)
                    stats.stat_update("batch.ingested")
    return stats


def submit_batch(paths: list[Path], config: TranslatorConfig, *, poll_seconds: float = 30.0,
                 echo=print) -> list[Path]:
    """Upload request files, create batches, poll until done, download results beside them."""
    import openai

    config = config.resolved()
    if not config.api_key and config.base_url == OPENAI_DEFAULT_URL:
        raise XkdeError("no API key: pass --api-key or set OPENAI_API_KEY", field="api_key")
    client = openai.OpenAI(api_key=config.api_key or "no-key", base_url=config.base_url,
                           timeout=config.timeout, max_retries=config.max_retries)
    results = []
    try:
        for path in paths:
            with open(path, "rb") as fh:
                uploaded = client.files.create(file=fh, purpose="batch")
            batch = client.batches.create(input_file_id=uploaded.id, endpoint=CHAT_URL, completion_window="24h")
            echo(f"submitted {path.name} as {batch.id}")
            while batch.status not in ("completed", "failed", "expired", "cancelled"):
                time.sleep(poll_seconds)
                batch = client.batches.retrieve(batch.id)
                counts = batch.request_counts
                echo(f"{batch.id}: {batch.status}" + (f" ({counts.completed}/{counts.total})" if counts else ""))
            if batch.status != "completed" or not batch.output_file_id:
                raise XkdeError(f"batch {batch.id} ended {batch.status}; rerun to resubmit what is missing",
                                file=str(path))
            out = path.with_name(f"{path.stem}.results{path.suffix}")
            content = client.files.content(batch.output_file_id).content
            atomic_write(out, lambda tmp: Path(tmp).write_bytes(content))
            results.append(out)
    except openai.AuthenticationError:
        raise XkdeError(f"{config.base_url} rejected the API key (401 Unauthorized)", field="api_key") from None
    except openai.APIConnectionError:
        raise XkdeError(f"cannot reach {config.base_url}", field="base_url") from None
    except openai.APIStatusError as err:
        raise XkdeError(f"batch API error {err.status_code}: {scrub(err.message, config.api_key)}") from None
    finally:
        client.close()
    return results
