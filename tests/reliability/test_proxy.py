"""Through a real forward proxy (proxy.py on loopback): plain HTTP to the emulator, HTTPS
through CONNECT with the loopback TLS set-up, the environment's variables and NO_PROXY, basic
auth with credentials in the URL, and those credentials never reaching any output."""

from __future__ import annotations

import base64
import json
import os
import ssl
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import trustme
from aiohttp import web
from aiohttp.test_utils import TestServer

from storepush import APIError, BazaarClient, ConnectError, RetryConfig, Session
from storepush.emulator import Emulator
from storepush.testing import TEST_PACKAGE, TEST_TOKEN, make_apk

from .conftest import PROXY_PASSWORD, PROXY_USER, ForwardProxy, close_https_server

ONE_TRY = RetryConfig(max_attempts=1)
WRONG_PASSWORD = "wrong-pass-Zq81LmX44r"


def leaks(text: str, password: str = PROXY_PASSWORD) -> list[str]:
    """The forms of the proxy credentials that appear in `text`."""
    userinfo = f"{PROXY_USER}:{password}"
    forms = [password, userinfo, base64.b64encode(userinfo.encode()).decode().rstrip("=")]
    return [form for form in forms if form in text]


# -- plain HTTP, to the emulator -------------------------------------------------------------


async def test_plain_http_through_a_named_proxy(
    forward_proxy: ForwardProxy, storepush_emulator: Emulator, tmp_path: Path
) -> None:
    apk = make_apk(tmp_path / "a.apk", package=TEST_PACKAGE, version_code=2)
    base = storepush_emulator.bazaar_url
    async with BazaarClient(TEST_TOKEN, base_url=base, proxy=forward_proxy.url) as client:
        result = await client.publish([apk])
        sent = client.session.stats.requests
    assert result.release is not None
    assert result.release.committed
    carried = forward_proxy.requests()
    assert len(carried) == sent  # every request, kept-alive connections included
    port = base.split(":")[2].split("/")[0]
    assert f"POST 127.0.0.1:{port} /v1/apps/releases/" in carried
    assert f"POST 127.0.0.1:{port} /v1/apps/releases/upload/" in carried
    assert f"POST 127.0.0.1:{port} /v1/apps/releases/commit/" in carried


