"""Translator backends behind one interface: ``async translate(job) -> Outcome``.

``OpenAIBackend`` talks to any OpenAI-compatible server with ``openai.AsyncOpenAI``.
Transport failures (429 honouring Retry-After, 5xx, timeouts, dropped
connections) are retried by the client itself with exponential backoff and
jitter; replies that break the contract are asked again at once; both are
bounded by ``max_retries``. Mistakes that no retry can fix (bad key, unknown
model, unreachable server) abort the run with an :class:`XkdeError`.
"""

from __future__ import annotations

import importlib.util
import json
import ssl
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from aiolimiter import AsyncLimiter

from ..errors import XkdeError
from ..stats import Stats
from .config import TranslatorConfig
from .contract import BadReply, estimate_tokens, load_prompt, parse_reply, request_body

OPENAI_DEFAULT_URL = "https://api.openai.com/v1"
CHAT_PATH = "/chat/completions"


@dataclass
class Job:
    """One request: a source row to translate from ``source_lang`` into ``target_lang``."""

    index: int
    row: dict[str, Any]
    source_lang: str
    target_lang: str
    fields: dict[str, str]
    key: str = ""


@dataclass
class Outcome:
    fields: dict[str, str] | None = None
    reason: str | None = None
    detail: str = ""
    tokens_in: int = 0
    tokens_out: int = 0
    attempts: int = 0


def scrub(text: str, secret: str | None) -> str:
    """Remove the key from any text that may reach a log, a reject row or a message."""
    text = " ".join(str(text).split())[:300]
    return text.replace(secret, "***") if secret else text


class OpenAIBackend:
    def __init__(self, config: TranslatorConfig, stats: Stats) -> None:
        import openai  # imported here: it costs ~1.5 s, and most commands never talk to a server

        if not config.model:
            raise XkdeError("the openai translator needs --model", field="model")
        self.config = config
        self.stats = stats
        self.template = load_prompt(config.prompt)
        key = config.api_key
        if not key:
            if config.base_url == OPENAI_DEFAULT_URL:
                raise XkdeError("no API key: pass --api-key or set OPENAI_API_KEY", field="api_key")
            key = "no-key"  # local servers (vLLM, Ollama, llama.cpp) accept any key
        self._secret = config.api_key
        self.http_attempts = 0
        self.successes = 0

        async def count_attempt(_request) -> None:
            self.http_attempts += 1

        self.client = openai.AsyncOpenAI(
            api_key=key, base_url=config.base_url, timeout=config.timeout, max_retries=config.max_retries,
            http_client=_http_client(timeout=config.timeout, verify=_shared_ssl_context(),
                                     event_hooks={"request": [count_attempt]}))
        # Capacity of one second's share: paced evenly, no minute-sized bursts at the start.
        self.rpm = AsyncLimiter(1, 60 / config.rpm) if config.rpm else None
        self.tpm_capacity = max(config.tpm / 60, 1) if config.tpm else 0
        self.tpm = AsyncLimiter(self.tpm_capacity, 1) if config.tpm else None

    def body(self, job: Job) -> dict:
        messages = self.template.messages(job.fields, job.source_lang, job.target_lang)
        return request_body(self.config.model, messages, self.config.request_params(),
                            self.config.response_format, list(job.fields))

    async def translate(self, job: Job) -> Outcome:
        body = self.body(job)
        keys = list(job.fields)
        # Encoded once: the SDK sends bytes as they are (no per-attempt copy or re-encoding).
        encoded = json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
        outcome = Outcome()
        budget = estimate_tokens(body["messages"][0]["content"] + body["messages"][1]["content"]) * 2 if self.tpm else 0
        # Transport retries (429 + Retry-After, 5xx, timeouts, drops) with exponential backoff and
        # jitter are the openai client's own; a reply that breaks the contract is re-asked at once.
        try:
            for attempt in range(self.config.max_retries + 1):
                outcome.attempts += 1
                if self.rpm:
                    await self.rpm.acquire()
                remaining = budget
                while remaining > 0:  # a request may need more than one second's share of tokens
                    take = min(remaining, self.tpm_capacity)
                    await self.tpm.acquire(take)
                    remaining -= take
                reply = await self._create(encoded)
                try:
                    content, finish, tokens_in, tokens_out = _completion_parts(reply)
                    outcome.tokens_in += tokens_in
                    outcome.tokens_out += tokens_out
                    outcome.fields = parse_reply(content, finish, keys, lenient=self.config.response_format == "text",
                                                 target_lang=job.target_lang)
                    break
                except BadReply:
                    if attempt == self.config.max_retries:
                        raise
            self.successes += 1
        except BadReply as bad:
            outcome.reason, outcome.detail = bad.reason, bad.detail
        except _RequestFailed as failed:
            outcome.reason, outcome.detail = "request_failed", failed.detail
        return outcome

    async def _create(self, body: bytes):
        import openai

        cfg = self.config
        try:
            # client.post (the SDK's raw-endpoint call) sends the body as built and returns the JSON;
            # create() re-walks every message through its TypedDict transform and builds pydantic
            # models, together ~1.5 ms CPU per request. Retries, timeouts and errors are the same.
            return await self.client.post(CHAT_PATH, cast_to=object, content=body)
        except openai.AuthenticationError:
            raise XkdeError(f"{cfg.base_url} rejected the API key (401 Unauthorized): "
                            "check --api-key or OPENAI_API_KEY", field="api_key") from None
        except openai.PermissionDeniedError as err:
            raise XkdeError(f"{cfg.base_url} refused access (403): {scrub(_message(err), self._secret)}",
                            field="api_key") from None
        except openai.NotFoundError as err:
            raise XkdeError(f"{cfg.base_url} rejected model {cfg.model!r} (404 Not Found: "
                            f"{scrub(_message(err), self._secret)}); check --model, and that --base-url "
                            "ends in /v1", field="model") from None
        except openai.BadRequestError as err:
            message = scrub(_message(err), self._secret)
            lowered = message.lower()
            if "response_format" in lowered or "json_schema" in lowered:
                raise XkdeError(f"{cfg.base_url} does not accept response_format={cfg.response_format!r} ({message}); "
                                "try --response-format json_object or text", field="response_format") from None
            if "model" in lowered:
                raise XkdeError(f"{cfg.base_url} rejected model {cfg.model!r} (400): {message}", field="model") from None
            raise _RequestFailed(f"400: {message}") from None
        except openai.APITimeoutError as err:
            if _refused_not_timed_out(err):
                raise self._connection_failed(err) from None
            raise _RequestFailed(f"timed out after {cfg.timeout:g}s ({cfg.max_retries} retries)") from None
        except openai.APIConnectionError as err:
            raise self._connection_failed(err) from None
        except openai.APIStatusError as err:
            raise _RequestFailed(f"{err.status_code}: {scrub(_message(err), self._secret)}") from None

    def _connection_failed(self, err: Exception) -> Exception:
        if self.successes == 0:
            return XkdeError(f"cannot reach {self.config.base_url} ({scrub(_cause(err), self._secret)}); "
                             "check --base-url / OPENAI_BASE_URL and that the server is running", field="base_url")
        return _RequestFailed(f"connection failed: {scrub(_cause(err), self._secret)}")

    async def close(self) -> None:
        await self.client.close()


