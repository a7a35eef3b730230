"""Servers that misbehave on purpose: every call still ends, bounded in time and memory.

Each server is a raw asyncio TCP server on loopback, so it can do what no framework would:
trickle headers one byte at a time, never answer, stop reading an upload, or send a
compressed bomb. Bounds are checked by what the session did (attempts, the stop reason,
the error) with a generous guard timeout around each call, never by asserting timings.
"""

from __future__ import annotations

import asyncio
import gzip
import os
import tracemalloc
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from storepush import (
    DecodeError,
    OutcomeUnknownError,
    RateLimitError,
    Request,
    ResponseTooLargeError,
    RetryConfig,
    Secret,
    Session,
    TimeoutError,
    Timeouts,
)
from storepush._uploads import FilePart, UploadBody

from ..conftest import FakeClock

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
SECRET = Secret("hostile-test-token-0123456789")


@asynccontextmanager
async def raw_server(handler: Handler) -> AsyncIterator[str]:
    connections: list[asyncio.StreamWriter] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(writer)
        try:
            await handler(reader, writer)
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        for writer in connections:
            writer.close()
        server.close()
        await server.wait_closed()


async def read_head(reader: asyncio.StreamReader) -> bytes:
    return await reader.readuntil(b"\r\n\r\n")


def get(url: str) -> Request:
    return Request("GET", url + "/v1/apps/releases/last-published", "last-published", safe=True)


async def call(session: Session, request: Request, guard: float = 20.0) -> object:
    async with asyncio.timeout(guard):  # a hang fails the test instead of stalling CI
        return await session.request(request, marketplace="bazaar", credential=SECRET)


async def test_headers_trickled_one_byte_at_a_time_are_cut_off() -> None:
    async def trickle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_head(reader)
        for byte in b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" * 1000:
            writer.write(bytes([byte]))
            await writer.drain()
            await asyncio.sleep(0.02)

    timeouts = Timeouts(connect=1, read_idle=5, answer=0.4)
    retry = RetryConfig(max_attempts=2, backoff_base=0.01, backoff_max=0.01)
    async with raw_server(trickle) as url, Session(timeouts=timeouts, retry=retry) as session:
        with pytest.raises(TimeoutError, match=r"no complete answer within 0\.4s") as info:
            await call(session, get(url))
    assert info.value.attempts == 2
    assert "gave up after 2 attempts" in str(info.value)


async def test_body_trickled_is_cut_off() -> None:
    async def trickle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_head(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
        while True:
            writer.write(b"x")
            await writer.drain()
            await asyncio.sleep(0.02)

    timeouts = Timeouts(read_idle=5, answer=0.4)
    retry = RetryConfig(max_attempts=1)
    async with raw_server(trickle) as url, Session(timeouts=timeouts, retry=retry) as session:
        with pytest.raises(TimeoutError, match="no complete answer"):
            await call(session, get(url))


async def test_a_server_that_never_answers_is_bounded_by_the_call_deadline() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_head(reader)
        await asyncio.sleep(3600)

    timeouts = Timeouts(read_idle=60, answer=60)
    retry = RetryConfig(max_attempts=5, deadline=0.5, backoff_base=0.01, backoff_max=0.01)
    async with raw_server(silent) as url, Session(timeouts=timeouts, retry=retry) as session:
        with pytest.raises(TimeoutError, match="deadline passed") as info:
            await call(session, get(url))
    assert info.value.attempts == 1


async def test_retry_after_forever_counts_against_the_deadline(clock: FakeClock) -> None:
    async def throttle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            await read_head(reader)
            body = b'{"type": "too_many_requests", "message": "Too many requests"}'
            writer.write(
                b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 119\r\n"
                + f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
            await writer.drain()

    async with raw_server(throttle) as url, Session(clock=clock, sleep=clock.sleep) as session:
        with pytest.raises(RateLimitError) as info:
            await call(session, get(url))
    # 0 s, 119 s, 238 s: a fourth attempt would start after the default 300 s deadline
    assert info.value.attempts == 3
    assert "deadline would pass" in str(info.value)
    assert clock.now <= 300


async def test_an_upload_the_server_stops_reading_is_cut_off(tmp_path: Path) -> None:
    started = asyncio.Event()

    async def stall(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_head(reader)
        started.set()
        await asyncio.sleep(3600)  # never read the body

    apk = tmp_path / "big.apk"
    apk.write_bytes(os.urandom(64 * 1024 * 1024))
    body = UploadBody([], [FilePart("apk", apk, "big.apk", "application/octet-stream")])
    timeouts = Timeouts(read_idle=0.3, answer=30)
    async with raw_server(stall) as url, Session(timeouts=timeouts) as session:
        request = Request("POST", url + "/v1/apps/releases/upload/", "upload", body=body)
        request.upload = True
        with pytest.raises(OutcomeUnknownError) as info:
            await call(session, request)
    assert started.is_set()
    assert "did not leave within 0.3s" in str(info.value.__cause__)


def bomb_handler(body: bytes, encoding: str) -> Handler:
    async def bomb(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_head(reader)
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            + f"Content-Encoding: {encoding}\r\nContent-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        await writer.drain()
        await asyncio.sleep(0.5)

    return bomb


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
async def test_a_compressed_bomb_is_refused_within_the_cap(encoding: str) -> None:
    inflated = b"\0" * (256 * 1024 * 1024)
    packed = gzip.compress(inflated, 9) if encoding == "gzip" else zlib.compress(inflated, 9)
    del inflated
    assert len(packed) < 1024 * 1024
    cap = 1024 * 1024
    tracemalloc.start()
    try:
        async with (
            raw_server(bomb_handler(packed, encoding)) as url,
            Session(max_response_bytes=cap) as session,
        ):
            with pytest.raises(ResponseTooLargeError, match="decoded response body"):
                await call(session, get(url))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 16 * cap  # a few copies of the cap at most, never the inflated size


@pytest.mark.parametrize(
    ("encoding", "pack"),
    [
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", lambda data: zlib.compress(data)[2:-4]),  # raw deflate, as some servers send
    ],
)
async def test_compressed_answers_within_the_cap_are_decoded(
    encoding: str, pack: Callable[[bytes], bytes]
) -> None:
    document = b'{"type": "not-exists", "message": "There is not a published release."}'
    async with raw_server(bomb_handler(pack(document), encoding)) as url, Session() as session:
        response = await call(session, get(url))
    assert response.body == document  # type: ignore[attr-defined]


async def test_an_encoding_we_did_not_ask_for_is_a_decode_error() -> None:
    async with raw_server(bomb_handler(b"\x1b\x00", "br")) as url, Session() as session:
        with pytest.raises(DecodeError, match="Content-Encoding 'br'"):
            await call(session, get(url))


async def test_a_publish_against_a_server_that_stops_answering_ends(tmp_path: Path) -> None:
    """The create is sent and never answered; the read that would settle it is never answered
    either: the publish ends with a timeout, bounded by the answer timeout and the deadline."""
    from storepush import BazaarClient
    from storepush.testing import make_apk

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_head(reader)
        await asyncio.sleep(3600)

    apk = make_apk(tmp_path / "a.apk", version_code=2)
    timeouts = Timeouts(answer=0.3)
    retry = RetryConfig(deadline=0.8, backoff_base=0.01, backoff_max=0.01)
    async with raw_server(silent) as url, Session(timeouts=timeouts, retry=retry) as session:
        client = BazaarClient(SECRET, base_url=url + "/v1", session=session)
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(20):
                await client.publish([apk])