async def test_environment_variables_are_honoured(
    forward_proxy: ForwardProxy,
    storepush_emulator: Emulator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTP_PROXY", forward_proxy.url)
    async with BazaarClient(TEST_TOKEN, base_url=storepush_emulator.bazaar_url) as client:
        assert await client.last_published() is None
    assert [line.split()[0] for line in forward_proxy.requests()] == ["GET"]


@pytest.mark.parametrize("no_proxy", ["127.0.0.1", "localhost,127.0.0.0/8", "*"])
async def test_no_proxy_bypasses_it(
    forward_proxy: ForwardProxy,
    storepush_emulator: Emulator,
    monkeypatch: pytest.MonkeyPatch,
    no_proxy: str,
) -> None:
    monkeypatch.setenv("http_proxy", forward_proxy.url)
    monkeypatch.setenv("NO_PROXY", no_proxy)
    async with BazaarClient(TEST_TOKEN, base_url=storepush_emulator.bazaar_url) as client:
        assert await client.last_published() is None
    assert forward_proxy.requests() == []


async def test_a_named_proxy_wins_over_no_proxy(
    forward_proxy: ForwardProxy,
    storepush_emulator: Emulator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NO_PROXY", "*")
    async with Session(proxy=forward_proxy.url) as session:
        client = BazaarClient(TEST_TOKEN, base_url=storepush_emulator.bazaar_url, session=session)
        assert await client.last_published() is None
    assert len(forward_proxy.requests()) == 1


async def test_basic_auth_with_credentials_in_the_url(
    auth_proxy: ForwardProxy, storepush_emulator: Emulator, tmp_path: Path
) -> None:
    apk = make_apk(tmp_path / "a.apk", package=TEST_PACKAGE, version_code=2)
    url = auth_proxy.url_with()
    async with BazaarClient(TEST_TOKEN, base_url=storepush_emulator.bazaar_url, proxy=url) as c:
        result = await c.publish([apk])
        shown = [repr(c), repr(c.session), repr(result), str(result.to_json())]
    assert result.release is not None
    assert result.release.committed
    assert len(auth_proxy.requests()) >= 3
    assert leaks("\n".join(shown)) == []


async def test_wrong_proxy_password_is_a_407_without_the_password(
    auth_proxy: ForwardProxy, storepush_emulator: Emulator
) -> None:
    url = auth_proxy.url_with(password=WRONG_PASSWORD)
    base = storepush_emulator.bazaar_url
    async with BazaarClient(TEST_TOKEN, base_url=base, proxy=url, retry=ONE_TRY) as client:
        with pytest.raises(APIError) as caught:
            await client.last_published()
    assert caught.value.status == 407
    text = f"{caught.value}\n{caught.value!r}\n{caught.value.args}"
    assert "proxy" in str(caught.value)
    assert leaks(text, WRONG_PASSWORD) == []


async def test_an_unreachable_proxy_is_a_connect_error(storepush_emulator: Emulator) -> None:
    base = storepush_emulator.bazaar_url
    async with BazaarClient(
        TEST_TOKEN, base_url=base, proxy="http://127.0.0.1:9", retry=ONE_TRY
    ) as client:
        with pytest.raises(ConnectError, match="cannot connect to the proxy") as caught:
            await client.last_published()
    assert caught.value.sent is False


# -- HTTPS through CONNECT, with the loopback TLS set-up --------------------------------------


@pytest.fixture
def ca() -> trustme.CA:
    return trustme.CA()


class Origin:
    def __init__(self, server: TestServer, seen: list[dict[str, str]]) -> None:
        self.server = server
        self.seen = seen

    @property
    def base_url(self) -> str:
        return str(self.server.make_url("/v1"))


@pytest.fixture
async def https_origin(ca: trustme.CA) -> AsyncIterator[Origin]:
    seen: list[dict[str, str]] = []

    async def answer(request: web.Request) -> web.Response:
        seen.append(dict(request.headers))
        return web.json_response({"type": "not-exists", "message": "none"})

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    app = web.Application()
    app.add_routes([web.get("/v1/apps/releases/last-published", answer)])
    server = TestServer(app, host="127.0.0.1", scheme="https")
    await server.start_server(ssl=context)
    yield Origin(server, seen)
    await close_https_server(server)


@pytest.fixture
def trusted(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


async def test_https_through_connect(
    forward_proxy: ForwardProxy, https_origin: Origin, trusted: ssl.SSLContext
) -> None:
    async with BazaarClient(
        TEST_TOKEN, base_url=https_origin.base_url, verify_tls=trusted, proxy=forward_proxy.url
    ) as client:
        assert await client.last_published() is None
        assert await client.last_published() is None
    port = https_origin.server.port
    assert forward_proxy.requests() == [f"CONNECT 127.0.0.1:{port} -"]  # one tunnel, reused
    assert len(https_origin.seen) == 2


async def test_https_proxy_from_the_environment(
    forward_proxy: ForwardProxy,
    https_origin: Origin,
    trusted: ssl.SSLContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", forward_proxy.url)
    monkeypatch.setenv("NO_PROXY", "example.invalid")
    async with BazaarClient(TEST_TOKEN, base_url=https_origin.base_url, verify_tls=trusted) as c:
        assert await c.last_published() is None
    assert [line.split()[0] for line in forward_proxy.requests()] == ["CONNECT"]


async def test_https_with_basic_auth_keeps_the_credentials_off_the_server(
    auth_proxy: ForwardProxy, https_origin: Origin, trusted: ssl.SSLContext
) -> None:
    async with BazaarClient(
        TEST_TOKEN, base_url=https_origin.base_url, verify_tls=trusted, proxy=auth_proxy.url_with()
    ) as client:
        assert await client.last_published() is None
    assert [line.split()[0] for line in auth_proxy.requests()] == ["CONNECT"]
    (headers,) = https_origin.seen
    assert "Proxy-Authorization" not in headers  # it went on the CONNECT, not through the tunnel
    assert leaks(json.dumps(headers)) == []


async def test_https_wrong_password_is_a_407(
    auth_proxy: ForwardProxy, https_origin: Origin, trusted: ssl.SSLContext
) -> None:
    url = auth_proxy.url_with(password=WRONG_PASSWORD)
    async with BazaarClient(
        TEST_TOKEN, base_url=https_origin.base_url, verify_tls=trusted, proxy=url, retry=ONE_TRY
    ) as client:
        with pytest.raises(APIError) as caught:
            await client.last_published()
    assert caught.value.status == 407
    assert https_origin.seen == []
    assert leaks(f"{caught.value}\n{caught.value!r}", WRONG_PASSWORD) == []


# -- the command line, in a subprocess: stdout and stderr, -v, --json ------------------------


def storepush(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    return subprocess.run(
        [sys.executable, "-m", "storepush", *args],
        env={**base, "STOREPUSH_BAZAAR_TOKEN": TEST_TOKEN, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("how", ["--proxy", "STOREPUSH_PROXY", "HTTP_PROXY"])
@pytest.mark.parametrize("mode", ["-v", "--json"])
def test_cli_through_an_auth_proxy_never_shows_the_credentials(
    auth_proxy: ForwardProxy,
    storepush_emulator: Emulator,
    tmp_path: Path,
    how: str,
    mode: str,
) -> None:
    apk = make_apk(tmp_path / "a.apk", package=TEST_PACKAGE, version_code=2)
    url = auth_proxy.url_with()
    flags = ["--proxy", url] if how == "--proxy" else []
    env = {} if how == "--proxy" else {how: url}
    base = ["--base-url", storepush_emulator.bazaar_url]
    done = storepush(mode, *flags, "bazaar", "publish", str(apk), *base, env=env)
    assert done.returncode == 0, done.stderr
    assert leaks(done.stdout + done.stderr) == []
    if mode == "-v":
        assert "GET http://127.0.0.1" in done.stderr  # the debug log did run
    else:
        assert json.loads(done.stdout)["ok"] is True
    assert any(line.startswith("POST ") for line in auth_proxy.requests())


@pytest.mark.parametrize("mode", ["-v", "--json"])
def test_cli_wrong_proxy_password_fails_without_showing_it(
    auth_proxy: ForwardProxy, storepush_emulator: Emulator, mode: str
) -> None:
    url = auth_proxy.url_with(password=WRONG_PASSWORD)
    base = ["--base-url", storepush_emulator.bazaar_url]
    done = storepush(mode, "--proxy", url, "bazaar", "status", *base, env={})
    assert done.returncode == 1
    assert "407" in done.stdout + done.stderr
    assert leaks(done.stdout + done.stderr, WRONG_PASSWORD) == []
    if mode == "--json":
        assert json.loads(done.stdout)["error"]["status"] == 407


def test_cli_bad_proxy_url_is_bad_input(storepush_emulator: Emulator) -> None:
    base = ["--base-url", storepush_emulator.bazaar_url]
    done = storepush("--json", "bazaar", "status", *base, env={"STOREPUSH_PROXY": "socks5://h:1"})
    assert done.returncode == 2
    error = json.loads(done.stdout)["error"]
    assert error["field"] == "proxy"
    assert "socks5" in error["message"]
