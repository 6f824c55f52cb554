"""Teacher-forced scoring in padded, length-sorted batches.

For a probe (prompt, answer) the model reads ``prompt + answer``; the answer's
tokens are those whose character span (tokenizer offsets over the full text)
reaches past the prompt, so CJK answers glued to the prompt are found right.
The prediction for answer token *j* is the argmax at position *j - 1*.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import chain
from typing import Sequence

import numpy as np
from tqdm.auto import tqdm

from xkde_data.errors import XkdeError


@dataclass(frozen=True)
class TeacherForced:
    """Gold answer token ids and the model's argmax prediction for each of them."""

    answer_ids: tuple[int, ...]
    predicted_ids: tuple[int, ...]

    @property
    def accuracy(self) -> float:
        return float(np.mean(np.equal(self.answer_ids, self.predicted_ids)))


def agreement(a: Sequence[int], b: Sequence[int]) -> float:
    """Share of positions where two prediction lists agree (positions past the shorter list disagree)."""
    if not a and not b:
        return 1.0
    same = sum(x == y for x, y in zip(a, b))
    return same / max(len(a), len(b))


@dataclass(frozen=True)
class EncodedProbes:
    """Probes tokenized together, flattened: token *k* of probe *i* is ``ids[starts[i] + k]``."""

    ids: np.ndarray  # int64, every probe's tokens back to back
    lengths: np.ndarray  # tokens per probe
    starts: np.ndarray  # offset of each probe's first token in ``ids``
    answer_tokens: np.ndarray  # flat indices (into ``ids``) of answer tokens, grouped by probe in order
    answer_counts: np.ndarray  # answer tokens per probe


def encode_probes(tokenizer, probes: Sequence[tuple[str, str]]) -> EncodedProbes:
    """Tokenize every ``prompt + answer`` in one fast-tokenizer batch call and locate the answers' tokens."""
    enc = tokenizer([prompt + answer for prompt, answer in probes], add_special_tokens=False,
                    return_offsets_mapping=True)
    lengths = np.fromiter(map(len, enc["input_ids"]), dtype=np.int64, count=len(probes))
    total = int(lengths.sum())
    ids = np.fromiter(chain.from_iterable(enc["input_ids"]), dtype=np.int64, count=total)
    offsets = np.fromiter(chain.from_iterable(chain.from_iterable(enc["offset_mapping"])), dtype=np.int64,
                          count=2 * total).reshape(-1, 2)
    starts = np.zeros(len(probes), dtype=np.int64)
    np.cumsum(lengths[:-1], out=starts[1:])
    probe_of_token = np.repeat(np.arange(len(probes)), lengths)
    prompt_chars = np.fromiter((len(prompt) for prompt, _ in probes), dtype=np.int64, count=len(probes))
    ends = offsets[:, 1]
    reaches_answer = (ends > prompt_chars[probe_of_token]) & (ends > offsets[:, 0])
    is_answer = reaches_answer & (np.arange(total) > starts[probe_of_token])  # a probe's first token has no prediction
    answer_tokens = np.flatnonzero(is_answer)
    answer_counts = np.bincount(probe_of_token[answer_tokens], minlength=len(probes))
    if len(probes) and not answer_counts.all():
        answer = probes[int(np.argmin(answer_counts))][1]
        raise XkdeError(f"the answer {answer!r} has no tokens of its own after the prompt")
    return EncodedProbes(ids, lengths, starts, answer_tokens, answer_counts)


def encode_probe(tokenizer, prompt: str, answer: str) -> tuple[list[int], np.ndarray]:
    """Token ids of ``prompt + answer`` and the indices of the answer's tokens."""
    enc = encode_probes(tokenizer, [(prompt, answer)])
    return enc.ids.tolist(), enc.answer_tokens


def check_fast_tokenizer(tokenizer) -> None:
    if not getattr(tokenizer, "is_fast", False):
        raise XkdeError("the model's tokenizer is not a fast tokenizer; answer positions need its offsets")


