"""Reading uploads the way a real server must: streaming, in constant memory, at network speed.

A file part is counted and hashed (SHA-1) as it arrives; only its first and last few MiB are
kept. Hashing runs in a worker thread (hashlib releases the GIL), in batches of at least
`BATCH` bytes, while the event loop goes on reading; at most `MAX_PENDING` bytes wait for the
hasher, which holds the reading back when hashing is the slower side. Because a zip keeps its
central directory at the end and an APK's manifest is normally one of its first entries, the
two windows are enough to read the manifest and the member names of a package of any size,
through `SparseFile`, a read-only file object that serves only those two windows.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import zipfile
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO, cast

from aiohttp import web

from .._formats import ManifestInfo, read_apk_manifest, read_bundle_manifest
from ._multipart import MultipartReader, boundary_of
from ._quirks import Quirks
from ._rules import Refusal, bad_request
from ._web import Dropped

__all__ = [
    "BATCH",
    "HEAD",
    "MAX_PENDING",
    "TAIL",
    "FileSink",
    "Ingested",
    "SparseFile",
    "drop_midway",
    "ingest_file",
    "open_form",
    "read_text",
]

HEAD = 4 * 1024 * 1024
TAIL = 4 * 1024 * 1024
BATCH = 1024 * 1024
MAX_PENDING = 4 * 1024 * 1024


@dataclass
class Ingested:
    """What the emulator keeps of an uploaded file: size, SHA-1, and two windows of it."""

    size: int
    sha1: str
    head: bytes
    tail: bytes
    filename: str | None
    content_type: str | None

    def zip_view(self) -> SparseFile:
        return SparseFile(self.head, self.tail, self.size)

    def is_zip(self) -> bool:
        return self.head[:4] == b"PK\x03\x04"

    def zip_names(self) -> list[str] | None:
        """The zip's member names (from its central directory), or `None` if unreadable."""
        if not self.is_zip():
            return None
        try:
            with zipfile.ZipFile(cast(IO[bytes], self.zip_view())) as archive:
                return archive.namelist()
        except (zipfile.BadZipFile, ValueError, OSError, EOFError):
            return None

    def manifest(self) -> ManifestInfo | None:
        """The APK manifest, when the windows hold it."""
        return read_apk_manifest(cast(IO[bytes], self.zip_view()))

    def bundle_manifest(self) -> ManifestInfo | None:
        """The bundle's protobuf base manifest, when the windows hold it."""
        return read_bundle_manifest(cast(IO[bytes], self.zip_view()))

    def describe(self) -> dict[str, object]:
        return {
            "size": self.size,
            "sha1": self.sha1,
            "filename": self.filename,
            "content_type": self.content_type,
        }


class SparseFile(io.RawIOBase):
    """A seekable read-only view of a file of `size` bytes of which only `head` (at 0) and
    `tail` (at the end) are known; reading anywhere else raises `ValueError`."""

    def __init__(self, head: bytes, tail: bytes, size: int) -> None:
        self._head, self._tail, self._size = head, tail, size
        self._tail_start = size - len(tail)
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            size = self._size - self._pos
        end = min(self._size, self._pos + size)
        start = self._pos
        if end <= len(self._head):
            data = self._head[start:end]
        elif start >= self._tail_start:
            data = self._tail[start - self._tail_start : end - self._tail_start]
        else:
            raise ValueError("that part of the upload was not kept")
        self._pos = end
        return data

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _hash_all(digest: hashlib._Hash, pieces: Sequence[bytes | memoryview]) -> None:
    for piece in pieces:
        digest.update(piece)


class FileSink:
    """Counts, hashes (off the loop) and keeps the head and tail windows of one file."""

    def __init__(self, *, max_size: int) -> None:
        self._max_size = max_size
        self._digest = hashlib.sha1(usedforsecurity=False)
        self._loop = asyncio.get_running_loop()
        self._hashing: asyncio.Future[None] | None = None
        self._pending: list[bytes | memoryview] = []
        self._pending_bytes = 0
        self.size = 0
        self._head = bytearray()
        self._tail: deque[bytes | memoryview] = deque()
        self._tail_len = 0

    async def feed(self, piece: bytes | memoryview) -> None:
        n = len(piece)
        self.size += n
        if self.size > self._max_size:
            raise Refusal(413, "bad_request", "The uploaded file is too large.")
        if len(self._head) < HEAD:
            self._head += piece[: HEAD - len(self._head)]
        self._tail.append(piece)
        self._tail_len += n
        while self._tail_len - len(self._tail[0]) >= TAIL:
            self._tail_len -= len(self._tail.popleft())
        self._pending.append(piece)
        self._pending_bytes += n
        if self._pending_bytes < BATCH:
            return
        if self._hashing is not None:
            if not self._hashing.done() and self._pending_bytes < MAX_PENDING:
                return  # keep reading while the hasher works
            await self._hashing
        self._submit()

    def _submit(self) -> asyncio.Future[None]:
        batch, self._pending, self._pending_bytes = self._pending, [], 0
        self._hashing = self._loop.run_in_executor(None, _hash_all, self._digest, batch)
        return self._hashing

    async def finish(self, *, filename: str | None, content_type: str | None) -> Ingested:
        if self._hashing is not None:
            await self._hashing
        if self._pending_bytes >= BATCH:
            await self._submit()
        else:
            _hash_all(self._digest, self._pending)
        self._pending = []
        tail = b"".join(self._tail)[-TAIL:]
        return Ingested(
            size=self.size,
            sha1=self._digest.hexdigest(),
            head=bytes(self._head),
            tail=tail,
            filename=filename,
            content_type=content_type,
        )


def open_form(request: web.Request, quirks: Quirks) -> MultipartReader:
    """A streaming reader of the request's multipart body (or the refusal a store gives).

    Raises:
        Refusal: not multipart (400), or sent chunked while the `chunked_upload` quirk
            refuses that (411).
    """
    try:
        boundary = boundary_of(request.headers.get("Content-Type", ""))
    except ValueError:
        raise bad_request("Expected a multipart/form-data body.") from None
    chunked = "chunked" in request.headers.get("Transfer-Encoding", "").lower()
    if chunked and quirks.chunked_upload == "refuse":
        raise Refusal(
            411,
            "bad_request",
            "A Content-Length is required: the upload was sent chunked, without one.",
        )
    content = request.content

    async def read() -> bytes:
        while True:
            data, end_of_http_chunk = await content.readchunk()
            if data or not end_of_http_chunk:
                return data

    return MultipartReader(read, boundary)


async def ingest_file(
    reader: MultipartReader,
    *,
    max_size: int,
    filename: str | None,
    content_type: str | None,
) -> Ingested:
    """Stream the current part: SHA-1, size, and the head and tail windows."""
    sink = FileSink(max_size=max_size)
    async for piece in reader.body():
        await sink.feed(piece)
    return await sink.finish(filename=filename, content_type=content_type)


async def read_text(reader: MultipartReader, *, name: str, limit: int) -> str:
    """The current part as text; refused when it is over `limit` bytes or not UTF-8."""
    data = await reader.read_text(limit=limit)
    if data is None:
        raise bad_request(f"The field {name} is too large.")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise bad_request(f"The field {name} is not valid UTF-8.") from None


async def drop_midway(request: web.Request, reader: MultipartReader) -> None:
    """Read a little of the current part, then close the connection (a "dropped" fault)."""
    seen = 0
    async with contextlib.aclosing(reader.body()) as body:
        async for piece in body:
            seen += len(piece)
            if seen >= 256 * 1024:
                break
    transport = request.transport
    if transport is not None:
        transport.close()
    raise Dropped
