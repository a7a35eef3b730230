"""A real forward proxy for the proxy tests: proxy.py (the `test` extra), in a subprocess on a
free loopback port, with or without basic auth, counting every request it carries."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer

PROXY_USER = "proxy-user"
PROXY_PASSWORD = "proxy-pass-7Hq2xZ91kW"  # long and unique: scrubbing it masks nothing else
_START_SECONDS = 30.0


class ForwardProxy:
    """A running proxy.py: `url` (no credentials), `requests()` (what it carried so far)."""

    def __init__(self, folder: Path, *, auth: bool) -> None:
        self.folder = folder
        self.auth = auth
        self.count_file = folder / "requests.txt"
        self.url = ""
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        port_file = self.folder / "port"
        command = [
            sys.executable, "-m", "proxy",
            "--hostname", "127.0.0.1", "--port", "0", "--port-file", str(port_file),
            "--num-acceptors", "1", "--num-workers", "1", "--threaded",
            "--log-file", str(self.folder / "proxy.log"), "--log-level", "INFO",
            "--plugins", "proxy_counter.CountRequests",
        ]  # fmt: skip
        if self.auth:
            command += ["--basic-auth", f"{PROXY_USER}:{PROXY_PASSWORD}"]
        env = {
            **os.environ,
            "PYTHONPATH": str(Path(__file__).parent),
            "COUNT_FILE": str(self.count_file),
            "HOME": str(self.folder),  # proxy.py keeps a data folder in ~/.proxy
        }
        self._process = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + _START_SECONDS
        while time.monotonic() < deadline:
            text = port_file.read_text().strip() if port_file.exists() else ""
            if text:
                self.url = f"http://127.0.0.1:{int(text)}"
                return
            if self._process.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        log = self.folder / "proxy.log"
        raise RuntimeError(f"proxy.py did not start: {log.read_text() if log.exists() else ''}")

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=10)

    def url_with(self, user: str = PROXY_USER, password: str = PROXY_PASSWORD) -> str:
        return self.url.replace("http://", f"http://{user}:{password}@")

    def requests(self) -> list[str]:
        """Every request carried so far, `METHOD host:port path`, oldest first."""
        if not self.count_file.exists():
            return []
        return self.count_file.read_text().splitlines()

    def clear(self) -> None:
        self.count_file.unlink(missing_ok=True)


def _running(folder: Path, *, auth: bool) -> Iterator[ForwardProxy]:
    proxy = ForwardProxy(folder, auth=auth)
    proxy.start()
    try:
        yield proxy
    finally:
        proxy.stop()


@pytest.fixture(scope="module")
def _open_proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ForwardProxy]:
    yield from _running(tmp_path_factory.mktemp("proxy"), auth=False)


@pytest.fixture(scope="module")
def _auth_proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ForwardProxy]:
    yield from _running(tmp_path_factory.mktemp("proxy-auth"), auth=True)


@pytest.fixture
def forward_proxy(_open_proxy: ForwardProxy) -> ForwardProxy:
    """A forward proxy without authentication, its request count cleared for this test."""
    _open_proxy.clear()
    return _open_proxy


@pytest.fixture
def auth_proxy(_auth_proxy: ForwardProxy) -> ForwardProxy:
    """A forward proxy that wants `PROXY_USER` / `PROXY_PASSWORD` (basic auth)."""
    _auth_proxy.clear()
    return _auth_proxy


@pytest.fixture(autouse=True)
def _no_proxy_from_the_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests here set the proxy variables they mean; none come from the machine running them."""
    for name in list(os.environ):
        if name.lower() in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
            monkeypatch.delenv(name)
    monkeypatch.delenv("STOREPUSH_PROXY", raising=False)


async def close_https_server(server: TestServer) -> None:
    """Close a loopback HTTPS `TestServer` with nothing left half-open.

    Closing a TLS connection waits for the peer's close_notify (asyncio allows it 30 s); when
    the peer is slow to answer (a proxy in another process, on a busy machine), the test's
    loop ends first and the socket under it is collected later, in another test, as an
    unraisable "unclosed transport" warning. So what is still open after the close is
    aborted, and the loop runs until every one of those connections is gone (bounded).
    """
    handlers = (
        list(server.runner.server.connections) if server.runner and server.runner.server else []
    )
    await server.close()
    for handler in handlers:
        transport = handler.transport
        if transport is not None:
            transport.abort()
    for _ in range(50):
        if all(h.transport is None for h in handlers):
            return
        await asyncio.sleep(0.01)
