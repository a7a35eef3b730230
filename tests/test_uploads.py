"""Multipart uploads on the wire, against a real local server."""

from __future__ import annotations

import hashlib
import itertools
import os
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from storepush import FileChangedError, Request, RequestOptions, RetryConfig, Secret, Session
from storepush._uploads import FilePart, UploadBody

from .conftest import FakeClock

Serve = Callable[..., Awaitable[TestServer]]


class Recorder:
    """A server handler that parses each multipart body and hashes its file part, streaming."""

    def __init__(self, drop_first: int = 0) -> None:
        self.drop_first = drop_first
        self.requests: list[dict[str, object]] = []

    async def handle(self, request: web.Request) -> web.Response:
        record: dict[str, object] = {
            "content_length": request.headers.get("Content-Length"),
            "transfer_encoding": request.headers.get("Transfer-Encoding"),
            "content_type": request.headers.get("Content-Type"),
            "parts": [],
        }
        self.requests.append(record)
        if len(self.requests) <= self.drop_first:
            await request.content.read(1024 * 1024)  # read a little, then hang up
            assert request.transport is not None
            request.transport.close()
            return web.Response()
        reader = await request.multipart()
        parts: list[dict[str, object]] = []
        while (part := await reader.next()) is not None:
            assert not isinstance(part, type(reader))
            digest = hashlib.sha1()
            size = 0
            while chunk := await part.read_chunk(256 * 1024):  # type: ignore[union-attr]
                digest.update(chunk)
                size += len(chunk)
            parts.append(
                {
                    "name": part.name,
                    "filename": part.filename,
                    "content_type": part.headers.get("Content-Type"),
                    "disposition": part.headers.get("Content-Disposition"),
                    "size": size,
                    "sha1": digest.hexdigest(),
                }
            )
        record["parts"] = parts
        return web.json_response({"type": "success"})


@pytest.fixture
def apk(tmp_path: Path) -> Path:
    path = tmp_path / "my app (1).apk"
    path.write_bytes(os.urandom(3 * 1024 * 1024 + 123))
    return path


def body_for(apk: Path, progress: list[tuple[int, int]] | None = None) -> UploadBody:
    return UploadBody(
        [("architecture", "all")],
        [FilePart("apk", apk, "my_app_1.apk", "application/vnd.android.package-archive")],
        chunk_size=256 * 1024,
        progress=(lambda sent, total: progress.append((sent, total)))
        if progress is not None
        else None,
    )


async def send(s: Session, target: str, body: UploadBody, *, safe: bool = False) -> None:
    request = Request("POST", target, "upload", body=body)
    await s.request(
        request, marketplace="t", credential=Secret("k"), options=RequestOptions(safe=safe)
    )


async def test_upload_has_content_length_and_plain_parts(
    serve: Serve, clock: FakeClock, apk: Path
) -> None:
    recorder = Recorder()
    server = await serve([web.post("/upload/", recorder.handle)])
    progress: list[tuple[int, int]] = []
    body = body_for(apk, progress)
    async with Session(clock=clock, sleep=clock.sleep) as s:
        await send(s, str(server.make_url("/upload/")), body)
    [record] = recorder.requests
    assert record["transfer_encoding"] is None
    assert int(str(record["content_length"])) > apk.stat().st_size
    assert str(record["content_type"]).startswith("multipart/form-data; boundary=")
    text_part, file_part = record["parts"]  # type: ignore[misc]
    assert text_part["name"] == "architecture"
    assert text_part["content_type"] is None  # a plain form field
    assert text_part["size"] == 3
    expected = hashlib.sha1(apk.read_bytes()).hexdigest()
    assert file_part == {
        "name": "apk",
        "filename": "my_app_1.apk",
        "content_type": "application/vnd.android.package-archive",
        "disposition": 'form-data; name="apk"; filename="my_app_1.apk"',
        "size": apk.stat().st_size,
        "sha1": expected,
    }
    assert body.sent_sha1() == expected
    assert body.sent_sha1(5) is None
    assert progress[-1] == (apk.stat().st_size, apk.stat().st_size)
    assert all(b > a for (a, _), (b, _) in itertools.pairwise(progress))


async def test_body_is_rebuilt_from_the_path_for_every_attempt(
    serve: Serve, clock: FakeClock, apk: Path
) -> None:
    recorder = Recorder(drop_first=2)
    server = await serve([web.post("/upload/", recorder.handle)])
    body = body_for(apk)
    retry = RetryConfig(max_attempts=5, backoff_base=0.01, backoff_max=0.01)
    async with Session(clock=clock, sleep=clock.sleep, retry=retry) as s:
        await send(s, str(server.make_url("/upload/")), body, safe=True)
    assert body.attempts == 3
    assert len(recorder.requests) == 3
    final = recorder.requests[-1]["parts"][1]  # type: ignore[index]
    assert final["size"] == apk.stat().st_size
    assert final["sha1"] == hashlib.sha1(apk.read_bytes()).hexdigest()


async def test_file_replaced_before_sending_is_refused(apk: Path) -> None:
    body = body_for(apk)
    body()  # the identity is taken now
    apk.write_bytes(b"short")

    class Sink:
        async def write(self, chunk: bytes) -> None:
            return None

    with pytest.raises(FileChangedError, match="is not the file that was checked"):
        await body.payloads[0].write(Sink())  # type: ignore[arg-type]
    assert body.payloads[0].sha1 is None


