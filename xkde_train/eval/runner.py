"""The whole evaluation: benchmark -> records -> scores -> outputs, split across processes under accelerate."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from xkde_data.errors import XkdeError
from xkde_data.template import EditTemplate

from .benchmarks import load_benchmark, parse_pairs
from .generation import language_identifier
from .metrics import score_records, summarize
from .outputs import write_outputs
from .records import ChatFormatter, build_records, load_chat_template

DTYPES = ("float32", "bfloat16", "float16")


@dataclass
class EvalOptions:
    model: str
    benchmark: str = "bizsre"
    pairs: str | None = None  # "en-en,en-zh"; None: the benchmark's default pairs
    all_pairs: bool = False
    batch_size: int = 32
    limit: int | None = None  # first N cases of each pair
    system_prompt: str | None = None
    chat_template: str | None = None  # a Jinja file, for models without one
    generate: bool = True
    max_new_tokens: int = 24
    dtype: str | None = None  # default: float32 on CPU, bfloat16 on GPU


def load_model(name: str, *, dtype: str | None = None, device: str | None = None,
               chat_template: str | None = None, require_chat_template: bool = True):
    """(model, tokenizer) from a local path or Hub id; a missing model or chat template is a user error.

    ``chat_template`` is a Jinja file that replaces the tokenizer's; it is checked before weights load.
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if (name.startswith((".", "/", "~")) or os.sep in name and name.count("/") != 1) and not Path(name).exists():
        raise XkdeError("no such model folder", file=name, field="--model")
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    if dtype is not None and dtype not in DTYPES:
        raise XkdeError(f"unknown dtype {dtype!r} (use {', '.join(DTYPES)})", field="--dtype")
    dtype = dtype or ("float32" if str(device).startswith("cpu") else "bfloat16")
    try:
        tokenizer = AutoTokenizer.from_pretrained(name)
        if require_chat_template or chat_template:
            load_chat_template(tokenizer, name, chat_template)
        model = AutoModelForCausalLM.from_pretrained(name, dtype=getattr(torch, dtype))
    except (OSError, ValueError) as err:
        raise XkdeError(f"cannot load model {name!r}: {str(err).splitlines()[0]}", field="--model") from None
    model.to(device).eval()
    return model, tokenizer


def _check_options(options: EvalOptions) -> None:
    if options.batch_size < 1:
        raise XkdeError("must be at least 1", field="--batch-size")
    if options.limit is not None and options.limit < 1:
        raise XkdeError("must be at least 1", field="--limit")
    if options.max_new_tokens < 1:
        raise XkdeError("must be at least 1", field="--max-new-tokens")


def run_eval(options: EvalOptions, out_dir: str | Path, *, show_progress: bool = True) -> dict[str, Any] | None:
    """Evaluate and write ``out_dir``; returns results.json's content (None on non-main processes)."""
    _check_options(options)
    benchmark = load_benchmark(options.benchmark)
    pairs = parse_pairs(options.pairs, benchmark, all_pairs=options.all_pairs)

    world = int(os.environ.get("WORLD_SIZE", "1"))
    state = None
    device = None
    if world > 1:  # launched by `accelerate launch`: each process scores every world-th record
        import torch
        from accelerate import PartialState

        # cpu=True makes accelerate join the processes over gloo when there is no GPU.
        state = PartialState(cpu=not torch.cuda.is_available())
        device = str(state.device)
    rank = state.process_index if state else 0
    is_main = rank == 0

    model, tokenizer = load_model(options.model, dtype=options.dtype, device=device,
                                  chat_template=options.chat_template)
    template = EditTemplate.load()
    records = build_records(benchmark, pairs, ChatFormatter(tokenizer, options.system_prompt), template,
                            limit=options.limit)
    shard = records.filter(pl.col("record") % world == rank)
    kwargs = dict(batch_size=options.batch_size, generate=options.generate, max_new_tokens=options.max_new_tokens,
                  show_progress=show_progress and is_main)
    if state is None:
        scored = score_records(model, tokenizer, shard, **kwargs)
    else:
        parts = Path(out_dir) / ".shards"
        parts.mkdir(parents=True, exist_ok=True)
        if shard.height:
            mine = score_records(model, tokenizer, shard, **kwargs)
            from xkde_data.atomic import atomic_write
            atomic_write(parts / f"rank-{rank}.parquet", lambda tmp: mine.write_parquet(tmp))
        state.wait_for_everyone()
        if not is_main:
            return None
        scored = pl.concat([pl.read_parquet(p) for p in sorted(parts.glob("rank-*.parquet"))]).sort("record")
        shutil.rmtree(parts, ignore_errors=True)

    results = {
        "model": options.model,
        "benchmark": {"name": benchmark.name, "pretty_name": benchmark.pretty_name, "files": benchmark.files},
        "template": {"name": template.name, "hash": template.hash},
        "system_prompt": options.system_prompt,
        "chat_template": options.chat_template or "model",
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "settings": {"batch_size": options.batch_size, "limit": options.limit, "generate": options.generate,
                     "max_new_tokens": options.max_new_tokens, "dtype": str(next(model.parameters()).dtype),
                     "device": str(next(model.parameters()).device), "processes": world,
                     "language_id": language_identifier() is not None},
        "pairs": summarize(scored),
    }
    write_outputs(out_dir, results, scored)
    return results
