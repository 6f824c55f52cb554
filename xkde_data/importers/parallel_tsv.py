"""Aligned parallel TSV: one file per language, ``question<TAB>answer`` per line.

The source is a folder of ``NAME_{lang}.txt|tsv`` files or a path template with
``{lang}`` (``data/zsre_train_{lang}.txt``). Line *i* of every file is case *i*.
"""

from __future__ import annotations

import glob
import re
from pathlib import Path

from ..errors import XkdeError
from ..langs import is_iso639_1, normalize_code
from ..schema import EditCase, LangBlock
from .base import Importer, ImportReject, ImportResult

_LANG_SUFFIX = re.compile(r"[._-]([A-Za-z]{2})$")


def is_template(source: str) -> bool:
    return "{lang}" in source


def language_files(source: str) -> dict[str, Path]:
    """Map language -> file for a folder or a ``{lang}`` template."""
    if is_template(source):
        pattern = re.compile(re.escape(source).replace(re.escape("{lang}"), "([A-Za-z]{2})") + "$")
        candidates = [Path(p) for p in glob.glob(source.replace("{lang}", "??"))]
        found = {m.group(1): p for p in candidates if (m := pattern.match(str(p)))}
    else:
        folder = Path(source)
        found = {}
        for p in sorted(folder.iterdir()) if folder.is_dir() else []:
            m = _LANG_SUFFIX.search(p.stem)
            if p.is_file() and p.suffix.lower() in (".txt", ".tsv") and m and is_iso639_1(m.group(1).lower()):
                found[m.group(1)] = p
    out: dict[str, Path] = {}
    for raw, path in sorted(found.items()):
        try:
            out[normalize_code(raw)] = path
        except XkdeError as err:
            raise XkdeError(err.message, file=str(path)) from None
    return out


def sniff(source: str) -> bool:
    return (is_template(source) or Path(source).is_dir()) and len(language_files(source)) > 0


def _read_lines(path: Path) -> list[tuple[str, str]]:
    """(question, answer) per line; a line without an answer gives answer ""."""
    rows = []
    with open(path, "rb") as fh:
        for lineno, raw in enumerate(fh, start=1):
            try:
                text = raw.decode("utf-8").rstrip("\r\n")
            except UnicodeDecodeError as err:
                raise XkdeError(f"not valid UTF-8 (byte {err.start})", file=str(path), line=lineno) from None
            parts = text.split("\t")
            if len(parts) > 2:
                raise XkdeError(f"expected question<TAB>answer, found {len(parts)} columns",
                                file=str(path), line=lineno, field="answer")
            if not parts[0].strip():
                raise XkdeError("empty question", file=str(path), line=lineno, field="question")
            # Public parallel ZsRE has lines whose answer was lost; the case is
            # kept in the count and rejected with a reason, not dropped silently.
            rows.append((parts[0], parts[1] if len(parts) == 2 else ""))
    return rows


def load(source: str, *, corpus: str | None = None, lang: str = "en") -> ImportResult:
    files = language_files(source)
    if not files:
        raise XkdeError("no per-language files (NAME_{lang}.txt) found", file=source)
    columns = {code: _read_lines(path) for code, path in files.items()}
    counts = {code: len(rows) for code, rows in columns.items()}
    if len(set(counts.values())) > 1:
        detail = ", ".join(f"{files[c].name}={n}" for c, n in counts.items())
        raise XkdeError(f"misaligned parallel files: different line counts ({detail})", file=source)
    name = corpus or _LANG_SUFFIX.sub("", next(iter(files.values())).stem)
    n = next(iter(counts.values()))
    result = ImportResult()
    for i in range(n):
        case_id = f"{name}-{i:05d}"
        empty = [code for code, rows in columns.items() if not rows[i][1].strip()]
        if empty:
            result.rejects.append(ImportReject(case_id, name, empty, "missing_answer",
                                               f"{files[empty[0]].name}:{i + 1} has no answer", i))
            continue
        result.cases.append(EditCase(case_id, name, {
            code: LangBlock(prompt=rows[i][0], target_new=rows[i][1]) for code, rows in columns.items()}))
    return result


IMPORTER = Importer("parallel-tsv", "aligned question<TAB>answer files, one per language", sniff, load)
