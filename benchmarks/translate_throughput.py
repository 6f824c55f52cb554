"""Translation throughput against the fake OpenAI server with fixed latency (not a test).

Runs ``translate_stage`` on N Bi-ZsRE cases (en -> zh, one request each) at several
concurrency levels, each with a fresh cache, and prints requests/s next to the ideal
(concurrency / latency) and client-side CPU per request; then reruns the last job on its
warm cache, which must make 0 requests. The server runs in its own process, so the CPU
time measured here is the client's alone.

    python benchmarks/translate_throughput.py [--requests 500] [--latency 0.1] [--levels 1,8,32,64]

Goals (issue 3): >= 0.85 x ideal at concurrency 32; <= 2 ms client CPU per request; rerun: 0 requests.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import openai  # noqa: E402,F401  (imported up front: its ~1.5 s import is not per-request cost)
import polars as pl  # noqa: E402

from xkde_data.importers import load_cases  # noqa: E402
from xkde_data.schema import cases_to_frame  # noqa: E402
from xkde_data.translate import TranslatorConfig, translate_stage  # noqa: E402

BIZSRE = ROOT.parent / "shared" / "data" / "bizsre" / "bizsre_test.json"


def raw_http_floor(base_url: str, source: pl.DataFrame, concurrency: int) -> tuple[float, float]:
    """Requests/s and CPU ms per request of bare httpx2 posting the same request bodies: the client floor."""
    import asyncio

    import httpx2

    from xkde_data.translate.contract import load_prompt, request_body, row_fields

    template = load_prompt("translate/v1")
    bodies = []
    for row in source.to_dicts():
        fields = row_fields(row)
        bodies.append(request_body("fake", template.messages(fields, "en", "zh"), {"temperature": 0.0,
                                   "max_tokens": 2048}, "json_schema", list(fields)))

    async def run() -> tuple[float, float]:
        queue = list(bodies)
        async with httpx2.AsyncClient(timeout=60, headers={"Authorization": "Bearer sk-bench"}) as client:
            async def worker() -> None:
                while queue:
                    reply = await client.post(base_url + "/chat/completions", json=queue.pop())
                    reply.json()

            cpu0, wall0 = time.process_time(), time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(concurrency)))
            return len(bodies) / (time.perf_counter() - wall0), (time.process_time() - cpu0) / len(bodies) * 1000

    return asyncio.run(run())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--levels", default="1,8,32,64")
    parser.add_argument("--data", default=str(BIZSRE))
    args = parser.parse_args()

    frame = cases_to_frame(load_cases(args.data)[: args.requests])
    source = frame.filter(pl.col("lang") == "en")
    server = subprocess.Popen([sys.executable, "-m", "xkde_data.testing.openai_server", "--gold", args.data,
                               "--latency", str(args.latency)], cwd=ROOT, stdout=subprocess.PIPE, text=True,
                              env={"PYTHONPATH": str(ROOT), "PATH": ""})
    try:
        base_url = server.stdout.readline().strip()
        rows = []
        with tempfile.TemporaryDirectory() as tmp:
            last_config = None
            for level in [int(x) for x in args.levels.split(",")]:
                config = TranslatorConfig(model="fake", base_url=base_url, api_key="sk-bench",
                                          concurrency=level, cache_path=Path(tmp) / f"c{level}.sqlite")
                cpu0, wall0 = time.process_time(), time.perf_counter()
                result = translate_stage(source, "en", ["zh"], config, progress=False)
                cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
                n = result.stats["requests"]
                ideal = level / args.latency
                rows.append((level, n, wall, n / wall, ideal, n / wall / ideal, cpu / max(n, 1) * 1000))
                assert len(result.kept) == len(source), result.rejected
                last_config = config
            cpu0, wall0 = time.process_time(), time.perf_counter()
            rerun = translate_stage(source, "en", ["zh"], last_config, progress=False)
            rerun_wall = time.perf_counter() - wall0
            floor = raw_http_floor(base_url, source, 32)
    finally:
        server.terminate()
        server.wait()

    print(f"{len(source)} requests per level, server latency {args.latency * 1000:.0f} ms (fake server in its own process)")
    print(f"{'concurrency':>11} {'requests':>8} {'wall s':>7} {'req/s':>7} {'ideal':>7} {'ratio':>6} {'CPU ms/req':>10}")
    for level, n, wall, rate, ideal, ratio, cpu_ms in rows:
        print(f"{level:>11} {n:>8} {wall:>7.2f} {rate:>7.1f} {ideal:>7.1f} {ratio:>6.2f} {cpu_ms:>10.2f}")
    print(f"floor: bare httpx2 POSTs of the same bodies at concurrency 32: {floor[0]:.1f} req/s, "
          f"{floor[1]:.2f} ms CPU/req (what any Python client pays on this machine)")
    print(f"rerun of the last job: {rerun.stats['requests']} requests, {rerun.stats['cache_hits']} cache hits, "
          f"{rerun_wall:.2f} s")


if __name__ == "__main__":
    main()
