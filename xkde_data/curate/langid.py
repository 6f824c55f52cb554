"""Language identification that answers: *is this text in language L rather than the source or a confusable?*

Naive per-field ``langdetect`` fails on short knowledge questions because the
carried-over entity names (Latin script) dominate its n-grams: seeded, it calls
only 46% of gold Chinese Bi-ZsRE questions Chinese. This identifier instead

1. masks spans carried over from the source: quoted titles, numbers and codes,
   and (when the source text is given) names shared with it;
2. decides languages with their own script by Unicode-script evidence: the
   text must be written mostly in the target's script (word units, so a Han
   sentence is not outweighed by one long Latin name), and letters of a script
   that neither the target nor the source uses (Kana in Chinese, Han in German)
   count against it;
3. tells apart languages that share a script (German vs English, Russian vs
   Ukrainian) by comparing the target's likelihood under langdetect's n-gram
   profiles against the source and the plausible confusables a caller names
   (a build passes its other target languages), never by a global argmax;
   the comparison is deterministic (no sampling);
   ``DetectorFactory.seed`` is set anyway for any caller of langdetect itself;
4. says "cannot tell" (accepted, margin 0) when too little evidence is left.

Everything per language comes from :func:`xkde_data.langs.script_of`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from langdetect import DetectorFactory, detector_factory
from langdetect.utils.ngram import NGram

from ..langs import script_of
from .scripts import keep_scripts, letters_of, script_units

DetectorFactory.seed = 0

#: ISO 639-1 -> langdetect profile name where they differ.
_PROFILE_NAMES = {"zh": "zh-cn", "nb": "no"}

# Spans that translations carry over verbatim whatever the language.
_QUOTED = re.compile(r'"[^"\n]{1,120}"|“[^”\n]{1,120}”|„[^“”\n]{1,120}[“”]|«[^»\n]{1,120}»|《[^》\n]{1,120}》'
                     r'|「[^」\n]{1,120}」|『[^』\n]{1,120}』')
_NUMBER_OR_CODE = re.compile(r"[A-Za-z]*[0-9０-９][0-9０-９A-Za-z.,:/\-]*")
_ACRONYM = re.compile(r"\b[A-Z][A-Z0-9&]+\b")
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")
_SMOOTHING = 0.5 / 10000  # langdetect's own alpha / BASE_FREQ


@dataclass(frozen=True)
class LangIdResult:
    """``accepted`` is None when the text holds too little evidence to tell (callers treat it as accepted)."""

    accepted: bool | None
    margin: float  # > 0 favours the target; script share difference or mean log-likelihood ratio per n-gram
    method: str  # "script", "ngram" or "none"


def mask_carried_over(text: str, source_text: str | None = None, *, mask_all_shared: bool = False) -> str:
    """Blank out quoted titles, numbers, codes, acronyms and words shared with the source text.

    Shared words are masked when capitalised (names) or part of a run of shared
    words (titles), or always when ``mask_all_shared`` (the target does not
    share the source's script, so any shared word is carried over).
    """
    text = _QUOTED.sub(" ", text)
    text = _NUMBER_OR_CODE.sub(" ", text)
    text = _ACRONYM.sub(" ", text)
    if source_text:
        shared = {w.casefold() for w in _WORD.findall(source_text)}
        words = list(_WORD.finditer(text))
        is_shared = [m.group(0).casefold() in shared for m in words]
        pieces, last = [], 0
        for i, m in enumerate(words):
            word = m.group(0)
            in_run = is_shared[i] and ((i > 0 and is_shared[i - 1]) or (i + 1 < len(words) and is_shared[i + 1]))
            # Runs of shared words are titles and names ("The View from the Bottom"); lone shared words only if names.
            if is_shared[i] and (mask_all_shared or in_run or not word.islower()):
                pieces.append(text[last:m.start()] + " ")
                last = m.end()
        text = "".join(pieces) + text[last:]
    return text


class LanguageIdentifier:
    """Decide whether texts are in a given language; deterministic and cheap (pure Python + numpy).

    ``min_script_share``: the share of word units in the target's script a text
    needs when the target has its own script; ``max_foreign_share``: the most a
    script used by neither the target, the source nor Latin (names) may take;
    ``min_ngram_letters``: letters needed before n-gram profiles are trusted;
    ``min_source_margin``: mean per-n-gram log-likelihood ratio by which the
    target must beat the source language (same script); ``confusable_tolerance``:
    how far a third language (``confusables``, e.g. the build's other target
    languages) may score above the target before the text counts as that
    language; near siblings (es/pt) share most short-text n-grams.
    """

    def __init__(self, *, confusables: Iterable[str] = (), min_script_share: float = 0.3,
                 max_foreign_share: float = 0.15, min_ngram_letters: int = 12, min_source_margin: float = 0.0,
                 confusable_tolerance: float = 0.1) -> None:
        self.confusables = tuple(confusables)
        self.min_script_share = min_script_share
        self.max_foreign_share = max_foreign_share
        self.min_ngram_letters = min_ngram_letters
        self.min_source_margin = min_source_margin
        self.confusable_tolerance = confusable_tolerance
        detector_factory.init_factory()
        factory = detector_factory._factory
        self._ngram_probs = factory.word_lang_prob_map
        self._profile_index = {name: i for i, name in enumerate(factory.langlist)}
        self._log_rows: dict[str, np.ndarray] = {}
        self._normalized: dict[str, str] = {}

    # ------------------------------------------------------------ public API

    def is_language(self, text: str, lang: str, *, source_lang: str | None = None,
                    source_text: str | None = None, confusables: Iterable[str] = ()) -> bool:
        """True unless the text is evidently not in ``lang`` (too little evidence counts as True)."""
        return self.identify(text, lang, source_lang=source_lang, source_text=source_text,
                             confusables=confusables).accepted is not False

    def margin(self, text: str, lang: str, *, source_lang: str | None = None, source_text: str | None = None,
               confusables: Iterable[str] = ()) -> float:
        """How strongly the text favours ``lang`` over its competitors (> 0: target wins)."""
        return self.identify(text, lang, source_lang=source_lang, source_text=source_text,
                             confusables=confusables).margin

    def identify(self, text: str, lang: str, *, source_lang: str | None = None,
                 source_text: str | None = None, confusables: Iterable[str] = ()) -> LangIdResult:
        """The verdict with its margin and the evidence used (``source_text`` enables name masking)."""
        target_letters = letters_of(lang)
        source_letters = letters_of(source_lang) if source_lang else frozenset()
        distinct_script = bool(source_lang) and script_of(lang) != script_of(source_lang)
        masked = mask_carried_over(text, source_text, mask_all_shared=distinct_script)
        units = script_units(masked)
        total = sum(units.values())
        if total == 0:
            # Everything was carried over; a target with its own script must still show some of it.
            if script_of(lang) != "Latin" and not (letters_of(lang) & set(script_units(text))) and script_units(text):
                return LangIdResult(False, -1.0, "script")
            return LangIdResult(None, 0.0, "none")
        tolerated = target_letters | source_letters | {"Latin"}
        target_share = sum(n for s, n in units.items() if s in target_letters) / total
        foreign_share = sum(n for s, n in units.items() if s not in tolerated) / total
        other_share = 1.0 - target_share
        if script_of(lang) != "Latin" or other_share > 0:
            script_margin = target_share - other_share
            if target_share < self.min_script_share or foreign_share > self.max_foreign_share:
                return LangIdResult(False, script_margin, "script")
            if script_of(lang) == "Latin" and target_share < 0.5:
                return LangIdResult(False, script_margin, "script")
        # Same-script competitors need n-gram evidence.
        rivals = self._same_script(lang, [source_lang] if source_lang else [])
        others = [c for c in self._same_script(lang, [*self.confusables, *confusables]) if c not in rivals]
        if not (rivals or others) or self._profile(lang) is None:
            if script_of(lang) != "Latin" or other_share > 0:
                return LangIdResult(True, target_share - other_share, "script")
            return LangIdResult(None, 0.0, "none")
        in_script = keep_scripts(masked, target_letters)
        ngrams = self._ngrams(in_script)
        letters = sum(1 for g in ngrams if len(g) == 1)
        rows = [self._log_row(g) for g in ngrams if g in self._ngram_probs]
        if letters < self.min_ngram_letters or not rows:
            return LangIdResult(None, 0.0, "none")
        scores = np.sum(rows, axis=0) / len(rows)
        target_score = scores[self._profile(lang)]
        # The source must lose outright; a third language must win clearly (near siblings share n-grams).
        margin = math.inf
        if rivals:
            margin = target_score - max(scores[self._profile(c)] for c in rivals) - self.min_source_margin
        if others:
            margin = min(margin, target_score - max(scores[self._profile(c)] for c in others) + self.confusable_tolerance)
        return LangIdResult(bool(margin > 0), float(margin), "ngram")

    # ------------------------------------------------------------ internals

    def _profile(self, lang: str) -> int | None:
        return self._profile_index.get(_PROFILE_NAMES.get(lang, lang))

    def _same_script(self, lang: str, candidates: Iterable[str]) -> list[str]:
        script = script_of(lang)
        return [c for c in dict.fromkeys(candidates)
                if c != lang and script_of(c) == script and self._profile(c) is not None]

    def _log_row(self, gram: str) -> np.ndarray:
        row = self._log_rows.get(gram)
        if row is None:
            row = self._log_rows[gram] = np.log(np.asarray(self._ngram_probs[gram], dtype=np.float64) + _SMOOTHING)
        return row

    def _ngrams(self, text: str) -> list[str]:
        """langdetect's 1-3-grams: per word, with a leading and trailing space; ALL-CAPS words skipped."""
        norm = self._normalized
        chars = []
        for ch in text:
            n = norm.get(ch)
            if n is None:
                n = norm[ch] = NGram.normalize(ch)
            chars.append(n)
        out: list[str] = []
        for word in "".join(chars).split():
            if len(word) > 1 and word.isupper():
                continue
            padded = f" {word} "
            out.extend(word)
            out.extend(padded[i:i + 2] for i in range(len(padded) - 1))
            out.extend(padded[i:i + 3] for i in range(len(padded) - 2))
        return out


_default: LanguageIdentifier | None = None


def default_identifier() -> LanguageIdentifier:
    """A shared identifier with default settings (profiles load once per process)."""
    global _default
    if _default is None:
        _default = LanguageIdentifier()
    return _default


def naive_langdetect(text: str) -> str | None:
    """The baseline the design card named: seeded global ``langdetect.detect`` (None when it cannot tell)."""
    from langdetect import detect
    from langdetect.lang_detect_exception import LangDetectException

    DetectorFactory.seed = 0
    try:
        code = detect(text)
    except LangDetectException:
        return None
    return "zh" if code.startswith("zh") else code


__all__ = ["LanguageIdentifier", "LangIdResult", "mask_carried_over", "default_identifier", "naive_langdetect"]
