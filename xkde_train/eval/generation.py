"""Generation metrics beyond the paper: greedy answers, exact match, token F1, answer-language consistency.

Normalisation is per language and never assumes spaces: characters of scripts
written without spaces (Han, kana, Thai, ...) are tokens on their own.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections import Counter
from functools import lru_cache
from typing import Sequence

from tqdm.auto import tqdm

# Scripts written without spaces between words: one character = one token.
_UNSPACED = (
    "\u3040-\u30ff\u31f0-\u31ff"  # hiragana, katakana
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff"  # Han
    "\u0e00-\u0eff"  # Thai, Lao
    "\u1000-\u109f\u1780-\u17ff\u0f00-\u0fff"  # Myanmar, Khmer, Tibetan
)
_TOKEN = re.compile(f"[{_UNSPACED}]|[^\\s{_UNSPACED}]+")

#: Articles dropped before comparing, per language (SQuAD-style normalisation, extended).
ARTICLES: dict[str, frozenset[str]] = {
    "en": frozenset({"a", "an", "the"}),
    "de": frozenset({"der", "die", "das", "den", "dem", "des", "ein", "eine", "einen", "einem", "einer", "eines"}),
    "fr": frozenset({"le", "la", "les", "l", "un", "une", "des"}),
    "es": frozenset({"el", "la", "los", "las", "un", "una", "unos", "unas"}),
    "it": frozenset({"il", "lo", "la", "i", "gli", "le", "l", "un", "uno", "una"}),
    "pt": frozenset({"o", "a", "os", "as", "um", "uma"}),
    "nl": frozenset({"de", "het", "een"}),
}


def _is_punct(ch: str) -> bool:
    return unicodedata.category(ch).startswith("P") or ch in string.punctuation


def answer_tokens(text: str, lang: str) -> list[str]:
    """Normalised tokens: NFKC, case-folded, punctuation as space, articles of ``lang`` dropped."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = "".join(" " if _is_punct(ch) else ch for ch in text)
    articles = ARTICLES.get(lang, frozenset())
    return [tok for tok in _TOKEN.findall(text) if tok not in articles]


def exact_match(prediction: str, gold: str, lang: str) -> float:
    return float(answer_tokens(prediction, lang) == answer_tokens(gold, lang))


def token_f1(prediction: str, gold: str, lang: str) -> float:
    pred, ref = answer_tokens(prediction, lang), answer_tokens(gold, lang)
    if not pred or not ref:
        return float(pred == ref)
    common = sum((Counter(pred) & Counter(ref)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(ref)
    return 2 * precision * recall / (precision + recall)


@lru_cache(maxsize=1)
def language_identifier():
    """xkde-data's language identification (the curation filter's), or None where it is not installed."""
    try:
        from xkde_data.curate.langid import LanguageIdentifier
    except ImportError:
        return None
    return LanguageIdentifier()


def in_language(text: str, lang: str, source_lang: str | None = None) -> bool | None:
    """Whether a generated answer is in ``lang``; None when language ID is unavailable."""
    ident = language_identifier()
    if ident is None:
        return None
    if not text.strip():
        return False
    return bool(ident.is_language(text, lang, source_lang=source_lang))


def generate_answers(model, tokenizer, prompts: Sequence[str], *, batch_size: int = 32, max_new_tokens: int = 24,
                     show_progress: bool = False) -> list[str]:
    """Greedy answers to chat-formatted prompts, in left-padded, length-sorted batches; identical prompts run once."""
    import torch

    unique = list(dict.fromkeys(prompts))
    encoded = [tokenizer(p, add_special_tokens=False)["input_ids"] for p in unique]
    order = sorted(range(len(unique)), key=lambda i: len(encoded[i]), reverse=True)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    device = next(model.parameters()).device
    answers: dict[int, str] = {}
    bar = tqdm(total=len(unique), desc="generation", unit="answer", disable=not show_progress)
    with bar, torch.inference_mode():
        for start in range(0, len(order), batch_size):
            batch = order[start:start + batch_size]
            width = len(encoded[batch[0]])
            ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
            mask = torch.zeros((len(batch), width), dtype=torch.long)
            for row, i in enumerate(batch):  # left padding: every row's last token is its prompt's last
                seq = encoded[i]
                ids[row, width - len(seq):] = torch.tensor(seq)
                mask[row, width - len(seq):] = 1
            out = model.generate(input_ids=ids.to(device), attention_mask=mask.to(device), do_sample=False,
                                 max_new_tokens=max_new_tokens, pad_token_id=pad_id,
                                 eos_token_id=tokenizer.eos_token_id)
            for row, i in enumerate(batch):
                answers[i] = tokenizer.decode(out[row, width:], skip_special_tokens=True).strip()
            bar.update(len(batch))
    by_prompt = {p: answers[i] for i, p in enumerate(unique)}
    return [by_prompt[p] for p in prompts]
