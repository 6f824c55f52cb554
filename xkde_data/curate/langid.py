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
from dataclasses import dataclass, field

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
    ``fallback_source``: the rival language when a call names no ``source_lang``
    (English: the language xkde's corpora come from and models fall back to).
    """

    def __init__(self, *, confusables: Iterable[str] = (), min_script_share: float = 0.3,
                 max_foreign_share: float = 0.15, min_ngram_letters: int = 12, min_source_margin: float = 0.0,
                 confusable_tolerance: float = 0.1, fallback_source: str | None = "en") -> None:
        self.confusables = tuple(confusables)
        self.fallback_source = fallback_source
        self.min_script_share = min_script_share
        self.max_foreign_share = max_foreign_share
        self.min_ngram_letters = min_ngram_letters
        self.min_source_margin = min_source_margin
        self.confusable_tolerance = confusable_tolerance
        self._table = _shared_table()
        self._profile_index = self._table.profile_index
        self._competitors: dict[tuple, tuple[list[int], list[int]]] = {}

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
        source_lang = self._source(lang, source_lang)
        evidence = self._evidence(text, lang, source_lang, source_text)
        return self._decide(evidence, lang, source_lang, confusables)

    def identify_fields(self, fields: list[tuple[str, str | None]], lang: str, *, source_lang: str | None = None,
                        confusables: Iterable[str] = ()) -> tuple[list[LangIdResult], LangIdResult]:
        """Judge (text, source_text) fields one by one against the source, and together against confusables.

        Near languages (es/fr/pt) are hard to tell apart on one short question but
        easy on a whole translated block; the source language is easy per field.
        The n-gram evidence is computed once per field and pooled for the block.
        """
        source_lang = self._source(lang, source_lang)
        evidences = [self._evidence(text, lang, source_lang, source_text) for text, source_text in fields]
        per_field = [self._decide(ev, lang, source_lang, ()) for ev in evidences]
        pooled = _Evidence(None, [r for ev in evidences if ev.early is None for r in ev.rows],
                           sum(ev.letters for ev in evidences if ev.early is None), 0.0)
        block = self._decide(pooled, lang, source_lang, confusables) if pooled.rows else LangIdResult(None, 0.0, "none")
        return per_field, block

    # ------------------------------------------------------------ internals

    def _source(self, lang: str, source_lang: str | None) -> str | None:
        # Without a source, the language a model falls back to (English for xkde's corpora) is the rival.
        if source_lang is None and self.fallback_source != lang:
            return self.fallback_source
        return source_lang

    def _evidence(self, text: str, lang: str, source_lang: str | None, source_text: str | None) -> "_Evidence":
        target_letters = letters_of(lang)
        source_letters = letters_of(source_lang) if source_lang else frozenset()
        own_script = script_of(lang) != "Latin"
        distinct_script = bool(source_lang) and script_of(lang) != script_of(source_lang)
        masked = mask_carried_over(text, source_text, mask_all_shared=distinct_script)
        units = script_units(masked)
        total = sum(units.values())
        if total == 0:
            # Everything was carried over; a target with its own script must still show some of it.
            all_units = script_units(text)
            if own_script and all_units and not (target_letters & set(all_units)):
                return _Evidence(LangIdResult(False, -1.0, "script"))
            return _Evidence(LangIdResult(None, 0.0, "none"))
        tolerated = target_letters | source_letters | {"Latin"}
        target_share = sum(n for s, n in units.items() if s in target_letters) / total
        foreign_share = sum(n for s, n in units.items() if s not in tolerated) / total
        script_margin = 2 * target_share - 1.0
        if own_script or target_share < 1.0:
            if target_share < (self.min_script_share if own_script else 0.5) or foreign_share > self.max_foreign_share:
                return _Evidence(LangIdResult(False, script_margin, "script"))
        in_script = masked if units.keys() <= target_letters else keep_scripts(masked, target_letters)
        rows, letters = self._table.ngram_rows(in_script)
        return _Evidence(None, rows, letters, script_margin, own_script or target_share < 1.0)

    def _decide(self, ev: "_Evidence", lang: str, source_lang: str | None, confusables: Iterable[str]) -> LangIdResult:
        if ev.early is not None:
            return ev.early
        # Same-script competitors need n-gram evidence.
        key = (lang, source_lang, tuple(confusables))
        competitors = self._competitors.get(key)
        if competitors is None:
            rivals = self._same_script(lang, [source_lang] if source_lang else [])
            others = [c for c in self._same_script(lang, [*self.confusables, *key[2]]) if c not in rivals]
            competitors = self._competitors[key] = ([self._profile(c) for c in rivals], [self._profile(c) for c in others])
        rivals, others = competitors
        script_verdict = LangIdResult(True, ev.script_margin, "script") if ev.script_decided else \
            LangIdResult(None, 0.0, "none")
        if not (rivals or others) or self._profile(lang) is None:
            return script_verdict
        if ev.letters < self.min_ngram_letters or not ev.rows:
            return script_verdict
        scores = self._table.matrix[ev.rows].sum(axis=0, dtype=np.float64) / len(ev.rows)
        target_score = scores[self._profile(lang)]
        # The source must lose outright; a third language must win clearly (near siblings share n-grams).
        margin = math.inf
        if rivals:
            margin = target_score - max(scores[i] for i in rivals) - self.min_source_margin
        if others:
            margin = min(margin, target_score - max(scores[i] for i in others) + self.confusable_tolerance)
        return LangIdResult(bool(margin > 0), float(margin), "ngram")

    def _profile(self, lang: str) -> int | None:
        return self._profile_index.get(_PROFILE_NAMES.get(lang, lang))

    def _same_script(self, lang: str, candidates: Iterable[str]) -> list[str]:
        script = script_of(lang)
        return [c for c in dict.fromkeys(candidates)
                if c != lang and script_of(c) == script and self._profile(c) is not None]

class _NormTable(dict):
    """``str.translate`` table applying langdetect's character normalisation, filled on first sight."""

    def __missing__(self, code: int) -> str:
        value = self[code] = NGram.normalize(chr(code))
        return value


class _NgramTable:
    """langdetect's profiles as log-probability rows, built lazily and shared by every identifier."""

    def __init__(self) -> None:
        detector_factory.init_factory()
        factory = detector_factory._factory
        self.probs = factory.word_lang_prob_map
        self.profile_index = {name: i for i, name in enumerate(factory.langlist)}
        self.row_of: dict[str, int] = {}
        self.matrix = np.zeros((4096, len(factory.langlist)), dtype=np.float32)
        self.word_rows: dict[str, tuple[list[int], int]] = {}
        self.norm_table = _NormTable()

    def ngram_rows(self, text: str) -> tuple[list[int], int]:
        """Matrix rows of the text's known n-grams, and its letter count (cached per word: words repeat)."""
        rows: list[int] = []
        letters = 0
        cache = self.word_rows
        for word in text.translate(self.norm_table).split():
            hit = cache.get(word)
            if hit is None:
                if len(cache) > 500_000:
                    cache.clear()
                hit = cache[word] = self.word_ngram_rows(word)
            rows.extend(hit[0])
            letters += hit[1]
        return rows, letters

    def word_ngram_rows(self, word: str) -> tuple[list[int], int]:
        """langdetect's 1-3-grams of one word (with a leading and trailing space); ALL-CAPS words are skipped."""
        if len(word) > 1 and word.isupper():
            return [], 0
        padded = f" {word} "
        grams = list(word)
        grams += [padded[i:i + 2] for i in range(len(padded) - 1)]
        grams += [padded[i:i + 3] for i in range(len(padded) - 2)]
        row_of, probs = self.row_of, self.probs
        rows = []
        for gram in grams:
            row = row_of.get(gram)
            if row is None:
                if gram not in probs:
                    continue
                row = row_of[gram] = len(row_of)
                if row >= len(self.matrix):
                    self.matrix = np.concatenate([self.matrix, np.zeros_like(self.matrix)])
                self.matrix[row] = np.log(np.asarray(probs[gram], dtype=np.float64) + _SMOOTHING)
            rows.append(row)
        return rows, len(word)



_table: _NgramTable | None = None


def _shared_table() -> _NgramTable:
    global _table
    if _table is None:
        _table = _NgramTable()
    return _table


@dataclass
class _Evidence:
    early: LangIdResult | None  # decided by script evidence alone
    rows: list[int] = field(default_factory=list)
    letters: int = 0
    script_margin: float = 0.0
    script_decided: bool = False  # the script check had something to say (own script, or mixed scripts)


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
