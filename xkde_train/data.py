"""Load the ``xeit`` / ``tlpo`` datasets (a local folder laid out as the Hub does, or a Hub id),
check their columns, mix configs by weight, and convert XE-IT chats to prompt-completion form.

XE-IT rows carry ``messages`` = [user, assistant]; TRL's SFTTrainer computes the
loss on the completion only when a row is ``prompt`` = [user] + ``completion`` =
[assistant], whatever the chat template. TL-PO rows already are ``prompt`` /
``chosen`` / ``rejected`` conversations, the form ORPO and DPO take.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from xkde_data.errors import XkdeError

from .recipe import DataSource

XEIT_COLUMNS = ("messages",)
TLPO_COLUMNS = ("prompt", "chosen", "rejected")
# What a Hub id looks like; anything else that does not exist locally is reported as missing
# (without asking the Hub, so a typo in a folder name never becomes a network call).
HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


def looks_like_hub_id(path: str) -> bool:
    return bool(HUB_ID.match(path)) and not path.startswith((".", "/"))


def _where(source: DataSource, config: str, split: str) -> str:
    return f"{source.path} [config {config}, split {split}]"


def load_config(source: DataSource, config: str, split: str):
    """One config/split of a dataset folder or Hub id, as a ``datasets.Dataset``."""
    import datasets

    if not Path(source.path).exists() and not looks_like_hub_id(source.path):
        raise XkdeError("dataset not found (neither a folder nor a Hub id)", file=source.path)
    try:
        return datasets.load_dataset(source.path, name=config, split=split)
    except ValueError as err:
        text = str(err).splitlines()[0]
        if "BuilderConfig" in text or "config" in text.lower():
            raise XkdeError(f"dataset config {config!r} not found: {text}", file=source.path,
                            field="mixture") from None
        if "split" in text.lower():
            raise XkdeError(f"split {split!r} not found: {text}", file=source.path, field="split") from None
        raise XkdeError(f"cannot load the dataset: {text}", file=_where(source, config, split)) from None
    except (FileNotFoundError, datasets.exceptions.DatasetNotFoundError) as err:
        raise XkdeError(f"dataset not found: {str(err).splitlines()[0]}", file=source.path) from None


def _check_turns(value: Any, roles: tuple[str, ...], *, where: str, record: int, field: str) -> None:
    if not isinstance(value, list) or len(value) < len(roles):
        raise XkdeError(f"expected a list of {len(roles)}+ messages", file=where, record=record, field=field)
    for i, message in enumerate(value):
        if not isinstance(message, dict) or not isinstance(message.get("content"), str) or "role" not in message:
            raise XkdeError("expected messages with 'role' and 'content'", file=where, record=record,
                            field=f"{field}[{i}]")
    if value[-1]["role"] != roles[-1]:
        raise XkdeError(f"last message must be from the {roles[-1]}, got {value[-1]['role']!r}", file=where,
                        record=record, field=field)


def check_columns(dataset, kind: str, *, where: str) -> None:
    """Required columns present and the first rows shaped as chats; errors name dataset, record, field."""
    required = XEIT_COLUMNS if kind == "xeit" else TLPO_COLUMNS
    missing = [c for c in required if c not in dataset.column_names]
    if missing:
        raise XkdeError(f"missing column(s) {missing} (has {dataset.column_names})", file=where, field=missing[0])
    if len(dataset) == 0:
        raise XkdeError("no rows", file=where)
    for record, row in enumerate(dataset.select(range(min(len(dataset), 64)))):
        if kind == "xeit":
            _check_turns(row["messages"], ("user", "assistant"), where=where, record=record, field="messages")
        else:
            _check_turns(row["prompt"], ("user",), where=where, record=record, field="prompt")
            for col in ("chosen", "rejected"):
                _check_turns(row[col], ("assistant",), where=where, record=record, field=col)


def apply_weight(dataset, weight: float, seed: int):
    """``weight`` 1 keeps a config as is, 0.5 keeps a random half, 2.5 repeats it 2.5 times."""
    from datasets import concatenate_datasets

    whole, fraction = int(weight), weight - int(weight)
    parts = [dataset] * whole
    n = round(fraction * len(dataset))
    if n:
        parts.append(dataset.shuffle(seed=seed).select(range(n)))
    if not parts:
        return dataset.select([])
    return parts[0] if len(parts) == 1 else concatenate_datasets(parts)


def load_mixture(source: DataSource, kind: str, *, split: str | None = None):
    """All configs of ``source.mixture`` for one split, weighted, checked, concatenated and shuffled."""
    from datasets import concatenate_datasets

    split = split or source.split
    required = XEIT_COLUMNS if kind == "xeit" else TLPO_COLUMNS
    parts = []
    for config, weight in source.mixture.items():
        dataset = load_config(source, config, split)
        check_columns(dataset, kind, where=_where(source, config, split))
        parts.append(apply_weight(dataset.select_columns(list(required)), weight, source.seed))
    mixed = concatenate_datasets(parts) if len(parts) > 1 else parts[0]
    if len(mixed) == 0:
        raise XkdeError("the mixture selects no rows", file=source.path, field="mixture")
    return mixed.shuffle(seed=source.seed)


def to_prompt_completion(dataset):
    """``messages`` [.., user, assistant] -> ``prompt`` [.., user] + ``completion`` [assistant]."""
    return dataset.map(lambda row: {"prompt": row["messages"][:-1], "completion": row["messages"][-1:]},
                       remove_columns=dataset.column_names)


def load_xeit(source: DataSource, *, assistant_only_loss: bool = False, split: str | None = None):
    """XE-IT training rows in the form SFTTrainer needs for answer-only loss."""
    dataset = load_mixture(source, "xeit", split=split)
    return dataset if assistant_only_loss else to_prompt_completion(dataset)


def load_tlpo(source: DataSource, *, split: str | None = None):
    return load_mixture(source, "tlpo", split=split)
