"""Curation settings: thresholds, enabled checks, benchmark files for decontamination."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..errors import XkdeError

#: Every check in the order it runs; the first failing one names the reject reason.
CHECKS = ("structure", "untranslated", "chatter", "wrong_language", "number_mismatch", "answer_inconsistent",
          "length_ratio", "roundtrip_chrf", "duplicate", "contaminated")

#: Benchmarks a training set must not overlap (paths relative to the shared data folder).
DEFAULT_BENCHMARKS = ("bizsre/bizsre_test.json", "mzsre/mzsre_test_enzh.json", "mzsre/mzsre_test_ende.json",
                      "mzsre/mzsre_test_enfr.json", "mzsre/mzsre_test_enes.json")


@dataclass
class CurationConfig:
    """What the filters check and how strictly. Thresholds are script-level principles, not per-language tuning.

    ``min_length_ratio``/``max_length_ratio`` bound a field's translated length
    over its source length, both measured in Latin-letter equivalents (a Han
    character weighs about three Latin letters; see ``filters.SCRIPT_DENSITY``).
    ``min_roundtrip_chrf``: chrF (0-100) of the back-translation against the
    source question. ``contamination_overlap``: share of a question's character
    5-grams found in one benchmark question that marks it contaminated.
    ``confusables``: languages a translation may slip into besides the source;
    the build's target languages are always added.
    """

    enabled: tuple[str, ...] = CHECKS
    min_length_ratio: float = 0.4
    max_length_ratio: float = 2.5
    min_roundtrip_chrf: float = 30.0
    contamination_overlap: float = 0.8
    min_script_share: float = 0.3
    max_foreign_share: float = 0.15
    confusable_tolerance: float = 0.1
    confusables: tuple[str, ...] = ()
    decontaminate: bool = True
    benchmarks: tuple[Path, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        unknown = [c for c in self.enabled if c not in CHECKS]
        if unknown:
            raise XkdeError(f"unknown curation check(s) {unknown} (known: {', '.join(CHECKS)})")
        if not 0 < self.min_length_ratio < self.max_length_ratio:
            raise XkdeError("length ratio bounds must satisfy 0 < min < max", field="min_length_ratio")
        self.benchmarks = tuple(Path(p) for p in self.benchmarks)

    def is_enabled(self, check: str) -> bool:
        if check == "contaminated":
            return check in self.enabled and self.decontaminate and bool(self.benchmarks)
        return check in self.enabled

    def signature(self) -> dict:
        """Thresholds and switches for the build signature (paths as names only)."""
        out = asdict(self)
        out["enabled"] = [c for c in CHECKS if self.is_enabled(c)]
        out["benchmarks"] = [p.name for p in self.benchmarks]
        return out

    @classmethod
    def with_shared_benchmarks(cls, shared_data: Path, **kwargs) -> "CurationConfig":
        """A config whose decontamination reads the benchmark files under ``shared_data`` that exist."""
        found = tuple(Path(shared_data) / rel for rel in DEFAULT_BENCHMARKS if (Path(shared_data) / rel).exists())
        return cls(benchmarks=found, **kwargs)
