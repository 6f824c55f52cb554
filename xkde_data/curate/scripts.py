"""Unicode-script evidence: which writing system each letter belongs to.

Language ID for languages with their own script does not need n-grams: a
Chinese sentence is written in Han, a Russian one in Cyrillic. This module
classifies characters by script (a small range table, cached per character)
and counts *word units* per script, so that one Latin name does not outweigh a
sentence of Han characters (Han, Kana and the unspaced scripts of South-East
Asia count characters, spaced scripts count words).
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections import Counter

from ..langs import script_of

# (first code point, last code point, script); sorted, non-overlapping.
_RANGES: list[tuple[int, int, str]] = sorted([
    (0x0041, 0x005A, "Latin"), (0x0061, 0x007A, "Latin"), (0x00C0, 0x024F, "Latin"),
    (0x1E00, 0x1EFF, "Latin"), (0xFF21, 0xFF3A, "Latin"), (0xFF41, 0xFF5A, "Latin"),
    (0x0370, 0x03FF, "Greek"), (0x1F00, 0x1FFF, "Greek"),
    (0x0400, 0x052F, "Cyrillic"), (0x1C80, 0x1C8F, "Cyrillic"),
    (0x0530, 0x058F, "Armenian"), (0x0590, 0x05FF, "Hebrew"),
    (0x0600, 0x06FF, "Arabic"), (0x0750, 0x077F, "Arabic"), (0x08A0, 0x08FF, "Arabic"),
    (0xFB50, 0xFDFF, "Arabic"), (0xFE70, 0xFEFF, "Arabic"),
    (0x0780, 0x07BF, "Thaana"), (0x0900, 0x097F, "Devanagari"), (0x0980, 0x09FF, "Bengali"),
    (0x0A00, 0x0A7F, "Gurmukhi"), (0x0A80, 0x0AFF, "Gujarati"), (0x0B00, 0x0B7F, "Oriya"),
    (0x0B80, 0x0BFF, "Tamil"), (0x0C00, 0x0C7F, "Telugu"), (0x0C80, 0x0CFF, "Kannada"),
    (0x0D00, 0x0D7F, "Malayalam"), (0x0D80, 0x0DFF, "Sinhala"), (0x0E00, 0x0E7F, "Thai"),
    (0x0E80, 0x0EFF, "Lao"), (0x0F00, 0x0FFF, "Tibetan"), (0x1000, 0x109F, "Myanmar"),
    (0x10A0, 0x10FF, "Georgian"), (0x1100, 0x11FF, "Hangul"), (0x3130, 0x318F, "Hangul"),
    (0xAC00, 0xD7AF, "Hangul"), (0x1200, 0x139F, "Ethiopic"), (0x1780, 0x17FF, "Khmer"),
    (0x3040, 0x309F, "Kana"), (0x30A0, 0x30FF, "Kana"), (0x31F0, 0x31FF, "Kana"),
    (0xFF66, 0xFF9F, "Kana"),
    (0x3400, 0x4DBF, "Han"), (0x4E00, 0x9FFF, "Han"), (0xF900, 0xFAFF, "Han"),
    (0x20000, 0x2FFFF, "Han"), (0x3005, 0x3007, "Han"),
])
_STARTS = [r[0] for r in _RANGES]

#: Scripts written without spaces between words: each character is a fraction of a word.
CHARS_PER_UNIT = {"Han": 1.0, "Kana": 1.5, "Thai": 4.0, "Lao": 4.0, "Khmer": 4.0, "Myanmar": 4.0, "Tibetan": 3.0}

#: The letter scripts a language script uses (Japanese mixes Han and Kana; Korean may use Han).
SCRIPT_LETTERS: dict[str, frozenset[str]] = {
    "Japanese": frozenset({"Han", "Kana"}),
    "Hangul": frozenset({"Hangul", "Han"}),
}

_cache: dict[str, str | None] = {}


def char_script(ch: str) -> str | None:
    """Script of one character, or None for digits, punctuation, spaces and symbols."""
    script = _cache.get(ch, "")
    if script != "":
        return script
    cp = ord(ch)
    i = bisect.bisect_right(_STARTS, cp) - 1
    script = None
    if i >= 0 and cp <= _RANGES[i][1]:
        script = _RANGES[i][2]
        if script == "Latin" and not ch.isalpha():  # ×, ÷ sit inside Latin-1
            script = None
        elif script not in ("Han", "Kana") and not (ch.isalpha() or _is_mark(ch)):
            script = None
    _cache[ch] = script
    return script


def _is_mark(ch: str) -> bool:
    return unicodedata.category(ch).startswith("M")  # Indic vowel signs are marks, not letters


def letters_of(lang: str) -> frozenset[str]:
    """The character scripts a language is written in (``langs.script_of`` decides the script)."""
    script = script_of(lang)
    return SCRIPT_LETTERS.get(script, frozenset({script}))


def script_units(text: str) -> Counter:
    """Word units per script: spaced scripts count words, unspaced ones characters / CHARS_PER_UNIT."""
    chars: Counter = Counter()
    runs: Counter = Counter()
    previous = None
    for ch in text:
        script = char_script(ch)
        if script is not None:
            chars[script] += 1
            if script != previous:
                runs[script] += 1
        previous = script
    units: Counter = Counter()
    for script, n in chars.items():
        per_unit = CHARS_PER_UNIT.get(script)
        units[script] = n / per_unit if per_unit else runs[script]
    return units


def script_letters(text: str) -> Counter:
    """Letter count per script."""
    out: Counter = Counter()
    for ch in text:
        script = char_script(ch)
        if script is not None:
            out[script] += 1
    return out


def keep_scripts(text: str, scripts: frozenset[str]) -> str:
    """Replace letters of other scripts by spaces (n-grams then see only the wanted script)."""
    return "".join(ch if (s := char_script(ch)) is None or s in scripts else " " for ch in text)


WORD_RE = re.compile(r"\w+(?:['’\-]\w+)*", re.UNICODE)
