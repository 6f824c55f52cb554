"""Calibration of the curation filters on gold parallel data (MzsRE, Bi-ZsRE test; decontamination off).

Gold target blocks must be accepted (goal >= 98% of cases per language) and each
synthetic corruption rejected (goal >= 98%).

    python benchmarks/curation_calibration.py [--shared ../shared/data]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from xkde_data.curate.calibration import CORRUPTIONS, calibrate  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=Path(os.environ.get("XKDE_SHARED_DATA", ROOT.parent / "shared" / "data")))
    args = parser.parse_args()
    rows = calibrate(args.shared)
    header = f"{'gold set':<16}{'cases':>6}{'gold kept':>10}" + "".join(f"{c:>16}" for c in CORRUPTIONS)
    print(header)
    print("-" * len(header))
    ok = True
    for row in rows:
        cells = []
        for c in CORRUPTIONS:
            value = row[c]
            cells.append(f"{'n/a':>16}" if value is None else f"{value:>10.2%} ({row[c + '_n']:>3})")
            ok &= value is None or value >= 0.98
        ok &= row["gold_accepted"] >= 0.98
        print(f"{row['set']:<16}{row['cases']:>6}{row['gold_accepted']:>10.2%}" + "".join(cells))
        reasons = row["gold_rejects"].group_by("reason").len().sort("len", descending=True).rows()
        print(f"{'':<16}gold rejected: " + (", ".join(f"{r} {n}" for r, n in reasons) or "none"))
    print("all goals met" if ok else "GOALS NOT MET")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
