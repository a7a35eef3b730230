"""The transport's own decisions: what each aiohttp failure is, how the watchdog moves."""

from __future__ import annotations

import asyncio
import zlib

import aiohttp
import pytest

from storepush import ConnectError, FileChangedError, IntegrityError, TimeoutError, Timeouts
from storepush._http import Watchdog, _Deflate, _integrity_cause, _map_error

URL = "https://api.example/v1/apps/releases/upload/"


class _Key:
    host, port, ssl, is_ssl = "api.example", 443, True, True


@pytest.mark.parametrize(
    ("error", "kind", "sent"),
    [
        (aiohttp.ConnectionTimeoutError("slow"), TimeoutError, False),
        (aiohttp.ClientConnectorError(_Key(), OSError(111, "refused")), ConnectError, False),  # type: ignore[arg-type]
        (aiohttp.ServerTimeoutError("idle"), TimeoutError, True),
        (aiohttp.ServerDisconnectedError(), type(None), True),
        (aiohttp.ClientOSError(104, "reset"), type(None), True),
    ],
)
def test_map_error_table(error: BaseException, kind: type, sent: bool) -> None:
    mapped = _map_error(error, "POST", URL)
    if kind is not type(None):
        assert isinstance(mapped, kind)
    assert mapped.sent is sent
    assert URL in str(mapped)


def test_a_changed_file_is_found_under_aiohttps_wrapping() -> None:
    changed = FileChangedError("the file changed while it was being uploaded")
    wrapped = aiohttp.ClientConnectionError("Failed to send bytes")
    wrapped.__cause__ = changed
    outer = aiohttp.ClientOSError(32, "broken pipe")
    outer.__context__ = wrapped
    assert _integrity_cause(outer) is changed
    assert isinstance(_integrity_cause(outer), IntegrityError)
    assert _integrity_cause(aiohttp.ClientOSError(32, "broken pipe")) is None


async def test_the_watchdog_moves_with_progress_and_never_past_the_deadline() -> None:
    loop = asyncio.get_running_loop()
    timeouts = Timeouts(connect=1, read_idle=5, answer=20)
    watchdog = Watchdog(timeouts, deadline=loop.time() + 12)
    async with asyncio.timeout(None) as timer:
        watchdog._timer = timer
        watchdog.connected()  # answer (20 s) is past the deadline: capped at it
        assert watchdog.at_deadline
        assert "deadline passed while waiting for the answer" in watchdog.describe()
        watchdog.chunk_sent()  # idle (5 s) is before it
        assert not watchdog.at_deadline
        assert "did not leave within 5s" in watchdog.describe()
        watchdog.body_sent()
        assert watchdog.sent
        await asyncio.sleep(0)
    free = Watchdog(timeouts)
    assert "before the request was sent" in free.describe()


@pytest.mark.parametrize("raw", [False, True])
def test_deflate_both_ways_servers_send_it(raw: bool) -> None:
    document = b'{"type": "success"}' * 50
    packed = zlib.compress(document)
    if raw:
        packed = packed[2:-4]
    decoder = _Deflate()
    out = decoder.decompress(packed[:7], 1 << 20) + decoder.decompress(packed[7:], 1 << 20)
    assert out + decoder.flush() == document