def _split_model(model):
    """(backbone, output head): scoring only the needed positions avoids full-vocabulary logits everywhere."""
    backbone = getattr(model, getattr(model, "base_model_prefix", ""), None)
    head = model.get_output_embeddings() if hasattr(model, "get_output_embeddings") else None
    if backbone is None or head is None or backbone is model:
        return None, None
    return backbone, head


def score_probes(model, tokenizer, probes: Sequence[tuple[str, str]], *, batch_size: int = 32,
                 show_progress: bool = False) -> list[TeacherForced]:
    """Score (prompt, answer) probes; identical probes are run once. Returns one result per probe, in order."""
    import torch

    check_fast_tokenizer(tokenizer)
    if batch_size < 1:
        raise XkdeError("must be at least 1", field="--batch-size")
    unique = list(dict.fromkeys(probes))
    if not unique:
        return []
    enc = encode_probes(tokenizer, unique)
    order = np.argsort(-enc.lengths, kind="stable")  # longest first; batches pad little
    lengths = enc.lengths[order]
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    device = next(model.parameters()).device

    # Tokens in length order, flat, on the device; each batch is gathered from them with tensor ops.
    sorted_starts = np.zeros_like(lengths)
    np.cumsum(lengths[:-1], out=sorted_starts[1:])
    token_rank = np.arange(int(lengths.sum())) - np.repeat(sorted_starts, lengths)
    sorted_ids = torch.from_numpy(enc.ids[np.repeat(enc.starts[order], lengths) + token_rank]).to(device)
    starts_device = torch.from_numpy(sorted_starts).to(device)
    lengths_device = torch.from_numpy(lengths).to(device)
    positions = torch.arange(int(lengths[0]), device=device)
    last_token = sorted_ids.numel() - 1

    # Answer tokens in length order, as (row, column of the predicting position): one gather per batch.
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    token_probe = np.repeat(np.arange(len(unique)), enc.answer_counts)
    by_rank = np.argsort(rank[token_probe], kind="stable")
    answer_row = rank[token_probe][by_rank]
    answer_col = (enc.answer_tokens - enc.starts[token_probe])[by_rank] - 1
    rows_device = torch.from_numpy(answer_row).to(device)
    cols_device = torch.from_numpy(answer_col).to(device)
    answer_bounds = np.searchsorted(answer_row, np.arange(0, order.size + batch_size, batch_size)).tolist()

    backbone, head = _split_model(model)
    predicted = []
    bar = tqdm(total=len(unique), desc="teacher-forced", unit="seq", disable=not show_progress)
    with bar, torch.inference_mode():
        for b, start in enumerate(range(0, order.size, batch_size)):
            stop = min(start + batch_size, order.size)
            width = int(lengths[start])
            columns = positions[:width]
            # Right padding: real tokens keep positions 0..n-1.
            real = columns < lengths_device[start:stop, None]
            token_index = (starts_device[start:stop, None] + columns).clamp_(max=last_token)
            inputs = dict(input_ids=torch.where(real, sorted_ids[token_index], pad_id), attention_mask=real.long(),
                          position_ids=columns.expand(stop - start, -1), use_cache=False)
            lo, hi = answer_bounds[b], answer_bounds[b + 1]
            rows, cols = rows_device[lo:hi] - start, cols_device[lo:hi]
            if backbone is not None:
                logits = head(backbone(**inputs).last_hidden_state[rows, cols])
            else:
                logits = model(**inputs).logits[rows, cols]
            predicted.append(logits.argmax(-1))
            bar.update(stop - start)
    # Back to probe order: one device-to-host copy for the whole run.
    predicted_flat = np.empty(answer_row.size, dtype=np.int64)
    predicted_flat[by_rank] = torch.cat(predicted).cpu().numpy()
    gold_flat = enc.ids[enc.answer_tokens]
    cuts = np.cumsum(enc.answer_counts)[:-1]
    results = [TeacherForced(tuple(gold.tolist()), tuple(pred.tolist()))
               for gold, pred in zip(np.split(gold_flat, cuts), np.split(predicted_flat, cuts))]
    by_probe = dict(zip(unique, results))
    return [by_probe[p] for p in probes]
