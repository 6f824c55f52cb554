"""The per-(case, language) translation checks. Each returns None (pass) or a detail naming the field.

Reason codes (see docs/curation.md):

- ``structure``: the translated block lacks a field the source has (or has extra list items).
- ``chatter``: wrapper text around a value: "Here is the translation", a "Label:" prefix,
  quotes or code fences, an added line break.
- ``untranslated``: a question field is a copy of the source question.
- ``wrong_language``: a question field is not in the target language (see :mod:`.langid`);
  an answer or name contains letters of a script neither language uses.
- ``number_mismatch``: a number or date of a source field is missing from its translation.
- ``answer_inconsistent``: the source repeats the answer inside a field, the translation does not.
- ``length_ratio``: a field's length (in Latin-letter equivalents) is out of bounds, or a
  question lost its final punctuation (truncation).
- ``roundtrip_chrf``, ``duplicate``, ``contaminated``: see :mod:`.stage` and :mod:`.decontam`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from .scripts import char_script, letters_of, scripts_of

# --------------------------------------------------------------------- fields


@dataclass(frozen=True)
class FieldPair:
    name: str  # "prompt", "rephrase[0]", "locality[0].answer", ...
    kind: str  # "question", "answer" or "name"
    source: str
    target: str


_TASK_PREFIX = re.compile(r"^\s*(?:nq question|question|q)\s*:\s*", re.IGNORECASE)


def strip_task_prefix(text: str) -> str:
    """Corpus task labels ("nq question: ...") are artifacts of the English corpus, not content to translate."""
    return _TASK_PREFIX.sub("", text, count=1)


def field_pairs(source: dict, target: dict) -> tuple[list[FieldPair], str | None]:
    """Align source and translated fields of one case; the second item names a structural mismatch."""
    pairs: list[FieldPair] = []
    for name, kind in (("subject", "name"), ("prompt", "question"), ("target_new", "answer"), ("target_true", "answer")):
        s, t = source.get(name), target.get(name)
        if s is None and t is None:
            continue
        if s is None or t is None or not t.strip():
            return pairs, f"{name}: {'missing' if t is None or not t.strip() else 'not in the source'}"
        pairs.append(FieldPair(name, kind, s, t))
    for list_name in ("rephrase", "locality", "portability"):
        s_items, t_items = list(source.get(list_name) or []), list(target.get(list_name) or [])
        if len(s_items) != len(t_items):
            return pairs, f"{list_name}: {len(t_items)} item(s), the source has {len(s_items)}"
        for i, (s, t) in enumerate(zip(s_items, t_items)):
            if list_name == "rephrase":
                pairs.append(FieldPair(f"rephrase[{i}]", "question", strip_task_prefix(s), t or ""))
                continue
            pairs.append(FieldPair(f"{list_name}[{i}].prompt", "question", strip_task_prefix(s["prompt"]),
                                   t["prompt"] or ""))
            pairs.append(FieldPair(f"{list_name}[{i}].answer", "answer", s["answer"], t["answer"] or ""))
    for p in pairs:
        if not p.target.strip():
            return pairs, f"{p.name}: empty"
    return pairs, None


# --------------------------------------------------------------------- chatter

_WRAPPER_PHRASES = re.compile(
    r"here(?: is|'s| are)\b|translation|translated|translate|sure[,!]|certainly|of course|note:|"
    r"traduction|traduit|übersetzung|übersetzt|traducción|traducido|tradução|traduzione|перевод|"
    r"翻译|译文|以下是|翻訳|번역|ترجمة", re.IGNORECASE)
# "Question: ...", "Antwort: ...": a field label of at most three words before a colon.
_LABEL_PREFIX = re.compile(
    r"^\s*(?:\S+\s+){0,2}?(?:question|answer|output|result|text|target|frage|antwort|réponse|pregunta|respuesta|"
    r"domanda|risposta|pergunta|resposta|vraag|antwoord|вопрос|ответ|问题|答案|回答|質問|질문|답변|سؤال|جواب)\w*\s*[:：]",
    re.IGNORECASE)
_QUOTE_PAIRS = {'"': '"', "“": "”", "„": "“", "«": "»", "「": "」", "『": "』", "'": "'", "‘": "’", "《": "》", "`": "`"}
# Title marks: languages put names of works in them (《书名》, «Война и мир», 『作品』), so names may carry them.
_TITLE_MARKS = {"《", "«", "„", "「", "『"}


def _wrapped(text: str, *, allow_title_marks: bool = False) -> bool:
    text = text.strip()
    if allow_title_marks and text[:1] in _TITLE_MARKS:
        return False
    return len(text) > 2 and _QUOTE_PAIRS.get(text[0]) == text[-1] and text[0] not in text[1:-1]


def check_chatter(pair: FieldPair) -> str | None:
    """Reason ``chatter``: the translation carries wrapper text the source does not."""
    s, t = pair.source, pair.target
    if "```" in t and "```" not in s:
        return f"{pair.name}: code fence around the value"
    if "\n" in t.strip() and "\n" not in s.strip():
        return f"{pair.name}: added line break"
    if _wrapped(t, allow_title_marks=pair.kind != "question") and not _wrapped(s):
        return f"{pair.name}: quotes around the value"
    m = _WRAPPER_PHRASES.search(t) if len(t) <= 120 else (_WRAPPER_PHRASES.search(t[:60]) or
                                                          _WRAPPER_PHRASES.search(t[-60:]))
    if m and not _WRAPPER_PHRASES.search(s):
        where = "prefix" if m.start() < len(t) / 2 else "suffix"
        return f"{pair.name}: wrapper {where} {m.group(0)!r}"
    if _LABEL_PREFIX.match(t) and not re.search(r"[:：]", s):
        return f"{pair.name}: label prefix {t.split(':')[0].split('：')[0][:30]!r}"
    return None


# --------------------------------------------------------------------- copies

_NORM_DROP = re.compile(r"[\W_]+", re.UNICODE)


@lru_cache(maxsize=1 << 16)
def normalize_text(text: str) -> str:
    """Case-, width- and punctuation-insensitive form used for copy and duplicate checks."""
    return _NORM_DROP.sub("", unicodedata.normalize("NFKC", text).casefold())


def check_untranslated(pair: FieldPair) -> str | None:
    """Reason ``untranslated``: a question copied from the source (answers and names may stay identical)."""
    if pair.kind == "question" and normalize_text(pair.target) == normalize_text(pair.source):
        return f"{pair.name}: identical to the source"
    return None


# --------------------------------------------------------------------- scripts of answers

def check_answer_script(pair: FieldPair, lang: str, source_lang: str) -> str | None:
    """Reason ``wrong_language`` for short answers and names: no language ID, only script rules.

    An answer may stay as in the source (names, numbers) or be in the target's
    script; letters of any other script (Latin excepted: names) mean another language.
    """
    tolerated = letters_of(lang) | letters_of(source_lang) | {"Latin", None}
    foreign = set(scripts_of(pair.target)) - tolerated
    if foreign:
        return f"{pair.name}: {sorted(foreign)[0]} letters in a {lang} answer"
    return None


# --------------------------------------------------------------------- numbers

_FULLWIDTH = str.maketrans("０１２３４５６７８９", "0123456789")
_CJK_DIGITS = {"〇": 0, "零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CJK_UNITS = {"十": 10, "百": 100, "千": 1000, "万": 10000}
# CJK numerals are read only next to a date or ordinal affix: "一" alone is also a word.
_CJK_NUMBER = re.compile(r"(第)?([〇零一二两三四五六七八九十百千万]+)(?=(年|月|日|号|世纪|年代|届|次|岁))|第([〇零一二两三四五六七八九十百千万]+)")
_NUMBER = re.compile(r"\d{1,3}(?:[ \u00a0\u202f.,'’]\d{3})+(?![\d])|\d(?:[\d.,'’\u00a0\u202f]*\d)?")
# Roman numerals may carry an ordinal suffix: "XIXe siècle", "XXº".
_ROMAN_SUFFIX = r"(?:e|er|re|ème|º|ª)?\b"
_ROMAN = re.compile(rf"\b(?=[MDCLXVI]{{2,}}{_ROMAN_SUFFIX})M{{0,3}}(?:CM|CD|D?C{{0,3}})(?:XC|XL|L?X{{0,3}})(?:IX|IV|V?I{{0,3}})(?={_ROMAN_SUFFIX})")
_MAYBE_NUMBER = re.compile(r"[0-9０-９〇零一二两三四五六七八九十百千万]|\b[MDCLXVI]{2,}")
_ROMAN_VALUES = {"M": 1000, "D": 500, "C": 100, "L": 50, "X": 10, "V": 5, "I": 1}
#: Numbers up to this may be spelled out in a translation ("dix", "primer", "1st" -> "erster").
SPELLED_OUT_MAX = 12


def _cjk_value(numeral: str) -> int:
    if not any(ch in _CJK_UNITS for ch in numeral):
        return int("".join(str(_CJK_DIGITS[ch]) for ch in numeral))  # 二〇〇六 -> 2006
    total, current = 0, 0
    for ch in numeral:
        if ch in _CJK_DIGITS:
            current = _CJK_DIGITS[ch]
        else:
            total += (current or 1) * _CJK_UNITS[ch]
            current = 0
    return total + current


def _roman_value(numeral: str) -> int:
    values = [_ROMAN_VALUES[ch] for ch in numeral]
    return sum(-v if i + 1 < len(values) and v < values[i + 1] else v for i, v in enumerate(values))


@lru_cache(maxsize=1 << 16)
def numbers_in(text: str) -> list[str]:
    """Numbers of a text as digit strings: full-width digits, CJK numerals with date affixes, separators dropped.

    Cached (source texts recur for every target language): treat the list as read-only.
    """
    if not _MAYBE_NUMBER.search(text):
        return []
    text = text.translate(_FULLWIDTH)

    def repl(m: re.Match) -> str:
        numeral = m.group(2) or m.group(4)
        return f" {_cjk_value(numeral)} "

    text = _CJK_NUMBER.sub(repl, text)
    text = _ROMAN.sub(lambda m: f" {_roman_value(m.group(0))} " if m.group(0) else "", text)
    out = []
    for n in _NUMBER.findall(text):
        # "3 000" is one number in French, "17 503" two in "August 17 503": keep the groups, compare both readings.
        if " " in n:
            out.append(" ".join(re.sub(r"\D", "", part) for part in n.split()))
        else:
            out.append(_digits(n))
    return out


def _digits(number: str) -> str:
    return re.sub(r"\D", "", number).lstrip("0") or "0"


def _readings(number: str) -> set[str]:
    """A number as one value, and (for space-grouped digits) as separate values."""
    out = {_digits(number)}
    if " " in number:
        out.update(_digits(part) for part in number.split())
    return out


def _found(number: str, candidates: list[str]) -> bool:
    available = set().union(*(_readings(c) for c in candidates)) if candidates else set()
    if _digits(number) in available:
        return True
    return " " in number and all(_digits(part) in available for part in number.split())


def check_numbers(pair: FieldPair) -> str | None:
    """Reason ``number_mismatch``: every number of the source field appears in the translation.

    Small numbers (<= SPELLED_OUT_MAX) may be spelled out, but only where the
    translation writes no digits at all. Locality items are unrelated to the
    edit and localise units and times (1 pm -> 13 Uhr), so they are not compared.
    """
    if pair.name.startswith("locality"):
        return None
    source_numbers = numbers_in(pair.source)
    if not source_numbers:
        return None
    target_numbers = numbers_in(pair.target)
    missing = [n for n in source_numbers if not _found(n, target_numbers)
               and (target_numbers or max(int(_digits(p)) for p in n.split()) > SPELLED_OUT_MAX)]
    if missing:
        return f"{pair.name}: number {_digits(missing[0])} of the source is missing ({pair.target[:40]!r})"
    return None


# --------------------------------------------------------------------- answer consistency

@lru_cache(maxsize=1 << 16)
def _fold(text: str) -> str:
    # Diacritics come and go between renderings of a name (Łódź / Lodz).
    decomposed = unicodedata.normalize("NFKD", normalize_text(text))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _grams(norm: str, n: int) -> set[str]:
    return {norm[i:i + n] for i in range(len(norm) - n + 1)}


def mentions(question: str, answer: str, threshold: float = 0.5) -> bool:
    """Whether a question mentions an answer, allowing inflection and variant renderings.

    The share of the answer's character n-grams found in the question; n is 2
    for scripts that write a syllable or word per character, else 3.
    """
    norm_a, norm_q = _fold(answer), _fold(question)
    if not norm_a:
        return False
    n = 2 if _SYLLABIC.search(norm_a) else 3
    if len(norm_a) <= n:
        return norm_a in norm_q
    grams = _grams(norm_a, n)
    return len(grams & _grams(norm_q, n)) / len(grams) >= threshold


_SYLLABIC = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")
_NAME_PART = re.compile(r"[^\s·・,，、()（）\-–—]+")


def _name_forms(*answers: str) -> list[str]:
    """An answer, and its distinctive parts: a translation may shorten "Gmina Łódź" to "Łódź"."""
    forms = list(answers)
    for answer in answers:
        parts = _NAME_PART.findall(answer)
        if len(parts) > 1:
            forms += [part for part in parts if len(part) >= 4 or (len(part) >= 2 and char_script(part[0]) == "Han")]
    return forms


_ENTITY = re.compile(r"\d|[^\W\d_]*[A-Z]")


def check_answer_consistency(pairs: list[FieldPair]) -> str | None:
    """Reason ``answer_inconsistent``: where the source repeats an answer in a question, the translation does too.

    Only entity answers (names and numbers: a digit or a capital letter in the
    source) are checked; common nouns are legitimately paraphrased or inflected.
    The translated question may carry the answer as translated or as in the source
    (names are often kept); it must mention it in one of the two forms.
    """
    by_name = {p.name: p for p in pairs}
    for answer_name in ("target_new", "target_true"):
        answer = by_name.get(answer_name)
        if answer is None or len(normalize_text(answer.source)) < 2 or not _ENTITY.search(answer.source):
            continue
        for p in pairs:
            if p.kind != "question" or p.name.startswith("locality") or _fold(answer.source) not in _fold(p.source):
                continue
            if not any(mentions(p.target, form) for form in _name_forms(answer.target, answer.source)):
                return f"{p.name}: the source repeats {answer_name} {answer.source!r}, the translation has neither " \
                       f"{answer.target!r} nor the source form"
    return None


# --------------------------------------------------------------------- length

#: Latin-letter equivalents per letter of a script (how much a letter "says"); per script, not per language.
SCRIPT_DENSITY = {"Han": 3.0, "Kana": 1.6, "Hangul": 2.2, "Thai": 1.0, "Lao": 1.0, "Khmer": 1.0, "Myanmar": 1.0,
                  "Tibetan": 1.2, "Arabic": 1.3, "Hebrew": 1.3, "Thaana": 1.3, "Ethiopic": 1.8}
_TERMINAL = "?？؟;;.。!！։।॥"


@lru_cache(maxsize=1 << 16)
def effective_length(text: str) -> float:
    """Length in Latin-letter equivalents: letters weighted by their script's density, digits count one."""
    weights = _WEIGHTS
    try:
        return sum([weights[ch] for ch in text])
    except KeyError:
        for ch in text:
            if ch not in weights:
                script = char_script(ch)
                weights[ch] = SCRIPT_DENSITY.get(script, 1.0) if script else (1.0 if ch.isdigit() else 0.0)
        return sum([weights[ch] for ch in text])


_WEIGHTS: dict[str, float] = {}


def length_ratio(pair: FieldPair) -> float | None:
    source = effective_length(pair.source)
    return effective_length(pair.target) / source if source >= 1 else None


def check_length(pair: FieldPair, min_ratio: float, max_ratio: float) -> str | None:
    """Reason ``length_ratio``: out-of-bounds length, or a question that lost its final punctuation."""
    if pair.kind == "question":
        s, t = pair.source.rstrip(), pair.target.rstrip().rstrip("\"'”»」』)")
        if s and s[-1] in "?!" and t and t[-1] not in _TERMINAL:
            return f"{pair.name}: the question lost its final '{s[-1]}' (truncated?)"
        # Short questions vary too much in length to judge.
        if effective_length(pair.source) < 12:
            return None
        ratio = effective_length(pair.target) / effective_length(pair.source)
        if not min_ratio <= ratio <= max_ratio:
            return f"{pair.name}: length ratio {ratio:.2f} outside [{min_ratio}, {max_ratio}]"
    return None
