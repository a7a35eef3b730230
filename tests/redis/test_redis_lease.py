"""The shared lease against a real redis-server: wait, fail, expiry under a stalled holder."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from storepush import BusyError, LocalCoordinator, RedisCoordinator
from storepush._redis_lease import RedisLease, describe_holder, renewal_verdict

from .server import RedisServer


@pytest.mark.parametrize(
    ("reply", "since_ok", "expected"),
    [
        (1, 0.0, "renewed"),
        (1, 99.0, "renewed"),
        (0, 0.0, "taken"),
        (None, 5.0, "unsure"),
        (None, 30.0, "expired"),
        (None, 31.0, "expired"),
    ],
)
def test_renewal_verdict(reply: int | None, since_ok: float, expected: str) -> None:
    assert renewal_verdict(reply, since_ok=since_ok, ttl=30.0) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (json.dumps({"token": "t", "pid": 42, "host": "ci-7"}), "pid 42 on ci-7"),
        (json.dumps({"pid": 42}), "pid 42 on ?"),
        ("not json", "another process"),
        ("", "another process"),
        ("[1]", "another process"),
    ],
)
def test_describe_holder(value: str, expected: str) -> None:
    assert describe_holder(value) == expected


Make = Callable[..., RedisCoordinator]


@pytest.fixture
async def make(redis_server: RedisServer, tmp_path: Path) -> AsyncIterator[Make]:
    made: list[RedisCoordinator] = []

    def one(**kw: object) -> RedisCoordinator:
        kw.setdefault("fallback", LocalCoordinator(tmp_path / "locks"))
        coordinator = RedisCoordinator(redis_server.url, **kw)  # type: ignore[arg-type]
        made.append(coordinator)
        return coordinator

    yield one
    for coordinator in made:
        await coordinator.aclose()


async def test_second_publisher_waits_with_a_message_then_gets_it(make: Make) -> None:
    first, second = make(), make()
    held = await first.acquire("bazaar-abc", if_busy="wait", wait_up_to=5)
    told: list[str] = []
    waiter = asyncio.create_task(
        second.acquire(
            "bazaar-abc", if_busy="wait", wait_up_to=30, on_busy=lambda s, who: told.append(who)
        )
    )
    for _ in range(200):
        if told:
            break
        await asyncio.sleep(0.01)
    assert told
    assert told[0].startswith("pid ")
    assert not waiter.done()
    await held.release()
    lease = await asyncio.wait_for(waiter, timeout=30)
    assert isinstance(lease, RedisLease)
    await lease.release()


async def test_fail_fast_names_the_holder(make: Make) -> None:
    first, second = make(), make()
    held = await first.acquire("bazaar-abc", if_busy="wait", wait_up_to=5)
    with pytest.raises(BusyError, match=r"another publish of this app is running \(pid \d+"):
        await second.acquire("bazaar-abc", if_busy="fail", wait_up_to=5)
    await held.release()


async def test_waiting_ends_at_the_deadline(make: Make) -> None:
    first, second = make(), make()
    held = await first.acquire("bazaar-abc", if_busy="wait", wait_up_to=5)
    with pytest.raises(BusyError, match="after waiting"):
        await second.acquire("bazaar-abc", if_busy="wait", wait_up_to=0.2)
    await held.release()


async def test_the_holder_renews_while_it_runs(make: Make, redis_server: RedisServer) -> None:
    lease = await make(lease_ttl=0.5).acquire("bazaar-abc", if_busy="fail", wait_up_to=0)
    await asyncio.sleep(1.2)  # more than two TTLs: only renewals keep it
    assert redis_server.keys("storepush:lease:*") == ["storepush:lease:bazaar-abc"]
    assert not lease.lost
    await lease.release()
    assert redis_server.keys("storepush:lease:*") == []


async def test_a_stalled_holder_loses_its_lease_and_cannot_release_the_successors(
    make: Make, redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    stalled = await make(lease_ttl=0.3).acquire("bazaar-abc", if_busy="fail", wait_up_to=0)
    assert isinstance(stalled, RedisLease)
    stalled._renewer.cancel()  # as if its process were paused: no renewal goes out
    successor = await make(lease_ttl=30).acquire("bazaar-abc", if_busy="wait", wait_up_to=30)
    # The paused process wakes up: its renewal finds the lease taken, its release leaves it.
    stalled._renewer = asyncio.create_task(stalled._renew_forever())
    for _ in range(200):
        if stalled.lost:
            break
        await asyncio.sleep(0.01)
    assert stalled.lost
    assert any("taken over" in r.getMessage() for r in caplog.records)
    await stalled.release()
    assert redis_server.keys("storepush:lease:*") == ["storepush:lease:bazaar-abc"]
    await successor.release()
    assert redis_server.keys("storepush:lease:*") == []


async def test_redis_down_falls_back_to_the_host_lock(
    make: Make, redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    coordinator = make()
    redis_server.stop(kill=True)
    lease = await coordinator.acquire("bazaar-abc", if_busy="fail", wait_up_to=0)
    assert not isinstance(lease, RedisLease)
    # The host lock still keeps a second publisher of this host out.
    with pytest.raises(BusyError):
        await make().acquire("bazaar-abc", if_busy="fail", wait_up_to=0)
    await lease.release()
    assert any(r.levelno == logging.WARNING for r in caplog.records)


async def test_renewal_failures_mark_the_lease_lost_once_it_may_have_expired(
    make: Make, redis_server: RedisServer
) -> None:
    lease = await make(lease_ttl=0.3, timeout=0.2).acquire(
        "bazaar-abc", if_busy="fail", wait_up_to=0
    )
    redis_server.stop(kill=True)
    for _ in range(300):
        if lease.lost:
            break
        await asyncio.sleep(0.01)
    assert lease.lost
    await asyncio.wait_for(lease.release(), timeout=30)  # bounded, and it does not raise
