"""The request contract: one chat request per (case, target language).

The user message carries the fields to translate as one JSON object with flat
keys (``subject``, ``prompt``, ``target_new``, ``target_true``, ``rephrase_0``,
``locality_0_prompt``, ``locality_0_answer``, ``portability_0_prompt``, ...).
The reply must be one JSON object with exactly the same keys and non-empty
string values. Anything else is a :class:`BadReply` with a reason code.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from ..langs import language_name, script_of
from ..resources import read_prompt, text_hash

CHAT_URL = "/v1/chat/completions"

#: Reasons a reply is rejected (after bounded retries); documented in docs/translation.md.
REPLY_REASONS = ("invalid_json", "missing_keys", "extra_keys", "empty_value", "truncated", "wrong_script")


class BadReply(Exception):
    """A reply that breaks the contract; ``reason`` is a reject reason code."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class PromptTemplate:
    name: str
    system: str
    user: str
    hash: str

    def messages(self, fields: dict[str, str], source_lang: str, target_lang: str) -> list[dict[str, str]]:
        names = {"source_name": language_name(source_lang), "target_name": language_name(target_lang),
                 "source_lang": source_lang, "target_lang": target_lang}
        user = self.user.format(**names, keys=", ".join(fields),
                                fields=json.dumps(fields, ensure_ascii=False, indent=1))
        return [{"role": "system", "content": self.system.format(**names)},
                {"role": "user", "content": user}]


@lru_cache(maxsize=None)
def load_prompt(name: str) -> PromptTemplate:
    """``translate/v1`` -> prompts/translate/v1.system.txt + v1.user.txt, with their joint hash."""
    system = read_prompt(f"{name}.system.txt")
    user = read_prompt(f"{name}.user.txt")
    return PromptTemplate(name, system, user, text_hash(system, user))


# ---------------------------------------------------------------- fields of a row

def row_fields(row: dict[str, Any]) -> dict[str, str]:
    """Flatten one long-table row into the translatable fields (absent optional fields are left out)."""
    out: dict[str, str] = {}
    if row.get("subject") is not None:
        out["subject"] = row["subject"]
    out["prompt"] = row["prompt"]
    out["target_new"] = row["target_new"]
    if row.get("target_true") is not None:
        out["target_true"] = row["target_true"]
    for i, text in enumerate(row.get("rephrase") or []):
        out[f"rephrase_{i}"] = text
    for group in ("locality", "portability"):
        for i, qa in enumerate(row.get(group) or []):
            out[f"{group}_{i}_prompt"] = qa["prompt"]
            out[f"{group}_{i}_answer"] = qa["answer"]
    return out


def fields_to_row(template: dict[str, Any], fields: dict[str, str], lang: str) -> dict[str, Any]:
    """Rebuild a long-table row with the structure of ``template`` and the texts of ``fields``."""
    return {
        "id": template["id"], "corpus": template["corpus"], "lang": lang,
        "subject": fields["subject"] if template.get("subject") is not None else None,
        "prompt": fields["prompt"], "target_new": fields["target_new"],
        "target_true": fields["target_true"] if template.get("target_true") is not None else None,
        "rephrase": [fields[f"rephrase_{i}"] for i in range(len(template.get("rephrase") or []))],
        "locality": [{"prompt": fields[f"locality_{i}_prompt"], "answer": fields[f"locality_{i}_answer"]}
                     for i in range(len(template.get("locality") or []))],
        "portability": [{"prompt": fields[f"portability_{i}_prompt"], "answer": fields[f"portability_{i}_answer"]}
                        for i in range(len(template.get("portability") or []))],
    }


# ---------------------------------------------------------------- request

def response_format_param(kind: str, keys: list[str]) -> dict | None:
    if kind == "json_schema":
        return {"type": "json_schema", "json_schema": {
            "name": "translation", "strict": True,
            "schema": {"type": "object", "properties": {k: {"type": "string"} for k in keys},
                       "required": list(keys), "additionalProperties": False}}}
    if kind == "json_object":
        return {"type": "json_object"}
    return None


