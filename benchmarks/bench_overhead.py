"""Per-call overhead: `last_published` through storepush against a bare aiohttp session.

5,000 calls at concurrency 50 (`--quick`: 1,000) to the emulator in its own process, 3 runs
each, alternating, in this process. The bare client sends the same request and parses the JSON
with `json.loads`; storepush adds its limiter (set far above the rate reached, so it never
waits), its retry layer and a validated msgspec decode. When storepush is above its target, a
cProfile of one storepush run shows where its time goes.
"""

from __future__ import annotations

import asyncio
import cProfile
import io
import json
import pstats
import re
import sys
import time
from dataclasses import dataclass

import aiohttp
from harness import SECRET_HEADER, Context, Spread, emulator_process
from report import Target

import storepush

NAME = "overhead"
TITLE = "Per-call overhead against bare aiohttp"
TOKEN = "bench-overhead-token"
PACKAGE = "com.bench.overhead"
GOAL = 1.10


@dataclass(frozen=True)
class OverheadBench:
    calls: int
    concurrency: int
    bare: Spread  #: calls per second
    sdk: Spread
    profile: str

    title = TITLE

    @property
    def ratio(self) -> float:
        """Time per call, storepush ÷ bare aiohttp."""
        return self.bare.median / self.sdk.median

    def targets(self) -> list[Target]:
        return [
            Target(
                f"per-call time ÷ bare aiohttp, {self.calls:,} calls at concurrency "
                f"{self.concurrency}",
                f"≤ {GOAL:.2f}×",
                f"{self.ratio:.2f}×",
                self.ratio <= GOAL,
                "see the profile in this section: what storepush adds around aiohttp's request "
                "(limiter, retry, its Request/Response objects, the validated decode)",
            )
        ]

    def markdown(self) -> str:
        profile = (
            f"\nWhere storepush's time goes (cProfile of one run, by own time):\n\n```\n"
            f"{self.profile}\n```\n"
            if self.profile
            else ""
        )
        return f"""Calls per second, median (min–max) of 3 runs each, alternating.

| client | calls/s |
|---|---|
| bare aiohttp session | {self.bare.show()} |
| storepush (limiter, retry, decode into Structs) | {self.sdk.show()} |

Time per call, storepush ÷ bare aiohttp: **{self.ratio:.2f}×**.
{profile}"""


async def bare(url: str, calls: int, concurrency: int) -> float:
    gate = asyncio.Semaphore(concurrency)
    headers = {SECRET_HEADER: TOKEN, "Accept": "application/json"}
    async with aiohttp.ClientSession() as http:

        async def one() -> None:
            async with gate, http.get(url + "/apps/releases/last-published", headers=headers) as r:
                json.loads(await r.read())

        started = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(calls)))
        return time.perf_counter() - started


async def sdk(url: str, calls: int, concurrency: int) -> float:
    gate = asyncio.Semaphore(concurrency)
    limits = storepush.Limits(default=storepush.RateLimit(1e6, 10_000))
    async with storepush.BazaarClient(TOKEN, base_url=url, limits=limits) as client:

        async def one() -> None:
            async with gate:
                await client.last_published()

        started = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(calls)))
        return time.perf_counter() - started


def _short_paths(text: str) -> str:
    """Profile lines with site-packages and interpreter paths cut to the module's own."""
    text = re.sub(r"\S*/site-packages/", "", text)
    text = re.sub(r"\S*/src/storepush/", "storepush/", text)
    return re.sub(re.escape(sys.base_prefix) + r"/lib/python3\.\d+/", "", text)


def profile_sdk(url: str, calls: int, concurrency: int) -> str:
    profiler = cProfile.Profile()
    profiler.enable()
    asyncio.run(sdk(url, calls, concurrency))
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(14)
    lines = [line for line in out.getvalue().splitlines() if line.strip()]
    start = next((i for i, line in enumerate(lines) if "ncalls" in line), 0)
    return _short_paths("\n".join(lines[start:]))


def run(ctx: Context) -> OverheadBench:
    calls, concurrency = (1000, 50) if ctx.quick else (5000, 50)
    bares, sdks = [], []
    with emulator_process(ctx, {TOKEN: PACKAGE}) as emu:
        asyncio.run(bare(emu.bazaar_url, 200, concurrency))  # warm-up of both paths
        asyncio.run(sdk(emu.bazaar_url, 200, concurrency))
        for _ in range(3):
            bares.append(calls / asyncio.run(bare(emu.bazaar_url, calls, concurrency)))
            sdks.append(calls / asyncio.run(sdk(emu.bazaar_url, calls, concurrency)))
        result = OverheadBench(calls, concurrency, Spread.of(bares), Spread.of(sdks), "")
        if result.ratio > GOAL:
            result = OverheadBench(
                calls,
                concurrency,
                result.bare,
                result.sdk,
                profile_sdk(emu.bazaar_url, calls, concurrency),
            )
    return result
