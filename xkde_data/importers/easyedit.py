"""EasyEdit ZsRE JSON (one language): ``subject, src, rephrase, alt, answers, loc, loc_ans[, portability]``."""

from __future__ import annotations

from ..errors import XkdeError
from ..langs import normalize_code
from ..schema import QA, EditCase, LangBlock
from .base import Importer, corpus_name, expect_list, first_json_record, read_json_file, str_field, str_or_list
from .parallel_zsre import portability


def sniff(path: str) -> bool:
    rec = first_json_record(path)
    return isinstance(rec, dict) and {"src", "alt"} <= set(rec) and isinstance(rec.get("src"), str)


def load(path: str, *, corpus: str | None = None, lang: str = "en") -> list[EditCase]:
    lang = normalize_code(lang)
    records = expect_list(read_json_file(path), path)
    name = corpus_name(path, corpus)
    cases = []
    for i, rec in enumerate(records):
        if not isinstance(rec, dict):
            raise XkdeError("expected an object", file=path, record=i)
        try:
            answers = str_or_list(rec, "answers", "")
            loc = str_field(rec, "loc", "", required=False)
            loc_ans = str_field(rec, "loc_ans", "", required=False)
            block = LangBlock(
                subject=str_field(rec, "subject", ""),
                prompt=str_field(rec, "src", ""),
                target_new=str_field(rec, "alt", ""),
                target_true=answers[0] if answers else None,
                rephrase=str_or_list(rec, "rephrase", ""),
                locality=[QA(loc, loc_ans)] if loc and loc_ans else [],
                portability=portability(rec.get("portability"), ""),
            )
        except XkdeError as err:
            raise err.at(file=path, record=i) from None
        cases.append(EditCase(f"{name}-{i:05d}", name, {lang: block}))
    return cases


IMPORTER = Importer("easyedit-zsre", "EasyEdit ZsRE JSON (single language)", sniff, load)