def request_body(model: str | None, messages: list[dict], params: dict, response_format: str,
                 keys: list[str]) -> dict:
    """The chat-completions body, as sent live and as written into batch files."""
    body: dict[str, Any] = {"model": model, "messages": messages, "temperature": params["temperature"]}
    if params.get("max_tokens") is not None:
        body["max_tokens"] = params["max_tokens"]
    fmt = response_format_param(response_format, keys)
    if fmt is not None:
        body["response_format"] = fmt
    return body


def cache_key(*, model: str | None, base_url: str | None, prompt_hash: str, params: dict,
              fields: dict[str, str], source_lang: str, target_lang: str) -> str:
    """Content address of one translation; also the Batch API ``custom_id``. No secrets go in."""
    material = json.dumps({"model": model, "base_url": base_url, "prompt": prompt_hash, "params": params,
                           "src": source_lang, "tgt": target_lang, "fields": fields},
                          ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return "xkde-" + hashlib.sha256(material.encode("utf-8")).hexdigest()[:40]


# ---------------------------------------------------------------- reply

_DECODER = json.JSONDecoder()


def first_json_object(text: str) -> Any:
    """The first JSON object embedded in free text (models in plain-text mode add prose or fences)."""
    start = text.find("{")
    while start != -1:
        try:
            value, _ = _DECODER.raw_decode(text, start)
            if isinstance(value, dict):
                return value
        except json.JSONDecodeError:
            pass
        start = text.find("{", start + 1)
    raise BadReply("invalid_json", "no JSON object in the reply")


def parse_reply(content: str | None, finish_reason: str | None, keys: list[str], *,
                lenient: bool, target_lang: str) -> dict[str, str]:
    """Validate a reply against the request's keys; raise BadReply with a reason code otherwise."""
    if finish_reason == "length":
        raise BadReply("truncated", "the reply hit max_tokens")
    if not content or not content.strip():
        raise BadReply("empty_value", "the reply is empty")
    if lenient:
        data = first_json_object(content)
    else:
        try:
            data = json.loads(content)
        except json.JSONDecodeError as err:
            raise BadReply("invalid_json", f"{err.msg} at column {err.colno}") from None
        if not isinstance(data, dict):
            raise BadReply("invalid_json", f"expected an object, got {type(data).__name__}")
    missing = [k for k in keys if k not in data]
    if missing:
        raise BadReply("missing_keys", ", ".join(missing[:5]))
    expected = set(keys)
    extra = [k for k in data if k not in expected]
    if extra:
        raise BadReply("extra_keys", ", ".join(map(str, extra[:5])))
    for k in keys:
        value = data[k]
        if not isinstance(value, str) or not value.strip():
            raise BadReply("empty_value", k)
    out = {k: data[k] for k in keys}
    check_script(out, target_lang)
    return out


_SCRIPT_RANGES = {
    "Han": r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff",
    "Japanese": r"\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff",
    "Hangul": r"\uac00-\ud7af\u1100-\u11ff",
    "Cyrillic": r"\u0400-\u04ff",
    "Arabic": r"\u0600-\u06ff\u0750-\u077f",
    "Hebrew": r"\u0590-\u05ff",
    "Greek": r"\u0370-\u03ff",
    "Devanagari": r"\u0900-\u097f",
    "Thai": r"\u0e00-\u0e7f",
}


@lru_cache(maxsize=None)
def _script_pattern(script: str) -> re.Pattern | None:
    ranges = _SCRIPT_RANGES.get(script)
    return re.compile(f"[{ranges}]") if ranges else None


def check_script(fields: dict[str, str], target_lang: str) -> None:
    """A reply into a non-Latin-script language with no character of that script is untranslated."""
    pattern = _script_pattern(script_of(target_lang))
    if pattern is None:
        return
    if not any(pattern.search(v) for v in fields.values()):
        raise BadReply("wrong_script", f"no {script_of(target_lang)} characters in any value")


# ---------------------------------------------------------------- token estimate

_WIDE = re.compile(r"[\u0e00-\u0e7f\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff]")


def estimate_tokens(text: str) -> int:
    """Rough BPE token count for --dry-run: ~1 per CJK/Thai character, ~4 characters per token otherwise."""
    wide = len(_WIDE.findall(text))
    return wide + (len(text) - wide + 3) // 4
