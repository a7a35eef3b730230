"""Many processes, one quota: storepush's limiter shared through Redis (issue 17). NOT YET MEASURED.

A skeleton that holds the section's place and its targets until storepush has a coordination
seam (`Session(coordination=...)`, `storepush[redis]`) and the emulator has account-wide
quotas. It is skipped, saying why, while any of these is missing:

- storepush's Redis support (the `redis` package and a `coordination` parameter of `Session`);
- a `redis-server` binary to start on a free loopback port;
- the emulator's account quota.

What it will measure, in one run (issue 17, "Measured"):

1. 4 processes × 50 apps of one account, account quota Q/s in the emulator, through the
   shaper: with the shared limiter (target: 429s < 1 %, wall ≤ 1.1× the quota floor
   `200 apps × calls per app ÷ Q`) and with in-process limiters at the same settings (429s and
   time, side by side).
2. 4 processes releasing BlueMind versions with one API key: the same figures.
3. Cost of coordination: per-admission latency through Redis, p50 and p99, against the
   in-process limiter.
4. Two processes publishing one app at once, 50 trials at swept offsets: one release each
   time; the second reports `already_committed` or a clear refusal.
"""

from __future__ import annotations

import importlib.util
import inspect
from dataclasses import dataclass

from harness import Context, have
from report import Target

import storepush

NAME = "redis"
TITLE = "Many processes, one quota (Redis): not yet measured"


@dataclass(frozen=True)
class Contender:
    """One run of the account batch (filled in by issue 17's work)."""

    label: str
    wall_seconds: float
    floor_seconds: float
    requests: int
    throttled: int


@dataclass(frozen=True)
class RedisBench:
    missing: list[str]
    contenders: list[Contender]
    admission_p50_ms: float | None = None
    admission_p99_ms: float | None = None

    title = TITLE

    @property
    def measured(self) -> bool:
        return not self.missing and bool(self.contenders)

    def targets(self) -> list[Target]:
        why = "skipped: Redis support is missing" if self.missing else "not written yet"
        if not self.measured:
            return [
                Target("4 processes × 50 apps, shared limiter: 429s", "< 1 %", why, None),
                Target(
                    "4 processes × 50 apps, shared limiter: wall ÷ quota floor", "≤ 1.1×", why, None
                ),
            ]
        shared = self.contenders[0]
        ratio = shared.wall_seconds / shared.floor_seconds
        share = shared.throttled / max(1, shared.requests)
        return [
            Target(
                "4 processes × 50 apps, shared limiter: 429s", "< 1 %", f"{share:.1%}", share < 0.01
            ),
            Target(
                "4 processes × 50 apps, shared limiter: wall ÷ quota floor",
                "≤ 1.1×",
                f"{ratio:.2f}×",
                ratio <= 1.1,
            ),
        ]

    def markdown(self) -> str:
        if not self.measured:
            missing = "".join(f"\n- {m}" for m in self.missing) or "\n- the benchmark itself"
            return (
                "**Not yet measured.** This section holds the place of issue 17's benchmark (see "
                "`benchmarks/bench_redis.py` for what it will measure). Missing in this run:"
                f"{missing}\n"
            )
        rows = "\n".join(
            f"| {c.label} | {c.wall_seconds:.2f} | {c.wall_seconds / c.floor_seconds:.2f}× | "
            f"{c.throttled} ({c.throttled / max(1, c.requests):.1%}) |"
            for c in self.contenders
        )
        return f"""| run | wall (s) | vs floor | 429s |
|---|---|---|---|
{rows}

Per-admission latency through Redis: p50 {self.admission_p50_ms} ms, p99 {self.admission_p99_ms} ms.
"""


def missing_parts() -> list[str]:
    missing = []
    if importlib.util.find_spec("redis") is None:
        missing.append("the `redis` package (storepush[redis]) is not installed")
    if "coordination" not in inspect.signature(storepush.Session).parameters:
        missing.append("storepush has no coordination seam yet (`Session(coordination=...)`)")
    if not have("redis-server"):
        missing.append("no `redis-server` binary (Debian package redis-server)")
    return missing


def run(ctx: Context) -> RedisBench:
    missing = missing_parts()
    # Issue 17 fills this in: start redis-server on a free port in ctx.scratch("redis"), an
    # emulator with an account quota behind the shaper, and 4 `storepush batch` processes.
    return RedisBench(missing, [])
