"""storepush's benchmarks. ``nox -s bench`` runs them and rewrites ``benchmarks/RESULTS.md``.

Every figure is a ratio against a reference measured in the same run, repeated (median and
spread); nothing here is a test and nothing asserts a timing. ``--quick`` runs small sizes.

1. streaming upload: storepush vs curl vs the documented requests way (MB/s, peak RSS)
2. batch publish: 200 apps against the emulator with latency and quotas, vs the floor and vs a
   sequential requests script
3. per-call overhead: last_published through storepush vs a bare aiohttp session
4. decoding: msgspec Structs vs json.loads + dataclasses vs pydantic
5. limiter precision and adaptation (with plots)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import msgspec

import storepush
from storepush._samples import make_apk

HERE = Path(__file__).resolve().parent

MIB = 1024 * 1024
#: Figures one section measures and a later one needs (same run).
MEASURED: dict[str, float] = {}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, timeout: float = 20.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def curl_upload(apk: Path, url: str) -> list[str]:
    """curl's own multipart upload of ``apk``; it prints its transfer time."""
    return [
        "curl", "-sS", "-o", "/dev/null", "-w", "%{time_total}\n",
        "-H", "CAFEBAZAAR-PISHKHAN-API-SECRET: bench-token",
        "-F", f"apk=@{apk}", "-F", "architecture=all", url,
    ]  # fmt: skip


@contextlib.contextmanager
def emulator_process(*extra: str) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """``python -m storepush.emulator`` in its own process on a free port; its base URL."""
    port = free_port()
    command = [sys.executable, "-m", "storepush.emulator", "--port", str(port), *extra]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    try:
        wait_port(port)
        yield proc, f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait()


def spread(values: list[float], fmt: str = "{:.0f}") -> str:
    med = statistics.median(values)
    return f"{fmt.format(med)} ({fmt.format(min(values))}–{fmt.format(max(values))})"


@dataclass
class Run:
    seconds: float
    max_rss_mib: float


def _hwm_mib(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def measure(command: list[str]) -> Run:
    """Run ``command`` as its own process: the upload time it reports on stdout, and its peak
    RSS. Peak RSS is VmHWM of the program's own address space (rusage's maxrss would count the
    pre-exec copy of this 40 MB Python process): the Python clients print theirs; for curl it
    is sampled every 2 ms while it runs (a high-water mark, so the last sample is the peak)."""
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = 0.0
    while proc.poll() is None:
        peak = max(peak, _hwm_mib(proc.pid) or 0.0)
        time.sleep(0.002)
    out, err = proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"{command[:2]} failed: {err[-500:]}")
    fields = out.strip().splitlines()[-1].split()
    if len(fields) > 1:
        peak = float(fields[1])
    return Run(float(fields[0]), peak)


# -- 1. streaming upload ----------------------------------------------------------------------


