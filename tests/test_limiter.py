from __future__ import annotations

import asyncio
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from storepush import Limits, RateLimit, TokenBucket
from storepush._limiter import LimiterRegistry, cubic_rate

from .conftest import FakeClock


async def test_burst_then_rate(clock: FakeClock) -> None:
    bucket = TokenBucket(RateLimit(10, 3), adaptive=False, clock=clock, sleep=clock.sleep)
    times = []
    for _ in range(6):
        await bucket.acquire()
        times.append(clock.now)
    assert times[:3] == [0.0, 0.0, 0.0]
    assert times[3:] == pytest.approx([0.1, 0.2, 0.3])
    assert bucket.stats.acquired == 6
    assert bucket.stats.waits == 3
    assert bucket.stats.waited_seconds == pytest.approx(0.3)  # 0.1 each, one after another


async def test_fifo_order_under_contention(clock: FakeClock) -> None:
    bucket = TokenBucket(RateLimit(5, 1), adaptive=False, clock=clock, sleep=clock.sleep)
    order: list[int] = []

    async def take(i: int) -> None:
        await bucket.acquire()
        order.append(i)

    await asyncio.gather(*(take(i) for i in range(40)))
    assert order == list(range(40))
    assert clock.now == pytest.approx(39 / 5)


async def test_throttle_pauses_for_retry_after(clock: FakeClock) -> None:
    bucket = TokenBucket(RateLimit(100, 10), adaptive=False, clock=clock, sleep=clock.sleep)
    await bucket.acquire()
    bucket.on_throttle(retry_after=4.0)
    assert bucket.paused_for == pytest.approx(4.0)
    await bucket.acquire()
    assert clock.now == pytest.approx(4.0)
    assert bucket.stats.throttles == 1
    assert bucket.rate == 100  # not adaptive: only the pause


async def test_adaptive_lowers_then_recovers(clock: FakeClock) -> None:
    bucket = TokenBucket(RateLimit(20, 1), clock=clock, sleep=clock.sleep)
    for _ in range(40):
        await bucket.acquire()
        bucket.on_success()
    bucket.on_throttle()
    lowered = bucket.rate
    assert lowered < 20
    assert lowered == pytest.approx(0.7 * 20, rel=0.1)
    # keep sending at the allowed pace: the rate climbs back, never above the ceiling
    for _ in range(400):
        await bucket.acquire()
        bucket.on_success()
    assert bucket.rate == pytest.approx(20)


async def test_adaptive_rate_has_a_floor(clock: FakeClock) -> None:
    bucket = TokenBucket(RateLimit(2, 1), clock=clock, sleep=clock.sleep)
    for _ in range(50):
        bucket.on_throttle()
    assert bucket.rate >= 0.25


def test_cubic_curve_shape() -> None:
    assert cubic_rate(0.0, last_max=10) == pytest.approx(7.0)
    k = (10 * 0.3 / 0.4) ** (1 / 3)
    assert cubic_rate(k, last_max=10) == pytest.approx(10.0)
    assert cubic_rate(k + 5, last_max=10) > 10


@settings(max_examples=40, deadline=None)
@given(
    rate=st.floats(min_value=0.5, max_value=200),
    burst=st.integers(min_value=1, max_value=20),
    n=st.integers(min_value=1, max_value=120),
)
async def test_no_window_exceeds_rate_plus_burst(rate: float, burst: int, n: int) -> None:
    clock = FakeClock()
    bucket = TokenBucket(RateLimit(rate, burst), adaptive=False, clock=clock, sleep=clock.sleep)
    stamps = []
    for _ in range(n):
        await bucket.acquire()
        stamps.append(clock.now)
    window = 1.0
    for i, start in enumerate(stamps):
        inside = sum(1 for t in stamps[i:] if t < start + window - 1e-9)
        assert inside <= rate * window + burst + 1e-6
    # and the long-run rate is the configured one
    if n > burst:
        assert stamps[-1] == pytest.approx((n - burst) / rate, rel=1e-6, abs=1e-6)


