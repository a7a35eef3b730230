"""Transport behaviour against real local aiohttp servers (no mocks on the wire)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

import storepush
from storepush import (
    APIError,
    BadRequestError,
    ConnectError,
    OutcomeUnknownError,
    RateLimitError,
    Request,
    RequestOptions,
    ResponseTooLargeError,
    RetryBudget,
    RetryConfig,
    Secret,
    ServerError,
    Session,
    Timeouts,
)
from storepush._session import redirect_target

from .conftest import FakeClock

TOKEN = "sekret-token-value-42"
Serve = Callable[..., Awaitable[TestServer]]


def url(server: TestServer, path: str = "/x") -> str:
    return str(server.make_url(path))


def session(clock: FakeClock, **kw: Any) -> Session:
    kw.setdefault("retry", RetryConfig(max_attempts=4, backoff_base=0.01, backoff_max=0.05))
    return Session(clock=clock, sleep=clock.sleep, **kw)


async def call(s: Session, method: str, target: str, **kw: Any) -> storepush.Response:
    options = kw.pop("options", None)
    request = Request(
        method=method,
        url=target,
        endpoint="test",
        secret_headers={"X-Secret": Secret(TOKEN)},
        **kw,
    )
    return await s.request(request, marketplace="t", credential=Secret(TOKEN), options=options)


def counting(statuses: list[int], headers: dict[str, str] | None = None, body: bytes = b"{}"):
    seen: list[web.Request] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append(request)
        status = statuses[min(len(seen), len(statuses)) - 1]
        return web.Response(status=status, body=body, headers=headers or {})

    return handler, seen


async def test_get_retried_on_503_then_succeeds(serve: Serve, clock: FakeClock) -> None:
    handler, seen = counting([503, 503, 200])
    server = await serve([web.get("/x", handler)])
    async with session(clock) as s:
        response = await call(s, "GET", url(server), safe=True)
        assert response.status == 200
        assert len(seen) == 3
        assert s.stats.retries == 2
        assert s.stats.requests == 3
    assert seen[0].headers["X-Secret"] == TOKEN
    assert seen[0].headers["Accept"] == "application/json"
    assert seen[0].headers["User-Agent"] == f"storepush/{storepush.__version__}"


async def test_429_honours_retry_after_and_pauses_bucket(serve: Serve, clock: FakeClock) -> None:
    handler, seen = counting([429, 200], headers={"Retry-After": "3"})
    server = await serve([web.post("/x", handler)])
    async with session(clock) as s:
        await call(s, "POST", url(server))  # a POST too: 429 means the server did not act
        assert len(seen) == 2
        assert 3.0 in clock.sleeps
        assert s.stats.throttled == 1
        assert s.limiters.stats().throttles == 1


async def test_long_retry_after_fails_fast(serve: Serve, clock: FakeClock) -> None:
    handler, seen = counting(
        [429], headers={"Retry-After": "1000"}, body=b'{"type":"too_many_requests"}'
    )
    server = await serve([web.get("/x", handler)])
    async with session(clock) as s:
        with pytest.raises(RateLimitError) as info:
            await call(s, "GET", url(server), safe=True)
    assert info.value.retry_after == 1000
    assert info.value.error_type == "too_many_requests"
    assert len(seen) == 1


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_ambiguous_post_is_not_repeated(serve: Serve, clock: FakeClock, status: int) -> None:
    handler, seen = counting([status], body=b"<html>oops</html>")
    server = await serve([web.post("/x", handler)])
    async with session(clock) as s:
        with pytest.raises(OutcomeUnknownError) as info:
            await call(s, "POST", url(server), body=b"{}", content_type="application/json")
        assert s.stats.outcome_unknown == 1
    assert len(seen) == 1
    assert info.value.status == status
    assert isinstance(info.value.__cause__, ServerError)
    assert TOKEN not in str(info.value)


async def test_marked_safe_post_is_retried(serve: Serve, clock: FakeClock) -> None:
    handler, seen = counting([502, 200])
    server = await serve([web.post("/x", handler)])
    async with session(clock) as s:
        await call(s, "POST", url(server), options=RequestOptions(safe=True))
    assert len(seen) == 2


async def test_bad_request_is_final_and_typed(serve: Serve, clock: FakeClock) -> None:
    body = b'{"type": "bad_request", "message": "There is not an uncommitted release."}'
    handler, seen = counting([400], body=body)
    server = await serve([web.post("/x", handler)])
    async with session(clock) as s:
        with pytest.raises(BadRequestError) as info:
            await call(s, "POST", url(server))
    assert len(seen) == 1
    error = info.value
    assert error.status == 400
    assert error.error_type == "bad_request"
    assert error.server_message == "There is not an uncommitted release."
    assert "There is not an uncommitted release." in str(error)
    assert "POST" in str(error)


async def test_retries_stop_at_max_attempts(serve: Serve, clock: FakeClock) -> None:
    handler, seen = counting([503])
    server = await serve([web.get("/x", handler)])
    async with session(clock) as s:
        with pytest.raises(ServerError):
            await call(s, "GET", url(server), safe=True, options=RequestOptions(max_attempts=2))
    assert len(seen) == 2


async def test_connect_error_is_retried_even_for_post(clock: FakeClock) -> None:
    # a port nothing listens on: the connection is refused, so nothing was sent
    probe = TestServer(web.Application(), host="127.0.0.1")
    await probe.start_server()
    dead = url(probe)
    await probe.close()
    async with session(clock) as s:
        with pytest.raises(ConnectError) as info:
            await call(s, "POST", dead)
        assert s.stats.requests == 4
    assert info.value.sent is False


async def test_dropped_connection(serve: Serve, clock: FakeClock) -> None:
    seen: list[str] = []

    async def drop(request: web.Request) -> web.Response:
        seen.append(request.method)
        await request.read()
        assert request.transport is not None
        request.transport.close()
        return web.Response()

    server = await serve([web.post("/x", drop), web.get("/x", drop)])
    async with session(clock) as s:
        with pytest.raises(OutcomeUnknownError):
            await call(s, "POST", url(server), body=b"{}")
        assert seen == ["POST"]
        with pytest.raises(storepush.TransportError):
            await call(s, "GET", url(server), safe=True)
        assert s.stats.requests == 1 + 4
    # aiohttp replays a GET once itself when a pooled connection drops; never a POST
    assert seen.count("POST") == 1
    assert seen.count("GET") >= 4


async def test_budget_stops_a_retry_storm(serve: Serve, clock: FakeClock) -> None:
    handler, seen = counting([503])
    server = await serve([web.get("/x", handler)])
    budget = RetryBudget(capacity=10, retry_cost=5)
    async with session(clock, budget=budget) as s:
        with pytest.raises(ServerError):
            await call(s, "GET", url(server), safe=True)
        with pytest.raises(ServerError):
            await call(s, "GET", url(server), safe=True)
        assert s.stats.budget_exhausted == 2
    assert len(seen) == 3 + 1  # two retries paid for, then single attempts


async def test_redirects(serve: Serve, clock: FakeClock) -> None:
    other_seen: list[dict[str, str]] = []

    async def other(request: web.Request) -> web.Response:
        other_seen.append(dict(request.headers))
        return web.Response(body=b"{}")

    elsewhere = await serve([web.get("/steal", other), web.post("/steal", other)], host="127.0.0.2")

    async def moved(request: web.Request) -> web.Response:
        raise web.HTTPFound("/final")

    async def final(request: web.Request) -> web.Response:
        return web.Response(body=b'{"ok": true}')

    async def offsite(request: web.Request) -> web.Response:
        raise web.HTTPFound(url(elsewhere, "/steal"))

    async def post_redirect(request: web.Request) -> web.Response:
        raise web.HTTPTemporaryRedirect("/final")

    server = await serve(
        [
            web.get("/moved", moved),
            web.get("/final", final),
            web.post("/final", final),
            web.get("/offsite", offsite),
            web.post("/post", post_redirect),
        ]
    )
    async with session(clock) as s:
        response = await call(s, "GET", url(server, "/moved"), safe=True)
        assert response.body == b'{"ok": true}'
        with pytest.raises(APIError, match="not followed") as info:
            await call(s, "GET", url(server, "/offsite"), safe=True)
        assert info.value.status == 302
        with pytest.raises(APIError, match="trailing slash"):
            await call(s, "POST", url(server, "/post"), body=b"{}")
    assert other_seen == []


def test_redirect_target_rules() -> None:
    base = "https://api.example/v1/apps/releases/last-published"
    assert redirect_target("GET", base, "/v1/x") == "https://api.example/v1/x"
    assert redirect_target("GET", base, "https://api.example/y") == "https://api.example/y"
    assert redirect_target("GET", base, "http://api.example/y") is None  # scheme downgrade
    assert redirect_target("GET", base, "https://api.example:444/y") is None
    assert redirect_target("GET", base, "https://evil.example/y") is None
    assert redirect_target("POST", base, "/v1/x") is None
    assert redirect_target("DELETE", base, "/v1/x") is None
    assert redirect_target("GET", base, None) is None


async def test_response_cap(serve: Serve, clock: FakeClock) -> None:
    big = b"x" * (2 * 1024 * 1024)

    async def sized(request: web.Request) -> web.Response:
        return web.Response(body=big)

    async def chunked(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        for _ in range(64):
            await response.write(b"y" * 65536)
        await response.write_eof()
        return response

    server = await serve([web.get("/sized", sized), web.get("/chunked", chunked)])
    async with session(clock, max_response_bytes=1024 * 1024) as s:
        with pytest.raises(ResponseTooLargeError, match="cap"):
            await call(s, "GET", url(server, "/sized"), safe=True)
        with pytest.raises(ResponseTooLargeError, match="cap"):
            await call(s, "GET", url(server, "/chunked"), safe=True)


async def test_idle_timeout_and_deadline(serve: Serve) -> None:
    async def stall(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        await response.write(b'{"partial":')
        await asyncio.sleep(30)
        return response

    server = await serve([web.get("/x", stall), web.post("/x", stall)])
    retry = RetryConfig(max_attempts=2, backoff_base=0.01, backoff_max=0.01)
    async with Session(timeouts=Timeouts(read_idle=0.2), retry=retry) as s:
        with pytest.raises(storepush.TimeoutError):
            await call(s, "GET", url(server), safe=True)
        assert s.stats.requests == 2
        with pytest.raises(OutcomeUnknownError):
            await call(s, "POST", url(server), body=b"{}")
    async with Session(retry=retry) as s:
        with pytest.raises(storepush.TimeoutError, match="deadline"):
            await call(s, "GET", url(server), safe=True, options=RequestOptions(deadline=0.3))


async def test_cancellation_leaves_nothing_open(serve: Serve, clock: FakeClock) -> None:
    started = asyncio.Event()

    async def slow(request: web.Request) -> web.Response:
        started.set()
        await asyncio.sleep(30)
        return web.Response()

    server = await serve([web.post("/x", slow)])
    s = session(clock)
    task = asyncio.create_task(call(s, "POST", url(server), body=b"{}"))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert s.stats.requests == 1  # cancellation is never retried
    transport = s._transport
    assert isinstance(transport, storepush.AiohttpTransport)
    http = transport._http
    assert http is not None
    await s.aclose()
    assert http.closed
    assert http.connector is None or not http.connector._conns


async def test_callers_aiohttp_session_is_never_closed(serve: Serve, clock: FakeClock) -> None:
    handler, _ = counting([200])
    server = await serve([web.get("/x", handler)])
    async with aiohttp.ClientSession() as mine:
        async with session(clock, http=mine) as s:
            await call(s, "GET", url(server), safe=True)
        assert not mine.closed
        async with mine.get(url(server)) as response:  # still usable
            assert response.status == 200


async def test_secret_never_in_logs_or_errors(
    serve: Serve, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    handler, _ = counting([503, 403, 500], body=b'{"type":"access_forbidden","message":"no"}')
    server = await serve([web.get("/x", handler), web.post("/y", handler)])
    errors: list[BaseException] = []
    async with session(clock) as s:
        for method, path in (("GET", "/x"), ("POST", "/y")):
            try:
                await call(s, method, url(server, path), safe=method == "GET")
            except storepush.StorePushError as exc:
                errors.append(exc)
    assert errors
    for error in errors:
        assert TOKEN not in str(error)
        assert TOKEN not in repr(error)
    assert TOKEN not in caplog.text
    assert "retrying" in caplog.text


def test_session_rejects_http_and_transport_together() -> None:
    class Dummy:
        async def send(self, request: Request) -> storepush.Response:
            raise NotImplementedError

        async def aclose(self) -> None:
            return None

    with pytest.raises(ValueError, match="not both"):
        Session(http=object(), transport=Dummy())  # type: ignore[arg-type]


async def test_closed_session_refuses(clock: FakeClock) -> None:
    s = session(clock)
    await s.aclose()
    with pytest.raises(RuntimeError, match="closed"):
        await call(s, "GET", "http://127.0.0.1:9/x", safe=True)