def bench_upload(quick: bool, work: Path) -> str:
    sizes = [8 * MIB, 64 * MIB] if quick else [64 * MIB, 1024 * MIB]
    repeats = 2 if quick else 3
    port = free_port()
    server = subprocess.Popen([sys.executable, str(HERE / "upload_server.py"), str(port)])
    try:
        wait_port(port)
        base = f"http://127.0.0.1:{port}/v1"
        rows = []
        rss: dict[str, dict[int, float]] = {"storepush": {}, "curl": {}, "requests": {}}
        for size in sizes:
            apk = work / f"upload-{size}.apk"
            if not apk.exists():
                make_apk(apk, package="com.bench", version_code=2, size=size, seed=size)
            real = apk.stat().st_size
            commands: dict[str, list[str]] = {
                "storepush": [
                    sys.executable,
                    str(HERE / "upload_client.py"),
                    "storepush",
                    str(apk),
                    base,
                ],
                "requests": [
                    sys.executable,
                    str(HERE / "upload_client.py"),
                    "requests",
                    str(apk),
                    base,
                ],
            }
            if shutil.which("curl"):
                commands["curl"] = curl_upload(apk, base + "/apps/releases/upload/")
            results: dict[str, list[Run]] = {name: [] for name in commands}
            for _ in range(repeats):  # alternate, so drift on a noisy machine hits each alike
                for name, command in commands.items():
                    results[name].append(measure(command))
            speeds = {n: [real / r.seconds / 1e6 for r in runs] for n, runs in results.items()}
            for name, runs in results.items():
                rss[name][size] = max(r.max_rss_mib for r in runs)
            ref = statistics.median(speeds["curl"]) if "curl" in speeds else float("nan")
            MEASURED["upload_ratio"] = statistics.median(speeds["storepush"]) / ref
            for name in commands:
                ratio = statistics.median(speeds[name]) / ref
                rows.append(
                    f"| {size // MIB} MiB | {name} | {spread(speeds[name])} | {ratio:.2f}x | {rss[name][size]:.0f} |"
                )
        growth = {n: rss[n].get(sizes[-1], 0) - rss[n].get(sizes[0], 0) for n in rss if rss[n]}
        MEASURED["upload_rss_growth"] = growth.get("storepush", 0.0)
    finally:
        server.terminate()
        server.wait()
    table = "\n".join(rows)
    return f"""## 1. Streaming upload

A sink in its own process parses just enough multipart to hash the file part, so it is not the
limit. Each client runs as its own process and reports its own upload time (storepush and
requests time the call, session and connection included; curl its `time_total`), so process
start-up is not counted; peak RSS is the program's own (VmHWM), interpreter included for the
Python clients. Alternating, {repeats} runs each. MB/s is median (min–max);
the ratio is against curl's median in the same run.

| file | client | MB/s | vs curl | peak RSS (MiB) |
|---|---|---|---|---|
{table}

Peak RSS growth from {sizes[0] // MIB} MiB to {sizes[-1] // MIB} MiB:
{", ".join(f"{n} {g:+.0f} MiB" for n, g in growth.items())}.
Target: storepush at least 1.0x curl, RSS growth under 16 MiB. The documented `requests` way
reads the whole body into memory (its RSS grows with the file).
"""


def bench_ingest(quick: bool, work: Path) -> str:
    """The emulator's own ingest: curl into it, in its own process, and its memory."""
    size = (64 if quick else 1024) * MIB
    apk = work / f"upload-{size}.apk"
    if not apk.exists():
        make_apk(apk, package="com.bench", version_code=2, size=size, seed=size)
    speeds, growth = [], []
    with emulator_process("--app", "bench-token=com.bench") as (proc, base):
        for _ in range(3):
            import urllib.request

            urllib.request.urlopen(
                urllib.request.Request(f"{base}/_emulator/reset", method="POST")
            ).read()
            urllib.request.urlopen(
                urllib.request.Request(
                    f"{base}/v1/apps/releases/",
                    method="POST",
                    headers={"CAFEBAZAAR-PISHKHAN-API-SECRET": "bench-token"},
                )
            ).read()
            before = _hwm_mib(proc.pid) or 0.0
            run = measure(curl_upload(apk, base + "/v1/apps/releases/upload/"))
            speeds.append(apk.stat().st_size / run.seconds / 1e6)
            growth.append((_hwm_mib(proc.pid) or 0.0) - before)
    MEASURED["ingest_mbps"] = statistics.median(speeds)
    MEASURED["ingest_rss_growth"] = max(growth)
    return f"""### 1b. The emulator's ingest

curl uploading {size // MIB} MiB into the emulator (its own process), 3 runs: {spread(speeds)} MB/s
(target: at least 1000 MB/s on this machine); growth of the emulator's peak RSS during an upload:
at most {max(growth):.1f} MiB (target: under 32 MiB). The emulator parses the multipart body with
aiohttp and hashes it with SHA-1 in a worker thread: on 2 cores shared by curl, the parser and
SHA-1 (about 1.7 GB/s on one core here), that is the limit when it falls short of the target.
"""


# -- 2. batch publish --------------------------------------------------------------------------