def _http_client(**kwargs):
    """The SDK's aiohttp client when ``aiohttp`` is installed (``openai[aiohttp]``), else its httpx one.

    aiohttp's C parser and connection pool cost ~0.4 ms less CPU per request than httpx's
    pure-Python stack; retries, timeouts and errors still go through the SDK.
    """
    import openai

    aio = getattr(openai, "DefaultAioHttpClient", None)
    if aio is not None and importlib.util.find_spec("aiohttp") is not None:
        try:
            return aio(**kwargs)
        except RuntimeError:  # the SDK's placeholder when its aiohttp adapter cannot load
            pass
    return openai.DefaultAsyncHttpxClient(**kwargs)


@lru_cache(maxsize=1)
def _shared_ssl_context() -> ssl.SSLContext:
    """One CA-loaded context per process: loading the CA bundle costs ~50 ms CPU per client."""
    return ssl.create_default_context()


def _refused_not_timed_out(err: Exception) -> bool:
    """The aiohttp adapter maps every connection error to a timeout; tell a refused or dropped one apart."""
    cause = err.__cause__
    while cause is not None:
        if type(cause).__module__.startswith("aiohttp") and not isinstance(cause, TimeoutError):
            return True
        cause = cause.__cause__
    return False


def _completion_parts(data: Any) -> tuple[str | None, str | None, int, int]:
    """(content, finish_reason, prompt tokens, completion tokens) of a chat-completion JSON body."""
    try:
        usage = data.get("usage") or {}
        choice = data["choices"][0]
        return (choice["message"].get("content"), choice.get("finish_reason"),
                int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0))
    except (AttributeError, KeyError, IndexError, TypeError, ValueError):
        raise BadReply("invalid_json", "the server's reply is not a chat completion") from None


class _RequestFailed(Exception):
    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


def _message(err) -> str:
    body = err.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])
    return str(err.message)


def _cause(err: Exception) -> str:
    cause = err.__cause__ or err.__context__
    return f"{type(cause).__name__}: {cause}" if cause else str(err)
