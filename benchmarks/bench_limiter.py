"""The client-side limiter: precision of one bucket, and adaptation to a quota it is not told.

Precision: one `storepush.TokenBucket` at 50/s with burst 10, not adaptive, 200 concurrent
callers for 10 s of real time (`--quick`: 3 s). Each caller takes an arrival ticket just before
asking, so admissions can be checked against arrival order.

Adaptation: a `storepush.Session` whose limiter starts at 50/s (burst 5, adaptive) calls
`last_published` from 20 concurrent loops for 20 s (`--quick`: 6 s) against the emulator in
its own process, whose quota is 20/s (burst 5) per token and endpoint. The emulator's request
log says what it admitted and refused, on its own clock.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from harness import Context, emulator_process, pyplot, quota_arg
from report import Target

import storepush

NAME = "limiter"
TITLE = "The limiter: precision and adaptation"
TOKEN = "bench-limiter-token"
PACKAGE = "com.bench.limiter"

RATE, BURST, CALLERS = 50.0, 10, 200
SERVER_RATE, SERVER_BURST, CLIENT_CEILING, LOOPS = 20.0, 5, 50.0, 20


@dataclass(frozen=True)
class Precision:
    duration: float
    stamps: list[float]  #: admission times, seconds from the start
    fifo: bool

    @property
    def worst_window(self) -> int:
        """The largest number of admissions in any 1 s window."""
        stamps, worst, j = self.stamps, 0, 0
        for i, start in enumerate(stamps):
            while j < len(stamps) and stamps[j] < start + 1.0:
                j += 1
            worst = max(worst, j - i)
        return worst

    @property
    def mean_rate(self) -> float:
        return (len(self.stamps) - BURST) / self.duration


@dataclass(frozen=True)
class Adaptation:
    duration: float
    log: list[tuple[float, int]]  #: (seconds from the first request, status) per request
    failed_calls: int

    @property
    def refused(self) -> int:
        return sum(1 for _, s in self.log if s == 429)

    def admitted_rate(self, start: float, end: float) -> float:
        n = sum(1 for t, s in self.log if s != 429 and start <= t < end)
        return n / (end - start) if end > start else float("nan")


@dataclass(frozen=True)
class LimiterBench:
    precision: Precision
    adaptation: Adaptation | None
    plots: list[str]

    title = TITLE

    def targets(self) -> list[Target]:
        p = self.precision
        error = p.mean_rate / RATE - 1
        found = [
            Target(
                f"largest count in any 1 s window ({RATE:g}/s, burst {BURST})",
                f"≤ {RATE + BURST:g}",
                str(p.worst_window),
                p.worst_window <= RATE + BURST,
                "the bucket let a burst through on top of the rate",
            ),
            Target(
                "limiter mean rate error",
                "within 2 %",
                f"{error:+.1%}",
                abs(error) <= 0.02,
                "sleeps overshoot on a busy machine",
            ),
            Target(
                "limiter admits in arrival order",
                "yes",
                "yes" if p.fifo else "no",
                p.fifo,
                "a waiter overtook an earlier one",
            ),
        ]
        a = self.adaptation
        if a is not None:
            half = a.duration / 2
            found.append(
                Target(
                    f"adaptive limiter against an unknown {SERVER_RATE:g}/s quota: 429s, "
                    "and the admitted rate in the second half ÷ the quota",
                    "",
                    f"{a.refused / max(1, len(a.log)):.1%} of {len(a.log)} requests; "
                    f"{a.admitted_rate(half, a.duration) / SERVER_RATE:.0%}",
                    None,
                )
            )
        return found

    def markdown(self) -> str:
        p, a = self.precision, self.adaptation
        plots = "".join(f"\n![{name}]({name})\n" for name in self.plots)
        adapt = ""
        if a is not None:
            half = a.duration / 2
            adapt = f"""
