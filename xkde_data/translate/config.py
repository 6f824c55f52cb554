"""What a translation run is configured with, and which part of it is the cache/build identity."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import XkdeError

BACKENDS = ("corpus", "openai")
RESPONSE_FORMATS = ("json_schema", "json_object", "text")
DEFAULT_PROMPT = "translate/v1"


def default_cache_path() -> Path:
    """``$XKDE_CACHE_DIR/translations.sqlite``, else ``~/.cache/xkde/translations.sqlite``."""
    root = os.environ.get("XKDE_CACHE_DIR")
    base = Path(root) if root else Path.home() / ".cache" / "xkde"
    return base / "translations.sqlite"


@dataclass
class TranslatorConfig:
    """How to translate. ``api_key`` is never printed, hashed or cached (excluded from repr and signature)."""

    backend: str = "openai"
    model: str | None = None
    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    temperature: float = 0.0
    max_tokens: int | None = 2048
    concurrency: int = 16
    rpm: int | None = None
    tpm: int | None = None
    timeout: float = 60.0
    max_retries: int = 4
    response_format: str = "json_schema"
    cache_path: str | Path | None = None
    prompt: str = DEFAULT_PROMPT

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise XkdeError(f"unknown translator {self.backend!r} (use {' or '.join(BACKENDS)})", field="translator")
        if self.response_format not in RESPONSE_FORMATS:
            raise XkdeError(f"unknown response format {self.response_format!r} (use {', '.join(RESPONSE_FORMATS)})",
                            field="response_format")
        for name in ("concurrency", "rpm", "tpm", "max_tokens"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise XkdeError(f"must be at least 1, got {value}", field=name)
        if self.max_retries < 0:
            raise XkdeError("must not be negative", field="max_retries")
        if self.timeout <= 0:
            raise XkdeError("must be positive", field="timeout")

    def resolved(self) -> "TranslatorConfig":
        """Fill model-independent defaults from the environment (OPENAI_API_KEY, OPENAI_BASE_URL)."""
        from dataclasses import replace

        out = replace(self)
        if out.backend == "openai":
            out.api_key = out.api_key or os.environ.get("OPENAI_API_KEY")
            out.base_url = (out.base_url or os.environ.get("OPENAI_BASE_URL") or "https://api.openai.com/v1").rstrip("/")
        if out.cache_path is None:
            out.cache_path = default_cache_path()
        return out

    def prompt_hash(self) -> str:
        from .contract import load_prompt

        return load_prompt(self.prompt).hash

    def request_params(self) -> dict:
        """Sampling parameters that change the reply: part of the cache key."""
        return {"temperature": self.temperature, "max_tokens": self.max_tokens}

    def signature(self) -> dict:
        """Identity of the translations for the build signature; never contains the key."""
        sig = {"backend": self.backend}
        if self.backend == "openai":
            resolved = self.resolved()
            sig.update(model=resolved.model, base_url=resolved.base_url, prompt=self.prompt,
                       prompt_hash=self.prompt_hash(), params=self.request_params())
        return sig
