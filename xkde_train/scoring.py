"""Teacher-forced scores of answers under a chat model: did training take?

``answer_token_accuracy``: share of answer tokens the model predicts (argmax)
given the prompt and the answer so far. ``preference_margin``: mean log-prob of
the chosen answer minus that of the rejected one (per token), the quantity
TL-PO should raise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

Messages = list[dict]


@dataclass
class AnswerTokens:
    input_ids: list[int]
    answer_start: int  # index of the first answer token


def encode_answer(tokenizer, prompt: Messages, completion: Messages) -> AnswerTokens:
    """Token ids of prompt + answer as the chat template renders them, and where the answer starts."""
    prompt_text = tokenizer.apply_chat_template(prompt, tokenize=False, add_generation_prompt=True)
    full_text = tokenizer.apply_chat_template(prompt + completion, tokenize=False)
    if not full_text.startswith(prompt_text):
        raise ValueError("chat template: the rendered prompt is not a prefix of the rendered conversation")
    prompt_ids = tokenizer(prompt_text, add_special_tokens=False)["input_ids"]
    answer_ids = tokenizer(full_text[len(prompt_text):], add_special_tokens=False)["input_ids"]
    return AnswerTokens(prompt_ids + answer_ids, len(prompt_ids))


def _answer_logits(model, tokens: AnswerTokens):
    import torch

    ids = torch.tensor([tokens.input_ids], device=model.device)
    with torch.no_grad():
        logits = model(input_ids=ids).logits[0, :-1].float()
    targets = ids[0, 1:]
    start = tokens.answer_start - 1  # logits at position i predict token i + 1
    return logits[start:], targets[start:]


def answer_token_accuracy(model, tokenizer, rows: Iterable[tuple[Messages, Messages]]) -> float:
    """Teacher-forced answer-token accuracy over (prompt, completion) rows."""
    correct = total = 0
    model.eval()
    for prompt, completion in rows:
        logits, targets = _answer_logits(model, encode_answer(tokenizer, prompt, completion))
        correct += int((logits.argmax(-1) == targets).sum())
        total += int(targets.numel())
    return correct / total if total else 0.0


def answer_logprob(model, tokenizer, prompt: Messages, completion: Messages) -> float:
    """Mean per-token log-probability of the answer."""
    import torch

    logits, targets = _answer_logits(model, encode_answer(tokenizer, prompt, completion))
    logps = torch.log_softmax(logits, -1).gather(-1, targets[:, None]).squeeze(-1)
    return float(logps.mean())


def preference_margin(model, tokenizer, pairs: Sequence[dict]) -> float:
    """Mean over pairs of logp(chosen) - logp(rejected), per token; rows have prompt/chosen/rejected."""
    model.eval()
    margins = [answer_logprob(model, tokenizer, p["prompt"], p["chosen"])
               - answer_logprob(model, tokenizer, p["prompt"], p["rejected"]) for p in pairs]
    return sum(margins) / len(margins) if margins else 0.0
