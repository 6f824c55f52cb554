"""Bi-ZsRE / MzsRE parallel JSON: a list of ``{lang: {subject, src, rephrase, alt, loc, loc_ans, portability}}``."""

from __future__ import annotations

from ..errors import XkdeError
from ..langs import normalize_code
from ..schema import QA, EditCase, LangBlock
from .base import Importer, corpus_name, expect_list, first_json_record, read_json_file, str_field, str_or_list

BLOCK_KEYS = {"src", "alt"}


def sniff(path: str) -> bool:
    rec = first_json_record(path)
    return isinstance(rec, dict) and bool(rec) and all(
        isinstance(v, dict) and BLOCK_KEYS <= set(v) for v in rec.values()
    )


def portability(value, where: str) -> list[QA]:
    """``{"New Question", "New Answer"}`` or a list of them."""
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    out = []
    for i, item in enumerate(items):
        w = f"{where}portability" + (f"[{i}]" if isinstance(value, list) else "")
        if not isinstance(item, dict):
            raise XkdeError(f"expected an object, got {type(item).__name__}", field=w)
        out.append(QA(str_field(item, "New Question", f"{w}."), str_field(item, "New Answer", f"{w}.")))
    return out


def to_block(rec: dict, where: str) -> LangBlock:
    loc, loc_ans = str_field(rec, "loc", where, required=False), str_field(rec, "loc_ans", where, required=False)
    if (loc is None) != (loc_ans is None):
        raise XkdeError("loc and loc_ans must come together", field=f"{where}{'loc_ans' if loc else 'loc'}")
    return LangBlock(
        subject=str_field(rec, "subject", where),
        prompt=str_field(rec, "src", where),
        target_new=str_field(rec, "alt", where),
        rephrase=str_or_list(rec, "rephrase", where),
        locality=[QA(loc, loc_ans)] if loc is not None else [],
        portability=portability(rec.get("portability"), where),
    )


def load(path: str, *, corpus: str | None = None, lang: str = "en") -> list[EditCase]:
    records = expect_list(read_json_file(path), path)
    name = corpus_name(path, corpus)
    cases = []
    for i, rec in enumerate(records):
        if not isinstance(rec, dict) or not rec:
            raise XkdeError("expected an object of language blocks", file=path, record=i)
        blocks = {}
        for raw_code, block in rec.items():
            try:
                code = normalize_code(raw_code)
            except XkdeError as err:
                raise XkdeError(err.message, file=path, record=i, field=raw_code) from None
            if not isinstance(block, dict):
                raise XkdeError(f"expected an object, got {type(block).__name__}", file=path, record=i, field=raw_code)
            try:
                blocks[code] = to_block(block, f"{raw_code}.")
            except XkdeError as err:
                raise err.at(file=path, record=i) from None
        cases.append(EditCase(f"{name}-{i:05d}", name, blocks))
    return cases


IMPORTER = Importer("parallel-zsre", "Bi-ZsRE / MzsRE parallel JSON", sniff, load)
