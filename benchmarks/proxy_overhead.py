"""Latency the defense proxy (`seval defend serve`) adds per request, against calling the upstream directly.

    .venv/bin/python benchmarks/proxy_overhead.py -n 500 --latency 0.05

The issue's done-criterion: the proxy "adds no more than 20 ms of median overhead per request (router
included, with the local critic as router)". The mock upstream (fixed latency) and each proxy run in
their own processes, as in a deployment; the client is a bare aiohttp loop here. Requests to the three
paths are interleaved (direct, proxy in `system` mode = router + principles, proxy in `none` mode =
the proxy's plumbing alone), so background load hits them alike. For each concurrency (default 1 and 8)
it reports median and p95 latency per path, the median overhead (path - direct) and the ratio; then the
same for streaming time to first byte; then each proxy's CPU per request and, in this process, the
cost of `prepare` itself (router + principles) over the same prompts. Prompts: the seed suite (zh + en).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from typing import Any

import aiohttp
import orjson

from seval.data.seed import load_seed_suite
from seval.defense.constitutional import ConstitutionalDefense
from seval.records import Message

GOAL_MS = 20.0
# The goal is about the streaming modes (router + principles, and the bare plumbing); `revise` calls the
# critic on every answer and the upstream twice for unsafe ones, so it is reported but not held to it.
GOAL_PATHS = ("system", "none")
_PROXY_CHILD = (
    "import sys; from seval.defense import load_defense; from seval.defense.proxy import serve; "
    "serve(sys.argv[1], load_defense(sys.argv[2]), port=0, quiet=True)"
)


def start_mock(latency: float) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "seval.testing.mock_server", "--port", "0", "--latency", str(latency)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if "listening on" not in line:
        proc.kill()
        raise SystemExit(f"mock server did not start: {line!r}")
    return proc, line.rsplit(" ", 1)[-1].strip()


def start_proxy(upstream: str, spec: str) -> tuple[subprocess.Popen[str], str]:
    """A proxy process (quiet: no per-request log); its URL comes from the one banner line on stderr."""
    proc = subprocess.Popen(
        [sys.executable, "-c", _PROXY_CHILD, upstream, spec], stderr=subprocess.PIPE, text=True
    )
    assert proc.stderr is not None
    line = proc.stderr.readline()
    if "listening on" not in line:
        proc.kill()
        raise SystemExit(f"proxy ({spec}) did not start: {line!r}")
    return proc, line.split(" listening on ", 1)[1].split(" ", 1)[0]


def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds of another process (Linux /proc)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def measure(
    urls: dict[str, str], prompts: list[str], n: int, concurrency: int, stream: bool
) -> dict[str, list[float]]:
    """n requests per path, interleaved path by path; latency (ms) to the full answer, or to the first
    body byte when streaming."""
    jobs: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
    for i in range(n):
        for path in urls:
            jobs.put_nowait((path, prompts[i % len(prompts)]))
    times: dict[str, list[float]] = defaultdict(list)
    failures: list[str] = []
    headers = {"Content-Type": "application/json", "Authorization": "Bearer bench"}
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            while not jobs.empty():
                path, prompt = jobs.get_nowait()
                body: dict[str, Any] = {"model": "mock", "messages": [{"role": "user", "content": prompt}],
                                        "max_tokens": 64}  # fmt: skip
                if stream:
                    body["stream"] = True
                url = urls[path] + "/chat/completions"
                t0 = time.perf_counter()
                async with session.post(url, data=orjson.dumps(body), headers=headers) as r:
                    if stream:
                        await r.content.readany()
                        elapsed = time.perf_counter() - t0
                        await r.read()
                    else:
                        data = orjson.loads(await r.read())
                        elapsed = time.perf_counter() - t0
                        if r.status == 200 and not data["choices"][0]["message"]["content"]:
                            failures.append(path)
                    if r.status != 200:
                        failures.append(f"{path}: {r.status}")
                times[path].append(elapsed * 1000)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    if failures:
        raise SystemExit(f"{len(failures)} requests failed, e.g. {failures[:3]}")
    return times


def summarise(times: dict[str, list[float]], order: list[str]) -> dict[str, dict[str, float]]:
    direct = statistics.median(times["direct"])
    out = {}
    for path in order:
        values = times[path]
        med = statistics.median(values)
        out[path] = {
            "median_ms": round(med, 2),
            "p95_ms": round(pct(values, 0.95), 2),
            "overhead_median_ms": round(med - direct, 2),
            "ratio": round(med / direct, 3),
        }
    return out


def prepare_cost(prompts: list[str]) -> dict[str, float]:
    """`prepare` alone (router + principles), in this process: what the proxy adds beyond plumbing."""
    defense = ConstitutionalDefense("system")
    defense.prepare([Message(role="user", content="warm-up")])
    costs = []
    for p in prompts:
        t0 = time.perf_counter()
        defense.prepare([Message(role="user", content=p)])
        costs.append((time.perf_counter() - t0) * 1000)
    return {"median_ms": round(statistics.median(costs), 3), "p95_ms": round(pct(costs, 0.95), 3)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--requests", "-n", type=int, default=500, help="requests per path and concurrency")
    ap.add_argument("--stream-requests", type=int, default=200, help="streaming requests per path")
    ap.add_argument("--concurrency", "-c", type=int, nargs="+", default=[1, 8])
    ap.add_argument("--latency", type=float, default=0.05, help="the mock upstream's latency, seconds")
    ap.add_argument("--modes", default="system,none", help="proxy modes to measure (system, none, revise)")
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args()
    prompts = [t.prompt for t in load_seed_suite()]
    procs: list[subprocess.Popen[str]] = []
    try:
        mock, upstream = start_mock(args.latency)
        procs.append(mock)
        urls = {"direct": upstream}
        pids: dict[str, int] = {}
        for mode in args.modes.split(","):
            proc, url = start_proxy(upstream, f"constitutional:{mode.strip()}")
            procs.append(proc)
            urls[mode.strip()] = url
            pids[mode.strip()] = proc.pid
        asyncio.run(measure(urls, prompts, args.warmup, 4, False))
        results: dict[str, Any] = {
            "requests": args.requests,
            "stream_requests": args.stream_requests,
            "latency_s": args.latency,
            "prompts": len(prompts),
            "plain": {},
            "stream_ttfb": {},
        }
        cpu0 = {m: process_cpu_s(pid) for m, pid in pids.items()}
        proxied = 0
        for c in args.concurrency:
            times = asyncio.run(measure(urls, prompts, args.requests, c, False))
            results["plain"][f"c{c}"] = summarise(times, list(urls))
            proxied += args.requests
        cpu1 = {m: process_cpu_s(pid) for m, pid in pids.items()}
        results["proxy_cpu_ms_per_request"] = {
            m: round((cpu1[m] - cpu0[m]) / proxied * 1000, 3) for m in pids
        }
        if args.stream_requests:
            for c in args.concurrency:
                times = asyncio.run(measure(urls, prompts, args.stream_requests, c, True))
                results["stream_ttfb"][f"c{c}"] = summarise(times, list(urls))
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(10)
    results["prepare_in_process"] = prepare_cost(prompts)
    held = [
        row["overhead_median_ms"]
        for table in ("plain", "stream_ttfb")
        for per_c in results[table].values()
        for path, row in per_c.items()
        if path in GOAL_PATHS
    ]
    worst = max(held) if held else None  # None: no system/none proxy was measured
    results["worst_median_overhead_ms"] = worst
    results["goal_ms"] = GOAL_MS
    results["pass"] = worst is not None and worst <= GOAL_MS
    if args.json:
        print(json.dumps(results))
        return
    print(
        f"{args.requests} requests per path (streaming: {args.stream_requests}), mock upstream latency "
        f"{args.latency * 1000:.0f} ms, {len(prompts)} seed prompts (zh + en)"
    )
    print(f"{'':<17}{'path':<9}{'median ms':>11}{'p95 ms':>9}{'overhead ms':>13}{'ratio':>8}")
    for table, label in (("plain", "plain"), ("stream_ttfb", "stream TTFB")):
        for c_key, per_path in results[table].items():
            for path, row in per_path.items():
                over = "-" if path == "direct" else f"{row['overhead_median_ms']:+.2f}"
                print(
                    f"{label + ' ' + c_key.replace('c', 'c='):<17}{path:<9}{row['median_ms']:>11.2f}"
                    f"{row['p95_ms']:>9.2f}{over:>13}{row['ratio']:>8.3f}"
                )
    cpu = ", ".join(f"{m} {v:.2f}" for m, v in results["proxy_cpu_ms_per_request"].items())
    prep = results["prepare_in_process"]
    print(f"proxy CPU ms per request: {cpu}")
    print(
        f"prepare() alone (router + principles): median {prep['median_ms']:.3f}, p95 {prep['p95_ms']:.3f} ms"
    )
    verdict = "PASS" if results["pass"] else "FAIL"
    print(
        f"worst median overhead of {'/'.join(GOAL_PATHS)}: {worst:.2f} ms (goal <= {GOAL_MS:g} ms): {verdict}"
    )


if __name__ == "__main__":
    main()
