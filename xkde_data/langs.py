"""Language codes: ISO 639-1, validated, with English names and writing scripts.

Languages are data here, not branches: every per-language behaviour in xkde
(template wording, script evidence for language ID, length ratios) reads this
table.
"""

from __future__ import annotations

from functools import lru_cache

import pycountry

from .errors import XkdeError

# Non-standard codes found in public editing corpora (MzsRE) -> ISO 639-1.
ALIASES = {"cz": "cs", "du": "nl", "jp": "ja", "kr": "ko", "gr": "el", "dk": "da", "se": "sv"}

# Display names where pycountry's ISO name is not what a prompt should say.
NAME_OVERRIDES = {"el": "Greek", "zh": "Chinese", "ne": "Nepali", "ms": "Malay", "sw": "Swahili"}

# The dominant Unicode script of each language that is not written in Latin.
# Everything not listed here is written in Latin script.
SCRIPTS = {
    "zh": "Han", "ja": "Japanese", "ko": "Hangul",
    "ru": "Cyrillic", "uk": "Cyrillic", "bg": "Cyrillic", "sr": "Cyrillic", "mk": "Cyrillic",
    "be": "Cyrillic", "kk": "Cyrillic", "ky": "Cyrillic", "mn": "Cyrillic", "tg": "Cyrillic",
    "ar": "Arabic", "fa": "Arabic", "ur": "Arabic", "ps": "Arabic", "ug": "Arabic", "sd": "Arabic",
    "he": "Hebrew", "yi": "Hebrew", "el": "Greek",
    "hi": "Devanagari", "mr": "Devanagari", "ne": "Devanagari", "sa": "Devanagari",
    "bn": "Bengali", "as": "Bengali", "pa": "Gurmukhi", "gu": "Gujarati", "or": "Oriya",
    "ta": "Tamil", "te": "Telugu", "kn": "Kannada", "ml": "Malayalam", "si": "Sinhala",
    "th": "Thai", "lo": "Lao", "my": "Myanmar", "km": "Khmer", "ka": "Georgian",
    "hy": "Armenian", "am": "Ethiopic", "ti": "Ethiopic", "bo": "Tibetan", "dv": "Thaana",
}


def normalize_code(code: str) -> str:
    """Map a corpus's language code to ISO 639-1, or raise XkdeError."""
    raw = code
    code = code.strip().lower().replace("_", "-")
    if code in ("zh-cn", "zh-hans", "zh-sg"):
        code = "zh"
    code = ALIASES.get(code, code)
    if not is_iso639_1(code):
        raise XkdeError(f"unknown language code {raw!r} (expected ISO 639-1, e.g. en, zh, de)")
    return code


@lru_cache(maxsize=None)
def is_iso639_1(code: str) -> bool:
    return len(code) == 2 and pycountry.languages.get(alpha_2=code) is not None


@lru_cache(maxsize=None)
def language_name(code: str) -> str:
    """English name of a language, as prompts and cards print it ("Chinese")."""
    if code in NAME_OVERRIDES:
        return NAME_OVERRIDES[code]
    lang = pycountry.languages.get(alpha_2=code)
    if lang is None:
        raise XkdeError(f"unknown language code {code!r}")
    return lang.name.split(" (")[0].split(";")[0]


def script_of(code: str) -> str:
    """The writing script a language is expected in ("Latin" unless listed)."""
    return SCRIPTS.get(code, "Latin")


def parse_lang_list(value: str, *, option: str = "--langs") -> list[str]:
    """Parse "en,zh,de" into validated codes; duplicates are an error."""
    codes = [c for c in (part.strip() for part in value.split(",")) if c]
    if not codes:
        raise XkdeError(f"{option} is empty")
    out: list[str] = []
    for raw in codes:
        try:
            code = normalize_code(raw)
        except XkdeError as err:
            raise XkdeError(f"{option}: {err.message}") from None
        if code in out:
            raise XkdeError(f"{option}: language {raw!r} is listed twice")
        out.append(code)
    return out