def bench_batch(quick: bool, work: Path) -> str:
    apps = 10 if quick else 200
    apk_size = (1 if quick else 4) * MIB
    latency, quota_rate, quota_burst = 0.02, 2.0, 1
    tokens = {f"bench-token-{i:04d}": f"com.bench.app{i}" for i in range(apps)}
    files = []
    for i, package in enumerate(tokens.values()):
        a = work / f"b{i}-a.apk"
        b = work / f"b{i}-b.apk"
        if not a.exists():
            make_apk(a, package=package, version_code=3, size=apk_size, seed=3 * i)
            make_apk(b, package=package, version_code=2, size=apk_size, seed=3 * i + 1)
        files.append((a, b))

    emulator_args = ["--latency", str(latency), "--quota", f"{quota_rate}/{quota_burst}"]
    for token, package in tokens.items():
        emulator_args += ["--app", f"{token}={package}"]

    async def concurrent(base: str, limits: storepush.Limits | None) -> tuple[float, int]:
        started = time.perf_counter()
        async with storepush.Session(limits=limits, max_connections=100) as session:

            async def one(token: str, pair: tuple[Path, Path]) -> None:
                async with storepush.BazaarClient(
                    token, base_url=base + "/v1", session=session
                ) as c:
                    await c.publish([pair[0], pair[1]])

            await asyncio.gather(*(one(t, f) for t, f in zip(tokens, files, strict=True)))
            throttled = session.stats.throttled
        return time.perf_counter() - started, throttled

    def sequential(base: str) -> float:
        import requests

        started = time.perf_counter()
        for token, (a, b) in zip(tokens, files, strict=True):
            h = {"CAFEBAZAAR-PISHKHAN-API-SECRET": token}
            requests.post(base + "/v1/apps/releases/", headers=h, timeout=60).raise_for_status()
            for path in (a, b):
                for _ in range(50):  # the documented way knows no backoff: retry on 429 after 1 s
                    with path.open("rb") as handle:
                        r = requests.post(
                            base + "/v1/apps/releases/upload/",
                            headers=h,
                            timeout=600,
                            files={"apk": handle},
                            data={"architecture": "all"},
                        )
                    if r.status_code != 429:
                        break
                    time.sleep(1.0)
                r.raise_for_status()
            requests.post(
                base + "/v1/apps/releases/commit/", headers=h, json={}, timeout=60
            ).raise_for_status()
        return time.perf_counter() - started

    rows = []
    results: dict[str, tuple[float, int]] = {}
    for label, limits in (
        (
            "limiter set to the quota",
            storepush.Limits(default=storepush.RateLimit(quota_rate, quota_burst), adaptive=False),
        ),
        ("adaptive, from the defaults", None),
    ):
        with emulator_process(*emulator_args) as (_, base):
            results[label] = asyncio.run(concurrent(base, limits))
    with emulator_process(*emulator_args) as (_, base):
        seq_seconds = sequential(base)
    # Floor: each app's own critical path (7 calls of `latency`; its two uploads share one
    # endpoint quota, so the second waits 1/rate), all apps in parallel (one token each).
    per_app = 7 * latency + max(0.0, (2 - quota_burst) / quota_rate)
    total_mb = apps * 2 * apk_size / 1e6
    ingest = MEASURED.get("ingest_mbps")
    byte_floor = total_mb / ingest if ingest else 0.0
    floor = max(per_app, byte_floor)
    requests_total = apps * 7
    for label, (seconds, throttled) in results.items():
        key = "quota" if "quota" in label else "adaptive"
        MEASURED[f"batch_ratio_{key}"] = seconds / floor
        MEASURED[f"batch_429_{key}"] = throttled / requests_total
        rows.append(
            f"| storepush, {label} | {seconds:.2f} | {seconds / floor:.1f}x | "
            f"{throttled} ({throttled / requests_total:.1%}) | {seq_seconds / seconds:.1f}x |"
        )
    rows.append(
        f"| sequential requests script | {seq_seconds:.2f} | {seq_seconds / floor:.0f}x | — | 1.0x |"
    )
    byte_note = (
        f"the bytes: {total_mb:.0f} MB at the emulator's ingest rate measured above "
        f"({ingest:.0f} MB/s) take {byte_floor:.2f} s"
        if ingest
        else "the bytes (not measured in this run: run the upload section too)"
    )
    return f"""## 2. Batch publish

{apps} apps (one token each), each: publish two {apk_size // MIB} MiB APKs (storepush: its reads,
create, two uploads, commit). The emulator runs in its own process with {latency * 1000:.0f} ms
latency per answer and a quota of {quota_rate:g}/s (burst {quota_burst}) per token and endpoint.

| run | wall time (s) | vs floor | 429s received | speed-up vs sequential |
|---|---|---|---|---|
{chr(10).join(rows)}

The floor ({floor:.2f} s) is the larger of one app's critical path ({per_app:.2f} s: 7 calls at
{latency * 1000:.0f} ms, the second upload waiting for the upload quota; apps run in parallel) and
{byte_note}. Target: within 1.2x of the floor, 429s under 1 %. What remains above the floor is
mostly CPU: the client and the emulator share 2 cores, and the emulator parses and hashes every
byte it receives.
"""


