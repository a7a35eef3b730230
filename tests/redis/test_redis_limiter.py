"""The shared limiter against a real redis-server: two coordinators stand for two processes."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable

import pytest

from storepush import Limits, RateLimit, RedisCoordinator
from storepush._redis_limiter import RedisLimiter, admission_plan

from .relay import Relay
from .server import RedisServer

CRED = "0123456789abcdef"


@pytest.mark.parametrize(
    ("limits", "endpoint", "expected"),
    [
        (Limits(), "upload", [("p:rl:bazaar:0123456789abcdef:upload", RateLimit(5.0, 5))]),
        (
            Limits(),
            "bundle-status",
            [("p:rl:bazaar:0123456789abcdef:bundle-status", RateLimit(1 / 60, 1))],
        ),
        (
            Limits(account=RateLimit(20, 4), account_key="acme"),
            "commit",
            [
                ("p:rl:bazaar:0123456789abcdef:commit", RateLimit(5.0, 5)),
                ("p:rl:bazaar:account:acme", RateLimit(20, 4)),
            ],
        ),
    ],
)
def test_admission_plan(limits: Limits, endpoint: str, expected: list[object]) -> None:
    assert admission_plan("p", limits, "bazaar", CRED, endpoint) == expected


Make = Callable[..., RedisCoordinator]


@pytest.fixture
async def make(redis_server: RedisServer) -> AsyncIterator[Make]:
    made: list[RedisCoordinator] = []

    def one(url: str | None = None, **kw: object) -> RedisCoordinator:
        coordinator = RedisCoordinator(url or redis_server.url, **kw)  # type: ignore[arg-type]
        made.append(coordinator)
        return coordinator

    yield one
    for coordinator in made:
        await coordinator.aclose()


def limiter(coordinator: RedisCoordinator, limits: Limits | None = None) -> RedisLimiter:
    return coordinator.limiter(limits or Limits(), clock=time.monotonic, sleep=asyncio.sleep)


async def test_waiters_of_one_process_are_admitted_in_arrival_order(make: Make) -> None:
    bucket = limiter(make(), Limits(default=RateLimit(200, 1))).bucket("bazaar", CRED, "upload")
    order: list[int] = []

    async def take(i: int) -> None:
        await bucket.acquire()
        order.append(i)

    await asyncio.gather(*(take(i) for i in range(12)))
    assert order == list(range(12))
    assert bucket.shared_admissions == 12
    assert bucket.local_admissions == 0
    assert bucket.stats.acquired == 12


async def test_a_429_in_one_process_lowers_the_rate_for_the_other(make: Make) -> None:
    limits = Limits(default=RateLimit(40, 2))
    first = limiter(make(), limits).bucket("bazaar", CRED, "upload")
    second = limiter(make(), limits).bucket("bazaar", CRED, "upload")
    await first.acquire()
    await second.acquire()
    assert second.rate == pytest.approx(40)
    first.on_throttle()
    await first.drain()
    await second.acquire()
    assert second.rate is not None
    assert second.rate == pytest.approx(28, rel=0.05)
    assert first.stats.throttles == 1


async def test_keys_hold_fingerprints_and_the_prefix_only(
    make: Make, redis_server: RedisServer
) -> None:
    bucket = limiter(make(prefix="ci"), Limits(account=RateLimit(9, 1), account_key="acme"))
    await bucket.bucket("bazaar", CRED, "upload").acquire()
    assert sorted(redis_server.keys()) == [
        "ci:rl:bazaar:0123456789abcdef:upload",
        "ci:rl:bazaar:account:acme",
    ]


async def test_redis_stopped_then_back(
    make: Make, redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="storepush.redis")
    coordinator = make(retry_every=0.05, timeout=0.5)
    bucket = limiter(coordinator, Limits(default=RateLimit(500, 5))).bucket("bazaar", CRED, "x")
    await bucket.acquire()
    redis_server.stop(kill=True)
    for _ in range(4):
        await bucket.acquire()  # each admission answered at once, by the local bucket
    assert bucket.local_admissions == 4
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1, "one warning per outage"
    assert "uses its own rate limits" in warnings[0].getMessage()
    redis_server.start()
    for _ in range(100):  # bounded: the link tries again after retry_every
        await asyncio.sleep(0.02)
        await bucket.acquire()
        if bucket.shared_admissions > 1:
            break
    assert bucket.shared_admissions > 1
    assert any("answers again" in r.getMessage() for r in caplog.records)


async def test_a_stalled_redis_costs_one_timeout_then_the_local_bucket(
    make: Make, redis_server: RedisServer
) -> None:
    async with Relay(redis_server.port) as relay:
        coordinator = make(f"redis://127.0.0.1:{relay.port}/0", timeout=0.2, retry_every=60)
        bucket = limiter(coordinator).bucket("bazaar", CRED, "upload")
        await bucket.acquire()
        relay.stalled = True
        await asyncio.wait_for(bucket.acquire(), timeout=30)  # bounded by the link's timeout
        await asyncio.wait_for(bucket.acquire(), timeout=30)  # down: not even tried
        assert (bucket.shared_admissions, bucket.local_admissions) == (1, 2)
        assert coordinator.link.failures == 1


@pytest.mark.parametrize("share", [True, False])
async def test_a_lesson_reaches_the_other_credentials_of_the_endpoint(
    make: Make, share: bool
) -> None:
    limits = Limits(default=RateLimit(40, 2), share_learning=share)
    one, other = limiter(make(), limits), limiter(make(), limits)
    taught = one.bucket("bazaar", CRED, "upload")
    await taught.acquire()
    taught.on_throttle()
    await taught.drain()
    peer = other.bucket("bazaar", "fedcba9876543210", "upload")
    elsewhere = other.bucket("bazaar", "fedcba9876543210", "commit")
    await peer.acquire()
    await elsewhere.acquire()
    assert peer.rate == pytest.approx(28 if share else 40, rel=0.05)
    assert elsewhere.rate == pytest.approx(40)
    # Learnt once: the peer's own next admissions keep the lesson's curve, not a new one.
    await peer.acquire()
    assert peer.rate is not None
    assert peer.rate < 40 if share else peer.rate == 40
