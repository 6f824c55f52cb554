"""The plain reference: the released X-KDE protocol, one record at a time.

Deliberately simple and independent of :mod:`.scorer` and :mod:`.records`: it
builds its own prompts, runs five unpadded forward passes per record (full
logits), and finds the answer with its own walk over the offsets. The parity
test checks the batched scorer against it; the speed benchmark times it.
"""

from __future__ import annotations

from xkde_data.schema import LangBlock
from xkde_data.template import EditTemplate


def _chat(tokenizer, user: str, system_prompt: str | None) -> str:
    messages = []
    if system_prompt:
        messages.append({"role": "system", "content": system_prompt})
    messages.append({"role": "user", "content": user})
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)


def _answer_predictions(model, tokenizer, prompt: str, answer: str) -> tuple[list[int], list[int]]:
    """(gold answer tokens, argmax predictions for them) from one unbatched forward pass."""
    import torch

    text = prompt + answer
    enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    ids = enc["input_ids"]
    first = None
    for k, (start, end) in enumerate(enc["offset_mapping"]):
        if end > len(prompt) and end > start:
            first = k
            break
    first = max(first, 1)
    with torch.no_grad():
        logits = model(torch.tensor([ids])).logits[0]
    predicted = [int(logits[k - 1].argmax()) for k in range(first, len(ids))]
    return ids[first:], predicted


def reference_record_scores(model, tokenizer, src: LangBlock, tgt: LangBlock, tgt_lang: str,
                            system_prompt: str | None = None) -> dict[str, float]:
    """Reliability, generality, portability and locality (fractions in [0, 1]) of one record."""
    template = EditTemplate.load()
    update = src.prompt + " " + src.target_new

    def with_edit(query: str) -> str:
        return _chat(tokenizer, template.render(target_lang=tgt_lang, updates=[update], query=query), system_prompt)

    def accuracy(query: str, answer: str) -> float:
        gold, predicted = _answer_predictions(model, tokenizer, with_edit(query), answer)
        return sum(int(g == p) for g, p in zip(gold, predicted)) / len(gold)

    scores = {
        "reliability": accuracy(tgt.prompt, tgt.target_new),
        "generality": accuracy(tgt.rephrase[0], tgt.target_new),
        "portability": accuracy(tgt.portability[0].prompt, tgt.portability[0].answer),
    }
    loc = tgt.locality[0]
    _, without_edit = _answer_predictions(model, tokenizer, _chat(tokenizer, loc.prompt, system_prompt), loc.answer)
    _, with_edit_pred = _answer_predictions(model, tokenizer, with_edit(loc.prompt), loc.answer)
    same = sum(int(a == b) for a, b in zip(without_edit, with_edit_pred))
    scores["locality"] = same / max(len(without_edit), len(with_edit_pred))
    return scores