# -- 3. per-call overhead ----------------------------------------------------------------------


def bench_overhead(quick: bool) -> str:
    calls, concurrency = (1000, 50) if quick else (5000, 50)
    headers = {"CAFEBAZAAR-PISHKHAN-API-SECRET": "bench-token", "Accept": "application/json"}

    async def raw(base: str) -> float:
        url = base + "/v1/apps/releases/last-published"
        gate = asyncio.Semaphore(concurrency)
        async with aiohttp.ClientSession() as http:

            async def one() -> None:
                async with gate, http.get(url, headers=headers) as r:
                    json.loads(await r.read())

            started = time.perf_counter()
            await asyncio.gather(*(one() for _ in range(calls)))
            return time.perf_counter() - started

    async def sdk(base: str) -> float:
        gate = asyncio.Semaphore(concurrency)
        limits = storepush.Limits(default=storepush.RateLimit(1e6, 10_000))
        async with storepush.BazaarClient("bench-token", base_url=base + "/v1", limits=limits) as c:

            async def one() -> None:
                async with gate:
                    await c.last_published()

            started = time.perf_counter()
            await asyncio.gather(*(one() for _ in range(calls)))
            return time.perf_counter() - started

    raws, sdks = [], []
    with emulator_process("--app", "bench-token=com.bench") as (_, base):
        for _ in range(3):
            raws.append(calls / asyncio.run(raw(base)))
            sdks.append(calls / asyncio.run(sdk(base)))
    ratio = statistics.median(raws) / statistics.median(sdks)
    MEASURED["overhead_ratio"] = ratio
    profile = ""
    if ratio > 1.15:
        import cProfile
        import io
        import pstats

        with emulator_process("--app", "bench-token=com.bench") as (_, base):
            profiler = cProfile.Profile()
            profiler.enable()
            asyncio.run(sdk(base))
            profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(12)
        lines = [line for line in out.getvalue().splitlines() if line.strip()][-14:]
        profile = (
            "\nWhere storepush's time goes (cProfile, by own time):\n\n```\n"
            + "\n".join(lines)
            + "\n```\n"
        )
    return f"""## 3. Per-call overhead

{calls} `last_published` calls at concurrency {concurrency} to the emulator (its own process),
3 runs each, alternating. Calls/s median (min–max).

| client | calls/s |
|---|---|
| bare aiohttp session | {spread(raws)} |
| storepush (limiter, retry, decode into Structs) | {spread(sdks)} |

Time per call, storepush / bare aiohttp: **{ratio:.2f}x** (target: at most 1.15x).
{profile}"""


# -- 4. decoding -------------------------------------------------------------------------------