def test_rate_limit_validation() -> None:
    for bad_rate in (0, -1, float("inf"), float("nan")):
        with pytest.raises(ValueError, match="rate"):
            RateLimit(bad_rate)
    with pytest.raises(ValueError, match="burst"):
        RateLimit(1, 0)
    with pytest.raises(ValueError, match="burst"):
        RateLimit(1, True)


def test_registry_keys_and_overrides(clock: FakeClock) -> None:
    limits = Limits(default=RateLimit(5, 5), per_endpoint={"upload": RateLimit(1, 1)})
    registry = LimiterRegistry(limits, clock=clock, sleep=clock.sleep)
    a = registry.bucket("bazaar", "fp1", "upload")
    assert registry.bucket("bazaar", "fp1", "upload") is a
    assert registry.bucket("bazaar", "fp2", "upload") is not a
    assert a.rate == 1
    assert registry.bucket("bazaar", "fp1", "commit").rate == 5
    assert len(registry) == 3


async def test_buckets_of_one_endpoint_share_what_a_429_teaches(clock: FakeClock) -> None:
    registry = LimiterRegistry(Limits(default=RateLimit(10, 5)), clock=clock, sleep=clock.sleep)
    a = registry.bucket("bazaar", "app-a", "upload")
    b = registry.bucket("bazaar", "app-b", "upload")
    other = registry.bucket("bazaar", "app-a", "commit")
    await b.acquire()  # b has sent one request: the server has counted it
    a.on_throttle()
    assert a.rate == pytest.approx(7.0)
    assert b.rate == pytest.approx(7.0)  # a peer learns without being refused...
    assert b.paused_for == 0.0  # ...and without a pause of its own
    assert other.rate == 10  # another endpoint is another quota
    late = registry.bucket("bazaar", "app-c", "upload")
    assert late.rate == pytest.approx(7.0)
    assert registry.learned_rate("bazaar", "upload") == pytest.approx(7.0)
    # a peer's saved burst is spent: its next request waits one interval...
    await b.acquire()
    assert clock.now == pytest.approx(1 / 7.0)
    # ...while one that has sent nothing sends its first request at once, then one at a time
    await late.acquire()
    assert clock.now == pytest.approx(1 / 7.0)
    await late.acquire()
    assert clock.now == pytest.approx(2 / 7.0, rel=0.05)


def test_sharing_can_be_turned_off(clock: FakeClock) -> None:
    limits = Limits(default=RateLimit(10, 5), share_learning=False)
    registry = LimiterRegistry(limits, clock=clock, sleep=clock.sleep)
    a = registry.bucket("bazaar", "app-a", "upload")
    b = registry.bucket("bazaar", "app-b", "upload")
    a.on_throttle()
    assert b.rate == 10
    assert registry.learned_rate("bazaar", "upload") is None


async def test_an_account_bucket_spans_credentials_and_endpoints(clock: FakeClock) -> None:
    limits = Limits(default=RateLimit(100, 10), account=RateLimit(5, 1), adaptive=False)
    registry = LimiterRegistry(limits, clock=clock, sleep=clock.sleep)
    keys = [("bazaar", "aaaa", "upload"), ("bazaar", "bbbb", "commit"), ("bazaar", "aaaa", "x")]
    times = []
    for i in range(6):
        await registry.bucket(*keys[i % 3]).acquire()
        times.append(clock.now)
    assert times == pytest.approx([0.0, 0.2, 0.4, 0.6, 0.8, 1.0])
    assert registry.stats().acquired == 6  # counted once per admission, not per bucket
    # BlueMind has its own account bucket.
    await registry.bucket("bluemind", "aaaa", "upload").acquire()
    assert clock.now == pytest.approx(1.0)


