"""Engine throughput and CPU cost against a local OpenAI-compatible mock server.

    .venv/bin/python benchmarks/engine_throughput.py --requests 10000 --concurrency 256 --latency 0.2

The mock runs in its own process (it shares the machine's cores, as it would in BRIEF.md section 5's
anchors). In the same run we measure a bare asyncio + aiohttp loop on the same mock as the baseline,
then seval's engine (OpenAI-compatible adapter, adaptive limiter, retries, SQLite run store) on fresh
prompts, and report:

- efficiency: ideal time (N x latency / concurrency) / wall time, for both;
- the engine's throughput as a ratio of the bare loop's (goal >= 0.9 at c=256, N >= 10,000);
- client CPU seconds per 1,000 requests (goal <= 2).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import orjson

from seval.engine.executor import Executor, plan_units
from seval.engine.store import RunStore
from seval.models import TargetOptions, load_model
from seval.records import GenerationConfig, TestCase


def cpu_seconds() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def start_mock(latency: float, error_rate: float) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "seval.testing.mock_server", "--port", "0", "--latency", str(latency),
         "--error-rate", str(error_rate)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if "listening on" not in line:
        proc.kill()
        raise SystemExit(f"mock server did not start: {line!r}")
    return proc, line.rsplit(" ", 1)[-1].strip()


async def bare_loop(base_url: str, n: int, concurrency: int, tag: str) -> tuple[float, float, int]:
    """The baseline: the least a client can do per request with aiohttp."""
    url = base_url.rstrip("/") + "/chat/completions"
    sem = asyncio.Semaphore(concurrency)
    ok = 0
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one(i: int) -> None:
            nonlocal ok
            body = orjson.dumps({"model": "mock", "messages": [{"role": "user", "content": f"{tag} {i}"}]})
            async with sem, session.post(url, data=body, headers={"Content-Type": "application/json"}) as r:
                data = orjson.loads(await r.read())
                if r.status == 200 and data["choices"][0]["message"]["content"]:
                    ok += 1

        c0, t0 = cpu_seconds(), time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(n)))
        return time.perf_counter() - t0, cpu_seconds() - c0, ok


async def engine_run(base_url: str, n: int, concurrency: int, tag: str) -> tuple[float, float, int, int]:
    model = load_model(f"openai-compatible:mock@{base_url}", TargetOptions(max_concurrency=concurrency))
    tests = [TestCase(id=f"{tag}{i}", lang="en", risk="ci", prompt=f"{tag} {i}") for i in range(n)]
    with tempfile.TemporaryDirectory() as tmp, RunStore(Path(tmp) / "store.sqlite") as store:
        store.add_tests(tests)
        units = plan_units(tests, [model.id], [GenerationConfig(max_tokens=64)])
        ex = Executor(store, {model.id: model})
        c0, t0 = cpu_seconds(), time.perf_counter()
        stats = await ex.run(units)
        wall, cpu = time.perf_counter() - t0, cpu_seconds() - c0
        stored = store.count_responses()["ok"]
        await model.aclose()
    return wall, cpu, stats.answered, stored


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--requests", "-n", type=int, default=10_000)
    ap.add_argument("--concurrency", "-c", type=int, default=256)
    ap.add_argument("--latency", type=float, default=0.2)
    ap.add_argument("--error-rate", type=float, default=0.0)
    ap.add_argument("--warmup", type=int, default=512)
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args()
    n, c, lat = args.requests, args.concurrency, args.latency
    proc, base_url = start_mock(lat, args.error_rate)
    try:
        asyncio.run(bare_loop(base_url, args.warmup, c, "warm"))
        b_wall, b_cpu, b_ok = asyncio.run(bare_loop(base_url, n, c, "bare"))
        e_wall, e_cpu, e_ok, e_stored = asyncio.run(engine_run(base_url, n, c, "eng"))
    finally:
        proc.terminate()
        proc.wait(10)
    ideal = n * lat / c
    result = {
        "requests": n,
        "concurrency": c,
        "latency_s": lat,
        "ideal_s": round(ideal, 3),
        "bare": {"wall_s": round(b_wall, 3), "efficiency": round(ideal / b_wall, 3), "ok": b_ok,
                 "cpu_s_per_1000": round(b_cpu / n * 1000, 3)},
        "engine": {"wall_s": round(e_wall, 3), "efficiency": round(ideal / e_wall, 3), "ok": e_ok,
                   "stored": e_stored, "cpu_s_per_1000": round(e_cpu / n * 1000, 3)},
        "engine_vs_bare_throughput": round(b_wall / e_wall, 3),
    }  # fmt: skip
    if args.json:
        print(json.dumps(result))
        return
    print(f"{n} requests, concurrency {c}, mock latency {lat * 1000:.0f} ms, ideal {ideal:.2f} s")
    print(f"{'client':<10}{'wall s':>9}{'efficiency':>12}{'CPU-s/1000':>12}{'ok':>8}")
    for name in ("bare", "engine"):
        r = result[name]
        assert isinstance(r, dict)
        print(
            f"{name:<10}{r['wall_s']:>9.2f}{r['efficiency']:>11.0%}{r['cpu_s_per_1000']:>12.2f}{r['ok']:>8}"
        )
    print(
        f"engine throughput / bare loop throughput: {result['engine_vs_bare_throughput']:.2f}x "
        f"(engine stored {e_stored} responses)"
    )


if __name__ == "__main__":
    main()
