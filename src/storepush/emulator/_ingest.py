"""Reading uploads the way a real server must: streaming, in constant memory.

A file part is hashed (SHA-1) and counted as it arrives; only its first and last few MiB are
kept. Because a zip keeps its central directory at the end and an APK's manifest is normally
one of its first entries, that is enough to read the manifest of an APK of any size, through
:class:`SparseFile`, a read-only file object that serves only those two windows.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
from collections import deque
from dataclasses import dataclass
from typing import IO, cast

from aiohttp import BodyPartReader

from .._apk import ManifestInfo, read_apk_manifest
from ._state import Refusal, bad_request

__all__ = ["Ingested", "SparseFile", "ingest_file", "read_text"]

CHUNK = 1024 * 1024
HEAD = 4 * 1024 * 1024
TAIL = 4 * 1024 * 1024


@dataclass
class Ingested:
    size: int
    sha1: str
    head: bytes
    tail: bytes
    filename: str | None
    content_type: str | None

    def zip_view(self) -> SparseFile:
        return SparseFile(self.head, self.tail, self.size)

    def manifest(self) -> ManifestInfo | None:
        return read_apk_manifest(cast(IO[bytes], self.zip_view()))

    def is_zip(self) -> bool:
        return self.head[:4] == b"PK\x03\x04"

    def describe(self) -> dict[str, object]:
        return {
            "size": self.size,
            "sha1": self.sha1,
            "filename": self.filename,
            "content_type": self.content_type,
        }


class SparseFile(io.RawIOBase):
    """A seekable read-only view of a file of ``size`` bytes of which only ``head`` (at 0) and
    ``tail`` (at the end) are known; reading anywhere else raises ``ValueError``."""

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


async def ingest_file(part: BodyPartReader, *, max_size: int) -> Ingested:
    """Stream a file part: SHA-1, size, and the head and tail windows.

    Hashing chunk n runs in a worker thread (hashlib releases the GIL) while chunk n+1 is read,
    so SHA-1 (about 1.7 GB/s on one core here) does not cap the ingest rate.
    """
    digest = hashlib.sha1(usedforsecurity=False)
    loop = asyncio.get_running_loop()
    hashing: asyncio.Future[None] | None = None
    size = 0
    head = bytearray()
    tail: deque[bytes] = deque()
    tail_len = 0
    while chunk := await part.read_chunk(CHUNK):
        if hashing is not None:
            await hashing
        hashing = loop.run_in_executor(None, digest.update, chunk)
        size += len(chunk)
        if size > max_size:
            raise Refusal(413, "bad_request", "The uploaded file is too large.")
        if len(head) < HEAD:
            head += chunk[: HEAD - len(head)]
        tail.append(chunk)
        tail_len += len(chunk)
        while tail and tail_len - len(tail[0]) >= TAIL:
            tail_len -= len(tail.popleft())
    if hashing is not None:
        await hashing
    tail_bytes = b"".join(tail)[-TAIL:]
    return Ingested(
        size=size,
        sha1=digest.hexdigest(),
        head=bytes(head),
        tail=tail_bytes,
        filename=part.filename,
        content_type=part.headers.get("Content-Type"),
    )


async def read_text(part: BodyPartReader, *, name: str, limit: int) -> str:
    """A text part, refused when it is over ``limit`` bytes or not UTF-8."""
    data = bytearray()
    while chunk := await part.read_chunk(64 * 1024):
        data += chunk
        if len(data) > limit:
            raise bad_request(f"The field {name} is too large.")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise bad_request(f"The field {name} is not valid UTF-8.") from None
