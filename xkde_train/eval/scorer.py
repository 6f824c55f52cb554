"""Teacher-forced scoring in padded, length-sorted batches.

For a probe (prompt, answer) the model reads ``prompt + answer``; the answer's
tokens are those whose character span (tokenizer offsets over the full text)
reaches past the prompt, so CJK answers glued to the prompt are found right.
The prediction for answer token *j* is the argmax at position *j - 1*.
"""

from __future__ import annotations

from dataclasses import dataclass
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


def encode_probe(tokenizer, prompt: str, answer: str) -> tuple[list[int], np.ndarray]:
    """Token ids of ``prompt + answer`` and the indices of the answer's tokens."""
    enc = tokenizer(prompt + answer, add_special_tokens=False, return_offsets_mapping=True)
    offsets = np.asarray(enc["offset_mapping"], dtype=np.int64).reshape(-1, 2)
    ends, starts = offsets[:, 1], offsets[:, 0]
    answer_pos = np.flatnonzero((ends > len(prompt)) & (ends > starts))
    answer_pos = answer_pos[answer_pos > 0]  # position 0 has no preceding prediction
    if answer_pos.size == 0:
        raise XkdeError(f"the answer {answer!r} has no tokens of its own after the prompt")
    return list(enc["input_ids"]), answer_pos


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
    encoded = [encode_probe(tokenizer, p, a) for p, a in unique]
    order = sorted(range(len(unique)), key=lambda i: len(encoded[i][0]), reverse=True)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    device = next(model.parameters()).device
    backbone, head = _split_model(model)
    results: dict[int, TeacherForced] = {}
    bar = tqdm(total=len(unique), desc="teacher-forced", unit="seq", disable=not show_progress)
    with bar, torch.inference_mode():
        for start in range(0, len(order), batch_size):
            batch = order[start:start + batch_size]
            width = len(encoded[batch[0]][0])
            ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
            mask = torch.zeros((len(batch), width), dtype=torch.long)
            for row, i in enumerate(batch):  # right padding: real tokens keep positions 0..n-1
                seq = encoded[i][0]
                ids[row, :len(seq)] = torch.tensor(seq)
                mask[row, :len(seq)] = 1
            positions = torch.arange(width).unsqueeze(0).expand(len(batch), -1)
            rows = np.concatenate([np.full(encoded[i][1].size, r) for r, i in enumerate(batch)])
            cols = np.concatenate([encoded[i][1] - 1 for i in batch])
            inputs = dict(input_ids=ids.to(device), attention_mask=mask.to(device), position_ids=positions.to(device))
            if backbone is not None:
                hidden = backbone(**inputs).last_hidden_state
                logits = head(hidden[torch.as_tensor(rows, device=device), torch.as_tensor(cols, device=device)])
            else:
                logits = model(**inputs).logits[torch.as_tensor(rows), torch.as_tensor(cols)]
            predicted = logits.argmax(-1).tolist()
            cursor = 0
            for i in batch:
                seq, pos = encoded[i]
                n = pos.size
                results[i] = TeacherForced(tuple(seq[p] for p in pos), tuple(predicted[cursor:cursor + n]))
                cursor += n
            bar.update(len(batch))
    by_probe = {probe: results[i] for i, probe in enumerate(unique)}
    return [by_probe[p] for p in probes]
