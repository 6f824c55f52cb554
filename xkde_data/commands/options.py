"""CLI options shared by several commands, declared once so their names and help never drift apart."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

SourceLang = Annotated[str, typer.Option("--source-lang", help="Language the corpus is translated from.")]
CorpusFormat = Annotated[Optional[str], typer.Option("--format", "-f", help="Override corpus format detection.")]
Progress = Annotated[bool, typer.Option("--progress/--no-progress", help="Show progress bars.")]

# The translator (TranslatorConfig) as `translate` and `build` expose it, in a help panel of its own.
TRANSLATOR_PANEL = "Translator (openai)"
Model = Annotated[
    Optional[str],
    typer.Option("--model", rich_help_panel=TRANSLATOR_PANEL, help="Translation model name the server knows."),
]
BaseUrl = Annotated[
    Optional[str],
    typer.Option(
        "--base-url",
        rich_help_panel=TRANSLATOR_PANEL,
        envvar="OPENAI_BASE_URL",
        help="OpenAI-compatible server URL ending in /v1 (default: OpenAI's).",
    ),
]
ApiKey = Annotated[
    Optional[str],
    typer.Option(
        "--api-key",
        rich_help_panel=TRANSLATOR_PANEL,
        envvar="OPENAI_API_KEY",
        show_default=False,
        help="API key (default: $OPENAI_API_KEY); never printed, logged or cached.",
    ),
]
Temperature = Annotated[
    float, typer.Option("--temperature", rich_help_panel=TRANSLATOR_PANEL, help="Sampling temperature.")
]
MaxTokens = Annotated[
    int, typer.Option("--max-tokens", rich_help_panel=TRANSLATOR_PANEL, help="Reply token limit per request.")
]
Concurrency = Annotated[
    int, typer.Option("--concurrency", rich_help_panel=TRANSLATOR_PANEL, min=1, help="Requests in flight at once.")
]
Rpm = Annotated[
    Optional[int], typer.Option("--rpm", rich_help_panel=TRANSLATOR_PANEL, help="Requests-per-minute limit.")
]
Tpm = Annotated[
    Optional[int], typer.Option("--tpm", rich_help_panel=TRANSLATOR_PANEL, help="Tokens-per-minute limit (estimated).")
]
Timeout = Annotated[
    float, typer.Option("--timeout", rich_help_panel=TRANSLATOR_PANEL, help="Seconds per request before it is retried.")
]
MaxRetries = Annotated[
    int,
    typer.Option(
        "--max-retries",
        rich_help_panel=TRANSLATOR_PANEL,
        help="Retries per request (429/5xx/timeouts with backoff; invalid replies).",
    ),
]
ResponseFormat = Annotated[
    str,
    typer.Option(
        "--response-format",
        rich_help_panel=TRANSLATOR_PANEL,
        help="json_schema (strict), json_object, or text (first JSON object in the reply).",
    ),
]
Cache = Annotated[
    Optional[Path],
    typer.Option(
        "--cache",
        rich_help_panel=TRANSLATOR_PANEL,
        help="SQLite translation cache (default: "
        "$XKDE_CACHE_DIR/translations.sqlite, else "
        "~/.cache/xkde/translations.sqlite).",
    ),
]