def bench_decoding() -> str:
    from dataclasses import dataclass as dc

    from storepush.bazaar._models import ReleaseEnvelope

    package = {
        "apk_size": 1227887,
        "sha1_hash": "5920f830cc5867d6f7304d70383f1337dab0822e",
        "version_code": 1,
        "version_name": "1.0",
        "api_level": 25,
        "target_api_level": 27,
        "upload_date": "2021-07-18",
        "cpu_architectures": "",
        "dpi": 1,
        "locale": "en",
        "additional_files": [],
    }
    body = json.dumps(
        {
            "type": "success",
            "message": "Last committed release successfully retrived.",
            "release": {
                "creation_date": "2021-07-18T16:24:20.868758",
                "packages": [package, package],
                "auto_publish": False,
                "staged_rollout_percentage": 10,
                "changelog_fa": None,
                "changelog_en": "cool new things added",
            },
        }
    ).encode()

    @dc
    class DPackage:
        apk_size: int
        sha1_hash: str
        version_code: int
        version_name: str

    @dc
    class DRelease:
        creation_date: str
        packages: list[DPackage]

    def with_dataclasses() -> object:
        data = json.loads(body)["release"]
        return DRelease(
            data["creation_date"],
            [
                DPackage(p["apk_size"], p["sha1_hash"], p["version_code"], p["version_name"])
                for p in data["packages"]
            ],
        )

    decoder = msgspec.json.Decoder(ReleaseEnvelope)
    contenders: dict[str, Callable[[], object]] = {
        "msgspec Structs (storepush, validated)": lambda: decoder.decode(body),
        "json.loads + dataclasses (no validation)": with_dataclasses,
    }
    try:
        import pydantic

        class PPackage(pydantic.BaseModel):
            apk_size: int
            sha1_hash: str
            version_code: int | None = None
            version_name: str | None = None

        class PRelease(pydantic.BaseModel):
            creation_date: str | None = None
            packages: list[PPackage] = []

        class PEnvelope(pydantic.BaseModel):
            type: str
            release: PRelease

        contenders["pydantic v2 (validated)"] = lambda: PEnvelope.model_validate_json(body)
    except ImportError:
        pass
    rates: dict[str, list[float]] = {name: [] for name in contenders}
    n = 20000
    for _ in range(5):
        for name, fn in contenders.items():
            started = time.perf_counter()
            for _ in range(n):
                fn()
            rates[name].append(n / (time.perf_counter() - started))
    ref = statistics.median(rates["msgspec Structs (storepush, validated)"])
    rows = "\n".join(
        f"| {name} | {spread([r / 1000 for r in values], '{:.0f}')} | {statistics.median(values) / ref:.2f}x |"
        for name, values in rates.items()
    )
    return f"""## 4. Decoding

A {len(body)}-byte release answer (two packages), decoded {n} times, 5 rounds.

| decoder | thousand decodes/s | vs msgspec |
|---|---|---|
{rows}
"""


# -- 5. limiter --------------------------------------------------------------------------------


