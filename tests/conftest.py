"""Shared test helpers: a fake clock and a tiny real HTTP server factory."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer


class FakeClock:
    """A monotonic clock that only moves when something sleeps on it."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, delay: float) -> None:
        self.sleeps.append(delay)
        self.now += max(0.0, delay)
        await asyncio.sleep(0)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@pytest.fixture
async def serve() -> AsyncIterator[Callable[..., Awaitable[TestServer]]]:
    """``await serve(routes)`` starts a real aiohttp server on loopback; all are closed after."""
    servers: list[TestServer] = []

    async def start(
        routes: list[web.RouteDef], *, host: str = "127.0.0.1", **app_kw: object
    ) -> TestServer:
        app = web.Application(**app_kw)  # type: ignore[arg-type]
        app.add_routes(routes)
        server = TestServer(app, host=host)
        await server.start_server()
        servers.append(server)
        return server

    yield start
    for server in servers:
        await server.close()
