"""TLS verification stays on unless turned off by name, against a real loopback HTTPS server."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator

import pytest
import trustme
from aiohttp import web
from aiohttp.test_utils import TestServer

from storepush import BazaarClient, ConnectError, Session

from .conftest import close_https_server

TOKEN = "tls-token-0123456789"


@pytest.fixture
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
async def https_server(ca: trustme.CA) -> AsyncIterator[TestServer]:
    async def answer(request: web.Request) -> web.Response:
        return web.json_response({"type": "not-exists", "message": "none"})

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    app = web.Application()
    app.add_routes([web.get("/v1/apps/releases/last-published", answer)])
    server = TestServer(app, host="127.0.0.1", scheme="https")
    await server.start_server(ssl=context)
    yield server
    await close_https_server(server)


async def test_untrusted_certificate_is_refused_by_default(https_server: TestServer) -> None:
    url = str(https_server.make_url("/v1"))
    async with BazaarClient(TOKEN, base_url=url) as client:
        with pytest.raises(ConnectError, match=r"certificate|SSL"):
            await client.last_published()


async def test_a_trusted_context_or_the_named_opt_out(
    https_server: TestServer, ca: trustme.CA
) -> None:
    url = str(https_server.make_url("/v1"))
    trusted = ssl.create_default_context()
    ca.configure_trust(trusted)
    async with BazaarClient(TOKEN, base_url=url, verify_tls=trusted) as client:
        assert await client.last_published() is None
    async with BazaarClient(TOKEN, base_url=url, verify_tls=False) as client:
        assert await client.last_published() is None


def test_verification_is_on_by_default() -> None:
    session = Session()
    assert session._transport._ssl is True  # type: ignore[attr-defined]