def bench_limiter(quick: bool, out_dir: Path) -> str:
    from storepush import RateLimit, TokenBucket

    duration = 3.0 if quick else 10.0
    rate, burst, callers = 50.0, 10, 200

    async def run() -> tuple[list[float], list[int]]:
        bucket = TokenBucket(RateLimit(rate, burst), adaptive=False)
        stamps: list[float] = []
        order: list[int] = []  # the arrival ticket of each admission, in admission order
        tickets = iter(range(10**9))
        start = time.monotonic()
        end = start + duration

        async def caller(i: int) -> None:
            while True:
                ticket = next(tickets)  # taken just before asking: the arrival order
                await bucket.acquire()
                now = time.monotonic()
                if now >= end:
                    return
                stamps.append(now - start)
                order.append(ticket)

        tasks = [asyncio.create_task(caller(i)) for i in range(callers)]
        await asyncio.gather(*tasks)
        return stamps, order

    stamps, order = asyncio.run(run())
    worst = max(sum(1 for t in stamps if s <= t < s + 1.0) for s in stamps)
    mean_rate = (len(stamps) - burst) / duration
    fifo = order == sorted(order)
    MEASURED["limiter_window"] = worst
    MEASURED["limiter_rate_error"] = abs(mean_rate / rate - 1)
    MEASURED["limiter_fifo"] = 1.0 if fifo else 0.0

    # the adaptive bucket finding an unknown server quota, on a simulated clock
    class Clock:
        now = 0.0

        def __call__(self) -> float:
            return self.now

        async def sleep(self, d: float) -> None:
            self.now += max(0.0, d)
            await asyncio.sleep(0)

    async def adapt() -> tuple[list[tuple[float, float]], int, int]:
        clock = Clock()
        client = TokenBucket(RateLimit(50, 5), clock=clock, sleep=clock.sleep)
        server_rate, server_tokens, last = 20.0, 5.0, 0.0
        trace, sent, refused = [], 0, 0
        while clock.now < 60:
            await client.acquire()
            server_tokens = min(5.0, server_tokens + (clock.now - last) * server_rate)
            last = clock.now
            sent += 1
            if server_tokens >= 1:
                server_tokens -= 1
                client.on_success()
            else:
                refused += 1
                client.on_throttle(None)
            trace.append((clock.now, client.rate))
        return trace, sent, refused

    trace, sent, refused = asyncio.run(adapt())
    plots = ""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        bins = [0] * int(duration * 10)
        for t in stamps:
            if int(t * 10) < len(bins):
                bins[int(t * 10)] += 1
        fig, ax = plt.subplots(figsize=(8, 3))
        ax.bar([i / 10 for i in range(len(bins))], bins, width=0.09, label="admissions per 100 ms")
        ax.axhline(rate / 10, color="red", label=f"quota ({rate:g}/s)")
        ax.set_xlabel("seconds")
        ax.legend()
        fig.tight_layout()
        fig.savefig(out_dir / "limiter-precision.png", dpi=100)
        fig, ax = plt.subplots(figsize=(8, 3))
        ax.plot([t for t, _ in trace], [r for _, r in trace], label="client rate")
        ax.axhline(20, color="red", label="server quota (unknown to the client)")
        ax.set_xlabel("seconds (simulated)")
        ax.set_ylabel("requests/s")
        ax.legend()
        fig.tight_layout()
        fig.savefig(out_dir / "limiter-adaptive.png", dpi=100)
        plots = "\n![admissions per 100 ms](limiter-precision.png)\n\n![adaptive rate](limiter-adaptive.png)\n"
    except ImportError:
        plots = "\n(matplotlib is not installed: no plots.)\n"
    return f"""## 5. Limiter precision and adaptation

A bucket at {rate:g}/s with burst {burst}, {callers} concurrent callers, {duration:g} s of real time:

| measure | value | target |
|---|---|---|
| admissions | {len(stamps)} | — |
| largest count in any 1 s window | {worst} | at most {rate + burst:g} |
| mean rate after the burst | {mean_rate:.2f}/s ({(mean_rate / rate - 1):+.1%}) | within 2 % of {rate:g} |
| every admission in arrival order (FIFO) | {"yes" if fifo else "no"} | yes |

Adaptive bucket, ceiling 50/s, against a server quota of 20/s it is not told about (simulated
60 s): {sent} requests, {refused} refused ({refused / sent:.1%}); the rate settles under the quota.
{plots}"""


# -- main ------------------------------------------------------------------------------------


#: (figure, label, target text, met?, what limits it when it is not met)
TARGETS: list[tuple[str, str, str, Callable[[float], bool], str]] = [
    (
        "upload_ratio",
        "upload throughput vs curl (largest file)",
        "at least 1.0x",
        lambda v: v >= 1.0,
        "the client spends its time waiting on the socket (epoll/send in a profile), not in Python; "
        "curl writes from C and hashes nothing, storepush also computes SHA-1 (in a worker thread), "
        "and client, sink and curl share 2 cores. Larger chunks or write buffers raised memory, not speed",
    ),
    (
        "upload_rss_growth",
        "storepush peak RSS growth with file size",
        "under 16 MiB",
        lambda v: v < 16,
        "",
    ),
    (
        "ingest_mbps",
        "emulator ingest, MB/s",
        "at least 1000",
        lambda v: v >= 1000,
        "aiohttp's multipart parser alone runs at 1.2-1.4 GB/s here, SHA-1 at about 1.7 GB/s on one "
        "core, and curl needs a core of the two",
    ),
    (
        "ingest_rss_growth",
        "emulator peak RSS growth during an upload (MiB)",
        "under 32",
        lambda v: v < 32,
        "",
    ),
    (
        "batch_ratio_adaptive",
        "batch wall time vs floor (adaptive)",
        "at most 1.2x",
        lambda v: v <= 1.2,
        "CPU: the client and the emulator (which parses and hashes every byte) share 2 cores; the "
        "floor counts neither",
    ),
    (
        "batch_ratio_quota",
        "batch wall time vs floor (limiter at the quota)",
        "at most 1.2x",
        lambda v: v <= 1.2,
        "as above",
    ),
    (
        "batch_429_adaptive",
        "429s in the batch (adaptive)",
        "under 1 %",
        lambda v: v < 0.01,
        "apps that start together send their second upload before the first 429's lesson arrives",
    ),
    (
        "batch_429_quota",
        "429s in the batch (limiter at the quota)",
        "under 1 %",
        lambda v: v < 0.01,
        "the client counts a request when it admits it, the server when it arrives: a first request "
        "on a new connection arrives later than the next one on a warm connection, so a limiter set "
        "exactly at the quota lands some requests early; a limit a few percent under the quota avoids it",
    ),
    (
        "overhead_ratio",
        "per-call time vs bare aiohttp",
        "at most 1.15x",
        lambda v: v <= 1.15,
        "see the profile in section 3: aiohttp's own request machinery dominates; storepush adds the "
        "limiter, its Request/Response objects and a validated msgspec decode per call",
    ),
    (
        "limiter_window",
        "largest count in any 1 s window (50/s, burst 10)",
        "at most 60",
        lambda v: v <= 60,
        "",
    ),
    ("limiter_rate_error", "limiter mean rate error", "within 2 %", lambda v: v <= 0.02, ""),
    ("limiter_fifo", "limiter admits in arrival order", "yes", lambda v: v == 1.0, ""),
]


