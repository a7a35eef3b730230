"""The Lua scripts against a real redis-server: GCRA slots, shared adaptation, lease steps.

Slots are checked by their arithmetic (each reservation's slot is `decided + wait`, all on
Redis' clock), never by how long anything took.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator

import pytest

from storepush._redis_link import RedisLink
from storepush._redis_scripts import ADMIT, LEASE_ACQUIRE, LEASE_RELEASE, LEASE_RENEW, THROTTLE
from storepush._redis_url import parse_redis_url

from .server import RedisServer

A = "t:rl:bazaar:aaaa:upload"
B = "t:rl:bazaar:bbbb:upload"
ACCOUNT = "t:rl:bazaar:account:acme"


@pytest.fixture
async def link(redis_server: RedisServer) -> AsyncIterator[RedisLink]:
    made = RedisLink(parse_redis_url(redis_server.url))
    yield made
    await made.aclose()


async def admit(link: RedisLink, *buckets: tuple[str, float, int]) -> tuple[int, int, float]:
    args = ["600000"]
    keys = []
    for key, rate, burst in buckets:
        keys.append(key)
        args += [repr(rate), str(burst), "1"]
    reply = await link.call("admit", ADMIT, keys, args)
    assert reply is not None
    wait, decided, rate_milli = (int(x) for x in reply)
    return decided + wait, wait, rate_milli / 1000


async def throttle(
    link: RedisLink, decided: int, *buckets: tuple[str, float, int], retry_after_us: int = -1
) -> tuple[int, float]:
    args = [str(decided), str(retry_after_us), "600000"]
    keys = []
    for key, rate, burst in buckets:
        keys.append(key)
        args += [repr(rate), str(burst), "1"]
    reply = await link.call("throttle", THROTTLE, keys, args)
    assert reply is not None
    return int(reply[0]), int(reply[1]) / 1000


async def test_burst_then_one_slot_per_interval(link: RedisLink) -> None:
    slots = [await admit(link, (A, 10.0, 3)) for _ in range(8)]
    waits = [wait for _, wait, _ in slots]
    assert waits[:3] == [0, 0, 0]
    assert all(w > 0 for w in waits[3:])
    # Once queued, consecutive slots are exactly one interval (100 ms) apart.
    starts = [slot for slot, _, _ in slots[3:]]
    assert [b - a for a, b in itertools.pairwise(starts)] == pytest.approx([100_000] * 4, abs=2)


async def test_an_account_bucket_spans_credentials(link: RedisLink) -> None:
    # Two credentials, each with a generous bucket, share an account of 5/s burst 1.
    slots = []
    for i in range(6):
        key = A if i % 2 else B
        slot, _, _ = await admit(link, (key, 100.0, 10), (ACCOUNT, 5.0, 1))
        slots.append(slot)
    gaps = [b - a for a, b in itertools.pairwise(slots)]
    assert gaps == pytest.approx([200_000] * 5, abs=2)


async def test_a_throttle_lowers_the_shared_rate_once_per_lesson(link: RedisLink) -> None:
    slot, _, rate = await admit(link, (A, 20.0, 1))
    assert rate == pytest.approx(20.0)
    decided_before = slot
    lowered, new_rate = await throttle(link, decided_before, (A, 20.0, 1))
    assert lowered == 1
    assert new_rate == pytest.approx(14.0, rel=0.01)
    # A second 429 of a request admitted before that lesson changes nothing more.
    lowered, again = await throttle(link, decided_before, (A, 20.0, 1))
    assert lowered == 0
    assert again == pytest.approx(new_rate, rel=0.01)
    # Another process admitted after the lesson sees the lowered rate...
    _, _, seen = await admit(link, (A, 20.0, 1))
    assert seen == pytest.approx(14.0, rel=0.05)
    # ...and a 429 of a request admitted after it lowers it again.
    slot, _, _ = await admit(link, (A, 20.0, 1))
    lowered, lower = await throttle(link, slot, (A, 20.0, 1))
    assert lowered == 1
    assert lower < seen


async def test_a_throttle_pauses_for_retry_after(link: RedisLink) -> None:
    slot, _, _ = await admit(link, (A, 50.0, 5))
    await throttle(link, slot, (A, 50.0, 5), retry_after_us=2_000_000)
    reply = await link.call("admit", ADMIT, [A], ["600000", "50.0", "5", "1"])
    assert reply is not None
    wait, decided, _ = (int(x) for x in reply)
    assert decided + wait >= slot + 2_000_000


async def test_unknown_admission_counts_as_news(link: RedisLink) -> None:
    await admit(link, (A, 10.0, 1))
    assert (await throttle(link, -1, (A, 10.0, 1)))[0] == 1
    assert (await throttle(link, -1, (A, 10.0, 1)))[0] == 1


async def test_not_adaptive_never_lowers(link: RedisLink) -> None:
    reply = await link.call("admit", ADMIT, [A], ["600000", "10.0", "1", "0"])
    assert reply is not None
    args = [str(reply[1]), "-1", "600000", "10.0", "1", "0"]
    lowered = await link.call("throttle", THROTTLE, [A], args)
    assert lowered is not None
    assert int(lowered[0]) == 0
    assert int(lowered[1]) == 10_000


async def test_buckets_expire_when_idle(link: RedisLink, redis_server: RedisServer) -> None:
    await link.call("admit", ADMIT, [A], ["50", "10.0", "1", "1"])
    ttl = int(redis_server.command("PTTL", A).decode().strip(":\r\n"))
    assert 0 < ttl <= 50 + 100


async def test_lease_steps_act_only_for_the_owner(link: RedisLink) -> None:
    key = "t:lease:bazaar-abc"
    assert await link.call("la", LEASE_ACQUIRE, [key], ["me", 5000]) == [1, "", 0]
    taken, holder, left = await link.call("la", LEASE_ACQUIRE, [key], ["you", 5000])
    assert (taken, holder) == (0, "me")
    assert 0 < left <= 5000
    assert await link.call("lr", LEASE_RENEW, [key], ["you", 9000]) == 0
    assert await link.call("lr", LEASE_RENEW, [key], ["me", 9000]) == 1
    assert await link.call("ld", LEASE_RELEASE, [key], ["you"]) == 0
    assert await link.call("ld", LEASE_RELEASE, [key], ["me"]) == 1
    assert await link.call("la", LEASE_ACQUIRE, [key], ["you", 5000]) == [1, "", 0]
