"""A commit already sent survives an interrupt for a moment; nothing else does."""

from __future__ import annotations

import asyncio

import pytest

from storepush.bazaar._steps import finish_on_interrupt


async def test_a_commit_in_flight_finishes_before_the_cancellation_goes_on() -> None:
    done: list[str] = []

    async def commit() -> str:
        await asyncio.sleep(0.05)
        done.append("committed")
        return "release"

    task = asyncio.ensure_future(finish_on_interrupt(commit(), grace=5))
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert done == ["committed"]


async def test_a_commit_that_outlives_its_grace_is_abandoned() -> None:
    started = asyncio.Event()

    async def stuck() -> str:
        started.set()
        await asyncio.sleep(3600)
        return "never"

    task = asyncio.ensure_future(finish_on_interrupt(stuck(), grace=0.05))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 5)
