"""Sessions coordinated through a real Redis, against the emulator's quotas and state.

Several sessions in one test stand for several processes: each has its own coordinator, so
its own connections to Redis, and nothing in memory in common. (Real processes race in
`test_processes.py`.)
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import ssl
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import trustme

from storepush import (
    BazaarClient,
    Limits,
    LocalCoordinator,
    RateLimit,
    RedisCoordinator,
    RetryConfig,
    Session,
    ValidationError,
)
from storepush._limiter import LimiterRegistry
from storepush._redis_limiter import RedisLimiter
from storepush._samples import make_apk
from storepush.emulator import Emulator, Quota, Quotas

from .conftest import PASSWORD
from .relay import Relay
from .server import RedisServer

TOKENS = {f"redis-token-{i:02d}-a1b2c3": f"com.example.r{i}" for i in range(4)}
TOKEN = next(iter(TOKENS))
RETRY = RetryConfig(max_attempts=20, backoff_base=0.01, backoff_max=0.05)


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    async with Emulator(apps=TOKENS, review_seconds=0.0, bundle_seconds=0.0) as running:
        yield running


async def hammer(
    sessions: list[Session], emu: Emulator, tokens: list[str], calls: int
) -> list[Any]:
    """`calls` reads per session, all at once; the tokens are spread over the sessions."""

    async def one(session: Session, token: str) -> None:
        async with BazaarClient(token, base_url=emu.bazaar_url, session=session) as client:
            await client.last_published()

    jobs = [
        one(session, tokens[(i * calls + n) % len(tokens)])
        for i, session in enumerate(sessions)
        for n in range(calls)
    ]
    return await asyncio.gather(*jobs, return_exceptions=True)


def throttled(sessions: list[Session]) -> int:
    return sum(s.stats.throttled for s in sessions)


async def test_sessions_sharing_redis_stay_under_a_per_token_quota(
    emu: Emulator, redis_server: RedisServer
) -> None:
    emu.set_quotas(Quotas(default=Quota(50, 4)))
    limits = Limits(default=RateLimit(40, 2), adaptive=False)

    def make(url: str | None) -> Session:
        return Session(limits=limits, retry=RETRY, coordination=url or LocalCoordinator())

    shared = [make(redis_server.url) for _ in range(3)]
    local = [make(None) for _ in range(3)]
    try:
        outcomes = await hammer(shared, emu, [TOKEN], calls=10)
        assert not [o for o in outcomes if o is not None]
        # at most one: the limiter decides when requests leave, a stalled loop may bunch two
        assert throttled(shared) <= 1
        assert all(isinstance(s.limiters, RedisLimiter) for s in shared)

        emu.set_quotas(Quotas(default=Quota(50, 4)))  # a fresh server bucket
        await hammer(local, emu, [TOKEN], calls=10)
        assert throttled(local) >= 3, "three processes' own limits add up past the quota"
    finally:
        for s in shared + local:
            await s.aclose()


def _emulator_has_accounts() -> bool:
    fields = getattr(Quotas, "__dataclass_fields__", {})
    return "accounts" in inspect.signature(Emulator).parameters and "account" in fields


@pytest.mark.skipif(
    not _emulator_has_accounts(), reason="the emulator has no account quota yet (emulator branch)"
)
async def test_an_account_limit_shared_through_redis_holds_an_account_quota(
    redis_server: RedisServer,
) -> None:
    accounts = {"acme": list(TOKENS)}
    emulator = Emulator(apps=TOKENS, accounts=accounts, review_seconds=0, bundle_seconds=0)  # type: ignore[call-arg]
    # Under the quota by a fifth of its rate and half its burst: a client-side limiter decides
    # when requests leave, not when they arrive, so a loop stalled under load (coverage, a
    # busy CI machine) may still bunch a few; what sharing must show is the difference.
    limits = Limits(account=RateLimit(24, 2), account_key="acme", adaptive=False)
    sessions: list[Session] = []
    try:
        async with emulator:
            emulator.set_quotas(Quotas(account=Quota(30, 4)))  # type: ignore[call-arg]
            shared = [
                Session(limits=limits, retry=RETRY, coordination=redis_server.url) for _ in "ab"
            ]
            sessions += shared
            await hammer(shared, emulator, list(TOKENS), calls=30)
            emulator.set_quotas(Quotas(account=Quota(30, 4)))  # type: ignore[call-arg]
            local = [
                Session(limits=limits, retry=RETRY, coordination=LocalCoordinator()) for _ in "ab"
            ]
            sessions += local
            await hammer(local, emulator, list(TOKENS), calls=30)
            assert throttled(shared) <= 1, "two sessions sharing one account bucket stay under it"
            assert throttled(local) >= 5, "two sessions' own account buckets add up past it"
    finally:
        for s in sessions:
            await s.aclose()


async def test_two_publishers_of_one_app_make_one_release(
    emu: Emulator, redis_server: RedisServer, tmp_path: Path
) -> None:
    apk = make_apk(tmp_path / "app.apk", package=TOKENS[TOKEN], version_code=3, size=200_000)
    phases: list[list[str]] = [[], []]

    async def publish(i: int) -> Any:
        async with (
            Session(retry=RETRY, coordination=redis_server.url) as session,
            BazaarClient(TOKEN, base_url=emu.bazaar_url, session=session) as client,
        ):
            return await client.publish([apk], on_event=lambda e: phases[i].append(e.phase))

    results = await asyncio.gather(publish(0), publish(1))
    committed = [r for r in emu.world.apps[TOKEN].releases if r.committed]
    assert len(committed) == 1
    assert sorted(r.already_committed for r in results) == [False, True]
    assert any("waiting-for-lease" in p for p in phases), "the second waited for the lease"
    assert redis_server.keys("storepush:lease:*") == []


async def test_a_slow_redis_never_stalls_an_admitted_upload(
    emu: Emulator, redis_server: RedisServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    apk = make_apk(tmp_path / "app.apk", package=TOKENS[TOKEN], version_code=4, size=3_000_000)
    async with Relay(redis_server.port) as relay:
        coordinator = RedisCoordinator(
            f"redis://127.0.0.1:{relay.port}/0", timeout=0.2, retry_every=60
        )

        def progress(sent: int, total: int) -> None:
            relay.stalled = True  # Redis stops answering while the upload is on the wire

        async with (
            Session(retry=RETRY, coordination=coordinator) as session,
            BazaarClient(TOKEN, base_url=emu.bazaar_url, session=session) as client,
        ):
            result = await asyncio.wait_for(client.publish([apk], progress=progress), 60)
            assert relay.stalled
        await coordinator.aclose()
    assert result.release.committed
    assert coordinator.link.failures >= 1  # the commit's admission, then the release
    assert isinstance(session.limiters, RedisLimiter)
    assert session.limiters.counts()["local"] >= 1
    assert any("uses its own rate limits" in r.getMessage() for r in caplog.records)


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


async def test_rediss_through_tls_with_a_ca_bundle(
    emu: Emulator, redis_server: RedisServer, ca: trustme.CA, tmp_path: Path
) -> None:
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(server_tls)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    async with Relay(redis_server.port, tls=server_tls) as relay:
        good = Session(coordination=f"rediss://127.0.0.1:{relay.port}/0?ssl_ca_certs={ca_file}")
        await hammer([good], emu, [TOKEN], calls=3)
        assert isinstance(good.limiters, RedisLimiter)
        assert good.limiters.counts() == {"shared": 3, "local": 0}
        await good.aclose()
        # Without our CA the server is not trusted: refused, and the local limits serve.
        untrusted = Session(coordination=f"rediss://127.0.0.1:{relay.port}/0?timeout=2")
        outcomes = await hammer([untrusted], emu, [TOKEN], calls=2)
        assert outcomes == [None, None]
        assert isinstance(untrusted.limiters, RedisLimiter)
        assert untrusted.limiters.counts()["shared"] == 0
        await untrusted.aclose()


async def test_a_password_works_and_never_shows(
    emu: Emulator,
    redis_with_password: RedisServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    session = Session(coordination=redis_with_password.url)
    await hammer([session], emu, [TOKEN], calls=2)
    assert isinstance(session.limiters, RedisLimiter)
    assert session.limiters.counts()["shared"] == 2
    assert PASSWORD not in repr(session.coordination)
    await session.aclose()
    wrong = redis_with_password.url.replace(PASSWORD, PASSWORD + "-wrong")
    refused = Session(coordination=wrong)
    assert await hammer([refused], emu, [TOKEN], calls=2) == [None, None]
    await refused.aclose()
    assert any("uses its own rate limits" in r.getMessage() for r in caplog.records)
    assert PASSWORD not in caplog.text


async def test_the_environment_names_the_redis_and_the_session_closes_it(
    redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STOREPUSH_REDIS_URL", redis_server.url + "?prefix=env")
    async with Session() as session:
        assert isinstance(session.coordination, RedisCoordinator)
        assert session.coordination.prefix == "env"
    assert session.coordination.link._client is None  # closed with the session
    monkeypatch.setenv("STOREPUSH_REDIS_URL", "http://nope")
    with pytest.raises(ValidationError) as caught:
        Session()
    assert caught.value.field == "STOREPUSH_REDIS_URL"


async def test_a_coordinator_given_is_used_and_left_open(redis_server: RedisServer) -> None:
    mine = RedisCoordinator(redis_server.url)
    async with Session(coordination=mine) as session:
        assert session.coordination is mine
    async with Session(coordination=LocalCoordinator()) as plain:
        assert isinstance(plain.limiters, LimiterRegistry)
    await mine.aclose()
