"""Counters per session, and per workflow even when hundreds share one session."""

from __future__ import annotations

import asyncio

from storepush._stats import SessionStats, count, track_calls


async def test_each_task_counts_its_own_calls() -> None:
    shared = SessionStats()

    async def workflow(calls: int) -> int:
        with track_calls() as mine:
            for _ in range(calls):
                count(shared, "requests")
                await asyncio.sleep(0)
        return mine.requests

    assert await asyncio.gather(workflow(3), workflow(5)) == [3, 5]
    assert shared.requests == 8