class ChangingSink:
    """A writer that changes the file on disk after the first chunk has gone out."""

    def __init__(self, path: Path, change: str) -> None:
        self.path, self.change, self.chunks = path, change, 0

    async def write(self, chunk: bytes) -> None:
        self.chunks += 1
        if self.chunks == 1:
            change_file(self.path, self.change)


def change_file(path: Path, change: str) -> None:
    """Truncate, append to, or rewrite (same size, other bytes) the file at `path`."""
    size = path.stat().st_size
    with path.open("r+b") as handle:
        if change == "truncate":
            handle.truncate(size // 2)
        elif change == "append":
            handle.seek(0, os.SEEK_END)
            handle.write(b"more bytes")
        else:  # rewrite the tail in place: same size, other bytes
            handle.seek(size - 4096)
            handle.write(os.urandom(4096))
    # make sure the rewrite shows in mtime even on coarse clocks
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))


@pytest.mark.parametrize(
    ("change", "says"), [("truncate", "shrank"), ("append", "grew"), ("rewrite", "was rewritten")]
)
async def test_file_changed_while_sending_is_refused(apk: Path, change: str, says: str) -> None:
    apk.write_bytes(os.urandom(3 * 1024 * 1024))
    body = body_for(apk)
    body()
    with pytest.raises(FileChangedError, match=says) as info:
        await body.payloads[0].write(ChangingSink(apk, change))  # type: ignore[arg-type]
    assert "changed while it was being uploaded" in str(info.value)
    assert body.payloads[0].sha1 is None


def test_describe_lists_names_only(apk: Path) -> None:
    body = body_for(apk)
    assert body.describe() == {"fields": ["architecture"], "files": [("apk", "my_app_1.apk")]}
    body()
    with pytest.raises(TypeError, match="never decoded"):
        body.payloads[0].decode()


# -- zero copy --------------------------------------------------------------------------------


async def _upload_to(url: str, apk: Path) -> tuple[bytes, str | None]:
    """POST `apk` in a multipart body to a real loopback server; (the file part it got, sha1)."""
    body = body_for(apk)
    async with Session() as session:
        request = Request("POST", url, "upload", body=body, upload=True, safe=True)
        response = await session.request(
            request, marketplace="bazaar", credential=Secret("zero-copy-test-token")
        )
    return response.body, body.sent_sha1()


@pytest.fixture
def sendfile_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    import asyncio

    calls: list[int] = []
    original = asyncio.BaseEventLoop.sendfile

    async def counting(
        self: asyncio.BaseEventLoop, transport: object, file: object, *args: object, **kw: object
    ) -> int:
        calls.append(1)
        return await original(self, transport, file, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(asyncio.BaseEventLoop, "sendfile", counting)
    return calls


async def _echo_file_part(request: web.Request) -> web.Response:
    reader = await request.multipart()
    while (part := await reader.next()) is not None:
        if part.filename:  # type: ignore[union-attr]
            return web.Response(body=await part.read())  # type: ignore[union-attr]
    return web.Response(status=400)


@pytest.mark.parametrize("zero_copy", [True, False])
async def test_both_paths_send_the_same_bytes(
    serve: Callable[..., Awaitable[TestServer]],
    apk: Path,
    sendfile_calls: list[int],
    monkeypatch: pytest.MonkeyPatch,
    zero_copy: bool,
) -> None:
    import storepush._uploads as uploads

    monkeypatch.setattr(uploads, "ZERO_COPY", zero_copy)
    apk.write_bytes(os.urandom(5 * 1024 * 1024 + 123))
    server = await serve([web.post("/up", _echo_file_part)], client_max_size=64 * 1024 * 1024)
    received, sent_sha1 = await _upload_to(str(server.make_url("/up")), apk)
    assert received == apk.read_bytes()
    assert sent_sha1 == hashlib.sha1(received).hexdigest()
    assert bool(sendfile_calls) is zero_copy  # one sendfile per slice on plain TCP, none off


@pytest.mark.parametrize("change", ["truncate", "append", "rewrite"])
async def test_a_file_changed_during_a_zero_copy_send_is_refused(
    serve: Callable[..., Awaitable[TestServer]], apk: Path, change: str
) -> None:
    apk.write_bytes(os.urandom(24 * 1024 * 1024))

    async def slow_then_change(request: web.Request) -> web.Response:
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if part.filename:  # type: ignore[union-attr]
                await part.read_chunk(1024 * 1024)  # type: ignore[union-attr]
                change_file(apk, change)  # the client is still sending
                while await part.read_chunk(1024 * 1024):  # type: ignore[union-attr]
                    pass
        return web.Response(text="stored")

    server = await serve([web.post("/up", slow_then_change)], client_max_size=64 * 1024 * 1024)
    body = body_for(apk)
    async with Session(retry=RetryConfig(max_attempts=1)) as session:
        request = Request("POST", str(server.make_url("/up")), "upload", body=body, upload=True)
        with pytest.raises(FileChangedError, match="changed while it was being uploaded"):
            await session.request(request, marketplace="bazaar", credential=Secret("zc-token-abc"))
    assert body.sent_sha1() is None
