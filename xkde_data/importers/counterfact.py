"""ROME CounterFact JSON: ``requested_rewrite``, ``paraphrase_prompts``, ``neighborhood_prompts``."""

from __future__ import annotations

from ..errors import XkdeError
from ..langs import normalize_code
from ..schema import QA, EditCase, LangBlock
from .base import Importer, corpus_name, expect_list, first_json_record, read_json_file, str_field, str_or_list


def sniff(path: str) -> bool:
    rec = first_json_record(path)
    return isinstance(rec, dict) and "requested_rewrite" in rec


def _target(rw: dict, key: str) -> str:
    value = rw.get(key)
    if not isinstance(value, dict):
        raise XkdeError("expected an object with 'str'", field=f"requested_rewrite.{key}")
    return str_field(value, "str", f"requested_rewrite.{key}.")


def load(path: str, *, corpus: str | None = None, lang: str = "en") -> list[EditCase]:
    lang = normalize_code(lang)
    records = expect_list(read_json_file(path), path)
    name = corpus_name(path, corpus)
    cases = []
    for i, rec in enumerate(records):
        try:
            if not isinstance(rec, dict):
                raise XkdeError("expected an object")
            rw = rec.get("requested_rewrite")
            if not isinstance(rw, dict):
                raise XkdeError("missing required field", field="requested_rewrite")
            template = str_field(rw, "prompt", "requested_rewrite.")
            subject = str_field(rw, "subject", "requested_rewrite.")
            if "{}" not in template:
                raise XkdeError("prompt has no '{}' placeholder for the subject", field="requested_rewrite.prompt")
            target_true = _target(rw, "target_true")
            block = LangBlock(
                subject=subject,
                prompt=template.replace("{}", subject),
                target_new=_target(rw, "target_new"),
                target_true=target_true,
                rephrase=str_or_list(rec, "paraphrase_prompts", ""),
                # Neighbourhood prompts share the relation and keep its true object.
                locality=[QA(p, target_true) for p in str_or_list(rec, "neighborhood_prompts", "")],
            )
        except XkdeError as err:
            raise err.at(file=path, record=i) from None
        case_id = rec.get("case_id", i)
        cases.append(EditCase(f"{name}-{case_id}", name, {lang: block}))
    return cases


IMPORTER = Importer("counterfact", "ROME CounterFact JSON (single language)", sniff, load)
