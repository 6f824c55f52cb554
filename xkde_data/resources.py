"""Find the repository's data folders (prompts/, corpora/) from a checkout or a wheel."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from .errors import XkdeError

_PACKAGE = Path(__file__).resolve().parent
# A checkout keeps them beside the package; a wheel ships them inside it.
_ROOTS = (_PACKAGE.parent, _PACKAGE / "_resources")


def resource_path(relative: str) -> Path:
    """Path of ``prompts/...`` or ``corpora/...``; raises if it is not installed."""
    for root in _ROOTS:
        candidate = root / relative
        if candidate.exists():
            return candidate
    raise XkdeError(f"resource {relative!r} not found (is xkde installed with its data files?)")


@lru_cache(maxsize=None)
def read_prompt(relative: str) -> str:
    """Text of a prompt template under ``prompts/``."""
    return resource_path(f"prompts/{relative}").read_text(encoding="utf-8")


def text_hash(*parts: str) -> str:
    """Short, stable hash of texts: the 'prompt hash' in caches and build signatures."""
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode("utf-8"))
        h.update(b"\0")
    return h.hexdigest()[:12]
