"""Decontamination against evaluation benchmarks (Bi-ZsRE test, MzsRE test).

A case is contaminated when one of its questions (edit prompt, rephrases,
portability) asks a benchmark question: the same subject with the same
relation (the question with the subject removed overlaps the benchmark's), or
any question whose character 5-grams are mostly found in one benchmark question.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from ..errors import XkdeError
from ..importers import load_cases
from .filters import normalize_text

SHINGLE = 5
#: Share of the relation template (question minus subject) shared with a benchmark question of the same subject.
RELATION_OVERLAP = 0.5
#: Shingles in more benchmark questions than this are too common to find candidates with.
_MAX_POSTINGS = 300


def shingles(text: str) -> frozenset[str]:
    norm = normalize_text(text)
    if len(norm) <= SHINGLE:
        return frozenset({norm}) if norm else frozenset()
    return frozenset(norm[i:i + SHINGLE] for i in range(len(norm) - SHINGLE + 1))


def _template(question: str, subject: str | None) -> frozenset[str]:
    norm_q, norm_s = normalize_text(question), normalize_text(subject or "")
    if norm_s:
        norm_q = norm_q.replace(norm_s, "|")
    return frozenset(norm_q[i:i + SHINGLE] for i in range(max(1, len(norm_q) - SHINGLE + 1)))


@dataclass
class BenchmarkIndex:
    questions: list[tuple[str, frozenset[str]]] = field(default_factory=list)  # (where, shingles)
    postings: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    by_subject: dict[str, list[tuple[str, frozenset[str]]]] = field(default_factory=lambda: defaultdict(list))

    def add(self, where: str, subject: str | None, question: str) -> None:
        grams = shingles(question)
        if not grams:
            return
        idx = len(self.questions)
        self.questions.append((where, grams))
        for g in grams:
            self.postings[g].append(idx)
        if subject:
            self.by_subject[normalize_text(subject)].append((where, _template(question, subject)))

    def match(self, subject: str | None, question: str, overlap: float) -> str | None:
        """Where the question comes from in a benchmark, or None."""
        if subject:
            template = _template(question, subject)
            for where, other in self.by_subject.get(normalize_text(subject), ()):
                if template and len(template & other) / len(template) >= RELATION_OVERLAP:
                    return f"same subject and relation as {where}"
        grams = shingles(question)
        if not grams:
            return None
        counts: Counter = Counter()
        for g in grams:
            posting = self.postings.get(g)
            if posting and len(posting) <= _MAX_POSTINGS:
                counts.update(posting)
        for idx, _ in counts.most_common(3):
            where, other = self.questions[idx]
            if len(grams & other) / len(grams) >= overlap:
                return f"question overlaps {where}"
        return None


@lru_cache(maxsize=4)
def load_benchmark_index(paths: tuple[Path, ...]) -> BenchmarkIndex:
    """Index every language block of the benchmark files (cached per process)."""
    index = BenchmarkIndex()
    seen: set[tuple[str, str]] = set()
    for path in paths:
        if not Path(path).is_file():
            raise XkdeError("benchmark file for decontamination not found", file=str(path))
        for i, case in enumerate(load_cases(str(path))):
            for lang, block in case.langs.items():
                where = f"{Path(path).name} record {i} ({lang})"
                for question in [block.prompt, *block.rephrase, *(qa.prompt for qa in block.portability)]:
                    key = (lang, normalize_text(question))
                    if key in seen:
                        continue
                    seen.add(key)
                    index.add(where, block.subject, question)
    return index