def targets_table() -> str:
    rows = []
    for key, label, target, met, limit in TARGETS:
        if key not in MEASURED:
            continue
        value = MEASURED[key]
        shown = (
            f"{value:.1%}"
            if key.startswith("batch_429") or key == "limiter_rate_error"
            else ("yes" if value == 1.0 else "no")
            if key == "limiter_fifo"
            else f"{value:.2f}"
        )
        ok = met(value)
        rows.append(
            f"| {label} | {target} | {shown} | {'met' if ok else '**not met**'} | {'' if ok else limit} |"
        )
    return (
        "## Targets\n\n| figure | target | measured | | what limits it |\n|---|---|---|---|---|\n"
        + "\n".join(rows)
        + "\n"
    )


def versions() -> str:
    import importlib.metadata as md

    names = ["storepush", "aiohttp", "tenacity", "msgspec", "aiofiles"]
    found = []
    for name in names:
        with contextlib.suppress(md.PackageNotFoundError):
            found.append(f"{name} {md.version(name)}")
    curl = (
        subprocess.run(["curl", "--version"], capture_output=True, text=True).stdout.split()[:2]
        if shutil.which("curl")
        else ["curl", "missing"]
    )
    return ", ".join([*found, " ".join(curl)])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="small sizes, in seconds")
    parser.add_argument(
        "--only", nargs="*", choices=["upload", "batch", "overhead", "decoding", "limiter"]
    )
    parser.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    args = parser.parse_args()
    chosen = set(args.only or ["upload", "batch", "overhead", "decoding", "limiter"])
    sections = []
    with tempfile.TemporaryDirectory(prefix="storepush-bench-") as tmp:
        work = Path(tmp)
        if "upload" in chosen:
            sections.append(bench_upload(args.quick, work))
            sections.append(bench_ingest(args.quick, work))
        if "batch" in chosen:
            sections.append(bench_batch(args.quick, work))
        if "overhead" in chosen:
            sections.append(bench_overhead(args.quick))
        if "decoding" in chosen:
            sections.append(bench_decoding())
        if "limiter" in chosen:
            sections.append(bench_limiter(args.quick, args.out.parent))
    header = f"""# Benchmark results

Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, {os.cpu_count()} cores,
Python {platform.python_version()}; {versions()}.
{"Quick mode (small sizes). " if args.quick else ""}This machine is shared and noisy: compare the
ratios, which are measured within one run, not absolute figures across runs.

Reproduce: `python3 -m nox -s bench` (or `-- --quick`).
"""
    args.out.write_text(header + "\n" + targets_table() + "\n" + "\n".join(sections))
    print(args.out.read_text())


if __name__ == "__main__":
    main()
