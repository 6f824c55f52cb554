"""Which files a benchmark name means, and which language pairs it can score.

Benchmarks are configuration: :data:`BENCHMARKS` maps a name to file patterns
(relative to the benchmark data folder) and its default pairs. A path (file,
folder or glob) works the same way with every pair its files cover.
"""

from __future__ import annotations

import glob
from dataclasses import dataclass, field
from pathlib import Path

from xkde_data.benchmark_data import benchmark_data_dirs
from xkde_data.errors import XkdeError
from xkde_data.importers import detect_format, load_cases
from xkde_data.langs import normalize_code
from xkde_data.schema import EditCase



@dataclass(frozen=True)
class BenchmarkSpec:
    name: str
    pretty_name: str
    patterns: tuple[str, ...]  # globs under the benchmark data folder
    default_pairs: tuple[str, ...] = ()  # empty: every pair the files cover
    format: str = "parallel-zsre"


BENCHMARKS: dict[str, BenchmarkSpec] = {
    spec.name: spec for spec in (
        BenchmarkSpec("bizsre", "Bi-ZsRE", ("bizsre/bizsre_test.json",),
                      ("en-en", "en-zh", "zh-en", "zh-zh")),
        # MzsRE ships one file per English-X pair; the paper scores editing in English, querying in X.
        BenchmarkSpec("mzsre", "MzsRE", ("mzsre/mzsre_test_en*.json",),
                      ("en-en", "en-de", "en-es", "en-fr", "en-zh")),
    )
}


@dataclass
class BenchmarkSource:
    """One loaded file: its cases and the languages every case has."""

    path: str
    cases: list[EditCase]
    langs: tuple[str, ...]


@dataclass
class Benchmark:
    name: str
    pretty_name: str
    sources: list[BenchmarkSource]
    default_pairs: tuple[str, ...] = field(default_factory=tuple)

    @property
    def files(self) -> list[str]:
        return [s.path for s in self.sources]

    @property
    def languages(self) -> list[str]:
        out: list[str] = []
        for s in self.sources:
            out += [lang for lang in s.langs if lang not in out]
        return out

    def all_pairs(self) -> list[str]:
        """Every ordered pair s-t that some file holds both languages of."""
        out: list[str] = []
        for s in self.sources:
            out += [f"{a}-{b}" for a in s.langs for b in s.langs if f"{a}-{b}" not in out]
        return out

    def source_for(self, src: str, tgt: str) -> BenchmarkSource:
        """The first file holding both languages (English-English appears in every MzsRE file)."""
        for s in self.sources:
            if src in s.langs and tgt in s.langs:
                return s
        missing = [lang for lang in (src, tgt) if lang not in self.languages]
        if missing:
            raise XkdeError(f"pair {src}-{tgt}: the benchmark has no language {missing[0]!r} "
                            f"(it has {', '.join(self.languages)})", field="--pairs")
        raise XkdeError(f"pair {src}-{tgt}: no benchmark file holds both languages", field="--pairs")


def find_files(name_or_path: str) -> tuple[str, str, list[str], tuple[str, ...]]:
    """(name, pretty name, files, default pairs) for a benchmark name or a path/glob."""
    spec = BENCHMARKS.get(name_or_path)
    if spec is not None:
        pretty = spec.pretty_name
        try:  # the corpus manifest, where present, has the display name
            from xkde_data.corpora import manifests
            pretty = manifests().get(spec.name, None).pretty_name or pretty
        except Exception:
            pass
        tried = []
        for root in benchmark_data_dirs():
            for pattern in spec.patterns:
                for candidate in (pattern, Path(pattern).name):  # nested layout, or files directly in the folder
                    tried.append(str(root / candidate))
                    files = sorted(glob.glob(str(root / candidate)))
                    if files:
                        return spec.name, pretty, files, spec.default_pairs
        raise XkdeError(f"benchmark {name_or_path!r}: files not found; set XKDE_BENCHMARK_DIR or pass a path "
                        f"(looked for {tried[0]}, ...)")
    path = Path(name_or_path)
    if path.is_dir():
        files = sorted(str(p) for p in path.glob("*.json"))
    elif path.exists():
        files = [str(path)]
    else:
        files = sorted(glob.glob(name_or_path))
        if not files and not any(ch in name_or_path for ch in "*?["):
            known = ", ".join(BENCHMARKS)
            raise XkdeError(f"no such file, and not a known benchmark ({known})", file=name_or_path)
    if not files:
        raise XkdeError("no benchmark files found", file=name_or_path)
    return path.stem, path.stem, files, ()


def _format_of(file: str, name_or_path: str) -> str | None:
    """Known benchmarks have their format; other files are detected, Bi-ZsRE-style JSON when undecidable."""
    if name_or_path in BENCHMARKS:
        return BENCHMARKS[name_or_path].format
    try:
        return detect_format(file)
    except XkdeError:
        if file.endswith(".json"):
            return "parallel-zsre"  # its reader names what is wrong (empty file, missing fields)
        raise


def load_benchmark(name_or_path: str) -> Benchmark:
    """Load a benchmark's files; an empty file or a case missing a language is an error."""
    name, pretty, files, default_pairs = find_files(name_or_path)
    sources = []
    for file in files:
        cases = load_cases(file, _format_of(file, name_or_path), corpus=name)
        if not cases:
            raise XkdeError("the benchmark file holds no records", file=file)
        langs = tuple(cases[0].langs)
        for i, case in enumerate(cases):
            for lang in langs:
                if lang not in case.langs:
                    raise XkdeError("missing language block", file=file, record=i, field=lang)
        sources.append(BenchmarkSource(file, cases, langs))
    return Benchmark(name, pretty, sources, default_pairs)


def parse_pairs(value: str | None, benchmark: Benchmark, *, all_pairs: bool = False) -> list[tuple[str, str]]:
    """``"en-en,en-zh"`` -> [("en", "en"), ("en", "zh")], validated against the benchmark."""
    if value and all_pairs:
        raise XkdeError("pass --pairs or --all-pairs, not both")
    if all_pairs:
        names = benchmark.all_pairs()
    elif value:
        names = [p.strip() for p in value.split(",") if p.strip()]
        if not names:
            raise XkdeError("--pairs is empty")
    else:
        names = list(benchmark.default_pairs) or benchmark.all_pairs()
        names = [p for p in names if p in benchmark.all_pairs()] or benchmark.all_pairs()
    out: list[tuple[str, str]] = []
    for raw in names:
        parts = raw.split("-")
        if len(parts) != 2 or not all(parts):
            raise XkdeError(f"pair {raw!r} is not of the form s-t (e.g. en-zh)", field="--pairs")
        try:
            src, tgt = normalize_code(parts[0]), normalize_code(parts[1])
        except XkdeError as err:
            raise XkdeError(f"pair {raw!r}: {err.message}", field="--pairs") from None
        if (src, tgt) in out:
            raise XkdeError(f"pair {raw!r} is listed twice", field="--pairs")
        benchmark.source_for(src, tgt)  # raises if the benchmark lacks a language
        out.append((src, tgt))
    return out