async def test_a_429_through_the_account_lowers_both_buckets(clock: FakeClock) -> None:
    limits = Limits(default=RateLimit(10, 1), account=RateLimit(20, 1), account_key="acme")
    registry = LimiterRegistry(limits, clock=clock, sleep=clock.sleep)
    chain = registry.bucket("bazaar", "aaaa", "upload")
    await chain.acquire()
    chain.on_throttle()
    account = registry.account_bucket("bazaar")
    assert account is not None
    assert account.rate == pytest.approx(14.0)
    assert registry.endpoint_bucket("bazaar", "aaaa", "upload").rate == pytest.approx(7.0)
    assert registry.stats().throttles == 1
    chain.on_success()


@pytest.mark.parametrize("key", ["", "two words", "tab\there", "ünï"])
def test_account_keys_are_plain_names(key: str) -> None:
    with pytest.raises(ValueError, match="account_key"):
        Limits(account_key=key)


async def test_429s_of_one_burst_lower_the_rate_once(clock: FakeClock) -> None:
    """Requests admitted before a lowering were sent at the old rate: their 429s pause the
    bucket but teach nothing new, so five refusals of one burst lower it once, not five times."""
    bucket = TokenBucket(RateLimit(10, 5), clock=clock, sleep=clock.sleep)
    for _ in range(5):
        await bucket.acquire()
    clock.now += 0.05  # the answers come back
    for _ in range(5):
        bucket.on_throttle()
    assert bucket.rate == pytest.approx(7.0)
    assert bucket.stats.throttles == 5


async def test_a_request_admitted_after_the_lowering_lowers_again(clock: FakeClock) -> None:
    bucket = TokenBucket(RateLimit(10, 5), clock=clock, sleep=clock.sleep)
    await bucket.acquire()
    bucket.on_throttle()
    assert bucket.rate == pytest.approx(7.0)
    clock.now += 1.0
    await bucket.acquire()  # admitted at the lowered rate, and refused all the same: news
    bucket.on_throttle()
    assert bucket.rate == pytest.approx(0.7 * 7.0, rel=0.05)


async def test_a_429_teaches_a_burst_of_one_until_the_ceiling(clock: FakeClock) -> None:
    bucket = TokenBucket(RateLimit(4, 4), clock=clock, sleep=clock.sleep)
    await bucket.acquire()
    bucket.on_throttle(retry_after=0.0)
    clock.now += 10.0  # long enough to save a full burst at the old settings
    times = []
    for _ in range(3):
        await bucket.acquire()
        times.append(clock.now)
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert all(gap > 0 for gap in gaps), "one request at a time after a 429"
    for _ in range(400):  # keep going at the allowed pace: back at the ceiling...
        await bucket.acquire()
        bucket.on_success()
    assert bucket.rate == pytest.approx(4)
    clock.now += 10.0
    start = clock.now
    for _ in range(4):  # ...the configured burst is back
        await bucket.acquire()
    assert clock.now == pytest.approx(start)


async def test_a_shared_lesson_recovers_for_buckets_made_later(clock: FakeClock) -> None:
    """New buckets start on the throttled bucket's recovering curve, not at its lowest point:
    a long batch would otherwise run every later app at the rate of its worst moment."""
    registry = LimiterRegistry(Limits(default=RateLimit(10, 5)), clock=clock, sleep=clock.sleep)
    registry.bucket("bazaar", "app-a", "upload").on_throttle()
    right_after = registry.learned_rate("bazaar", "upload")
    assert right_after == pytest.approx(7.0)
    clock.now += 2.0
    later = registry.learned_rate("bazaar", "upload")
    assert later is not None
    assert right_after < later <= 10
    assert registry.bucket("bazaar", "app-b", "upload").rate == pytest.approx(later)
    clock.now += 60.0
    assert registry.learned_rate("bazaar", "upload") == 10  # capped at the configured rate
    fresh = registry.bucket("bazaar", "app-c", "upload")
    assert fresh.rate == 10