Adaptation, over {a.duration:g} s of real time: {len(a.log)} requests reached the emulator,
{a.refused} refused ({a.refused / max(1, len(a.log)):.1%}); {a.failed_calls} calls failed after
their retries. Admitted rate: {a.admitted_rate(0, half):.1f}/s in the first half,
{a.admitted_rate(half, a.duration):.1f}/s in the second (quota {SERVER_RATE:g}/s).
"""
        return f"""Precision, {CALLERS} callers for {p.duration:g} s: {len(p.stamps)} admissions, at most
{p.worst_window} in any 1 s window, {p.mean_rate:.2f}/s after the burst, in arrival order:
{"yes" if p.fifo else "no"}.
{adapt}{plots}"""


async def measure_precision(duration: float) -> Precision:
    bucket = storepush.TokenBucket(storepush.RateLimit(RATE, BURST), adaptive=False)
    stamps: list[float] = []
    order: list[int] = []
    tickets = iter(range(10**9))
    start = time.monotonic()
    end = start + duration

    async def caller() -> None:
        while True:
            ticket = next(tickets)  # taken just before asking: the arrival order
            await bucket.acquire()
            now = time.monotonic()
            if now >= end:
                return
            stamps.append(now - start)
            order.append(ticket)

    await asyncio.gather(*(caller() for _ in range(CALLERS)))
    return Precision(duration, stamps, order == sorted(order))


async def drive_adaptive(url: str, duration: float) -> int:
    limits = storepush.Limits(default=storepush.RateLimit(CLIENT_CEILING, 5), adaptive=True)
    retry = storepush.RetryConfig(max_attempts=8)
    failed = 0
    end = time.monotonic() + duration
    async with (
        storepush.Session(limits=limits, retry=retry) as session,
        storepush.BazaarClient(TOKEN, base_url=url, session=session) as client,
    ):

        async def loop() -> None:
            nonlocal failed
            while time.monotonic() < end:
                try:
                    await client.last_published()
                except storepush.StorePushError:
                    failed += 1

        await asyncio.gather(*(loop() for _ in range(LOOPS)))
    return failed


def plot(ctx: Context, p: Precision, a: Adaptation | None) -> list[str]:
    plt = pyplot()
    if plt is None:
        return []
    names = []
    bins = [0] * int(p.duration * 10)
    for t in p.stamps:
        if int(t * 10) < len(bins):
            bins[int(t * 10)] += 1
    fig, ax = plt.subplots(figsize=(8, 3))
    ax.bar([i / 10 for i in range(len(bins))], bins, width=0.09, label="admissions per 100 ms")
    ax.axhline(RATE / 10, color="red", label=f"rate ({RATE:g}/s)")
    ax.set_xlabel("seconds")
    ax.legend()
    fig.tight_layout()
    fig.savefig(ctx.out_dir / "limiter-precision.png", dpi=100)
    plt.close(fig)
    names.append("limiter-precision.png")
    if a is not None:
        width = 0.5
        count = int(a.duration / width)  # whole bins only: calls still in flight at the end
        ok, refused = [0] * count, [0] * count  # land after it
        for t, status in a.log:
            if 0 <= t < count * width:
                (refused if status == 429 else ok)[int(t / width)] += 1
        xs = [(i + 0.5) * width for i in range(count)]
        fig, ax = plt.subplots(figsize=(8, 3))
        ax.plot(xs, [n / width for n in ok], label="admitted by the server, per second")
        ax.plot(xs, [n / width for n in refused], color="orange", label="refused (429), per second")
        ax.axhline(
            SERVER_RATE, color="red", linestyle="--", label="server quota (unknown to the client)"
        )
        ax.set_xlabel("seconds")
        ax.set_ylabel("requests/s")
        ax.legend(fontsize="small")
        fig.tight_layout()
        fig.savefig(ctx.out_dir / "limiter-adaptive.png", dpi=100)
        plt.close(fig)
        names.append("limiter-adaptive.png")
    return names


def run(ctx: Context) -> LimiterBench:
    precision = asyncio.run(measure_precision(3.0 if ctx.quick else 10.0))
    duration = 6.0 if ctx.quick else 20.0
    quota = quota_arg(SERVER_RATE, SERVER_BURST)
    with emulator_process(ctx, {TOKEN: PACKAGE}, "--quota", quota) as emu:
        failed = asyncio.run(drive_adaptive(emu.bazaar_url, duration))
        entries = emu.log()  # every request of this run is a last_published call
    first = min((float(e["t"]) for e in entries), default=0.0)
    log = [
        (float(e["t"]) - first, int(e["status"])) for e in entries if isinstance(e["status"], int)
    ]
    adaptation = Adaptation(duration, log, failed)
    return LimiterBench(precision, adaptation, plot(ctx, precision, adaptation))
