"""Build every shared gold file (Bi-ZsRE + the four MzsRE files) with the corpus translator.

Goal (issue 5): wall time <= 60 s and peak RSS <= 2 GB on the 2-core sandbox.
Usage: python benchmarks/build_gold.py [--shared ../shared/data] [--out /tmp/xkde-gold]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, default=Path("/tmp/xkde-gold-build"))
    args = parser.parse_args()
    corpora = [args.shared / "bizsre" / "bizsre_test.json"] + sorted((args.shared / "mzsre").glob("mzsre_test_en*.json"))
    cmd = [sys.executable, "-m", "xkde_data", "build", "--langs", "en,zh,de,fr,es", "--out", str(args.out),
           "--no-decontaminate", "--no-progress", "--overwrite"]
    for corpus in corpora:
        cmd += ["--corpus", str(corpus)]
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        sys.exit(proc.returncode)
    stats = json.loads((args.out / "report" / "stats.json").read_text())
    cases = max(v["input"] for v in stats["languages"].values())
    print("| corpora | cases | wall time (s) | peak RSS (MB) | goal |")
    print("| --- | ---: | ---: | ---: | --- |")
    print(f"| Bi-ZsRE + 4 x MzsRE | {cases} | {wall:.1f} | {peak_mb:.0f} | <= 60 s, <= 2048 MB |")


if __name__ == "__main__":
    main()
