"""Benchmark the dataset half of a build on all shared gold data (Bi-ZsRE + the four MzsRE files).

Times each step (instances, pairs, splits, export of both datasets, validate) and reports peak RSS.
The whole build's goal is <= 60 s and <= 2 GB on a 2-core CPU; this part should be a small slice of it.

    python benchmarks/bench_export.py [--langs en,zh,de,fr,es] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from xkde_data.export import (CardInfo, assign_splits, build_tlpo, build_xeit,  # noqa: E402
                              export_dataset, validate_build)
from xkde_data.importers import load_cases  # noqa: E402
from xkde_data.schema import cases_to_frame  # noqa: E402
from xkde_data.template import EditTemplate  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"
FILES = ["bizsre/bizsre_test.json", *(f"mzsre/mzsre_test_en{x}.json" for x in ("zh", "de", "fr", "es"))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--langs", default="en,zh,de,fr,es")
    parser.add_argument("--shared", default=str(SHARED if SHARED.exists() else Path("/work/shared/data")))
    parser.add_argument("--out", default=None, help="build folder (default: a temp folder)")
    args = parser.parse_args()
    langs = args.langs.split(",")
    timings: dict[str, float] = {}

    def step(name, fn):
        start = time.perf_counter()
        result = fn()
        timings[name] = time.perf_counter() - start
        return result

    cases = step("load cases", lambda: [c for f in FILES for c in load_cases(Path(args.shared) / f)])
    kept = cases_to_frame(cases)
    template = EditTemplate.load()
    ids = kept["id"].unique(maintain_order=True).to_list()
    splits = step("assign splits", lambda: assign_splits(ids, validation_fraction=0.05, seed=0))
    xeit, _ = step("build_xeit", lambda: build_xeit(kept, langs, template=template, splits=splits))
    tlpo, tstats = step("build_tlpo", lambda: build_tlpo(kept, langs, template=template, splits=splits))
    card = CardInfo("X-KDE benchmark", corpora=["bizsre", "mzsre"],
                    signature={"tool": "xkde bench", "date": "2026-01-01"})
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(args.out or tmp)
        counts = {"instances": {"xeit": step("export xeit", lambda: export_dataset(xeit, out / "xeit", kind="xeit",
                                                                                   card=card))},
                  "pairs": {"tlpo": step("export tlpo", lambda: export_dataset(tlpo, out / "tlpo", kind="tlpo",
                                                                               card=card))}}
        (out / "report").mkdir(exist_ok=True)
        (out / "report" / "stats.json").write_text(json.dumps(counts))
        problems = step("validate_build", lambda: validate_build(out))
        size = sum(p.stat().st_size for p in out.rglob("*.parquet"))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"cases: {len(cases)}  long-table rows: {kept.height}  langs: {','.join(langs)}")
    print(f"XE-IT instances: {xeit.height}  TL-PO pairs: {tlpo.height}  dropped equal: {tstats['dropped_equal']}")
    print(f"parquet written: {size / 2**20:.1f} MiB  validate problems: {len(problems)}")
    for name, seconds in timings.items():
        print(f"  {name:<16} {seconds:6.2f} s")
    export_part = sum(v for k, v in timings.items() if k != "load cases")
    print(f"export half total: {export_part:.2f} s   peak RSS: {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
