"""Filtering throughput (case x language per second) over the shared gold data, without network calls.

Baseline: naive per-field ``langdetect.detect`` (seeded) on every field of each
case x language, the design card's approach. Both run in this process, one after
the other, so the ratio holds under the same machine load.

    python benchmarks/filter_throughput.py [--shared ../shared/data] [--baseline-sample 200]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from xkde_data.curate import CurationConfig, curate_stage  # noqa: E402
from xkde_data.curate.calibration import load_gold  # noqa: E402
from xkde_data.curate.filters import field_pairs  # noqa: E402
from xkde_data.curate.langid import default_identifier, naive_langdetect  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=Path(os.environ.get("XKDE_SHARED_DATA", ROOT.parent / "shared" / "data")))
    parser.add_argument("--baseline-sample", type=int, default=200, help="case x languages timed for the baseline")
    args = parser.parse_args()

    sets = load_gold(args.shared)
    config = CurationConfig(decontaminate=False, confusables=("zh", "de", "fr", "es"))
    default_identifier()  # load langdetect's profiles once, outside the timing
    naive_langdetect("warm up")

    total, start = 0, time.perf_counter()
    for gold in sets:
        result = curate_stage(gold.source, gold.translated, source_lang="en", config=config, progress=False)
        total += gold.translated.height
        assert result.kept.height + result.rejected.height == gold.translated.height
    ours = total / (time.perf_counter() - start)

    sample, start = 0, time.perf_counter()
    per_set = max(1, args.baseline_sample // len(sets))
    for gold in sets:
        sources = {r["id"]: r for r in gold.source.iter_rows(named=True)}
        for row in gold.translated.head(per_set).iter_rows(named=True):
            pairs, _ = field_pairs(sources[row["id"]], row)
            all(naive_langdetect(p.target) == gold.lang for p in pairs)
            sample += 1
    naive = sample / (time.perf_counter() - start)

    print(f"{'method':<42}{'case×lang':>10}{'per second':>12}")
    print(f"{'naive per-field langdetect (baseline)':<42}{sample:>10}{naive:>12.0f}")
    print(f"{'curate_stage, all checks, no network':<42}{total:>10}{ours:>12.0f}")
    print(f"speed-up over the baseline: {ours / naive:.1f}x  (goal: >= 1000/s)  load average: "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
