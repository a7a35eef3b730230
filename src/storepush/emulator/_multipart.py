"""A streaming `multipart/form-data` parser, fast enough to ingest uploads at network speed.

It reads from any `read()` coroutine that returns the next piece of the body (`b""` at the end),
such as the request's stream, and hands each part's body on as slices of the pieces it read:
`bytes.find` finds the delimiter (`CRLF--boundary`) in each piece once, and only the few bytes
that could hold a delimiter split across two pieces are ever copied. Memory stays flat whatever
the size of a part. Malformed bodies raise `MultipartError` (a `ValueError`).

    reader = MultipartReader(read, boundary)
    while (part := await reader.next()) is not None:
        async for piece in reader.body():   # bytes or memoryview slices, in order
            ...

A part's body not read before `next()` is skipped. Tests: `tests/emulator/test_multipart.py`
(every split position of the stream, and malformed bodies).
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass

__all__ = ["MultipartError", "MultipartReader", "Part", "boundary_of", "parse_disposition"]

MAX_HEADERS = 16 * 1024
_CRLF = b"\r\n"


class MultipartError(ValueError):
    """The body is not well-formed `multipart/form-data`."""


@dataclass(frozen=True, slots=True)
class Part:
    """One part's headers: its form field `name`, `filename` (set for a file), content type."""

    name: str | None
    filename: str | None
    content_type: str | None


_BOUNDARY = re.compile(r'boundary=(?:"([^"]{1,200})"|([^\s;,"]{1,200}))', re.IGNORECASE)


def boundary_of(content_type: str) -> bytes:
    """The boundary of a `multipart/...; boundary=...` content type.

    Raises:
        MultipartError: not multipart, or no usable boundary.
    """
    if not content_type.lower().lstrip().startswith("multipart/"):
        raise MultipartError("not a multipart body")
    found = _BOUNDARY.search(content_type)
    if found is None:
        raise MultipartError("the multipart body has no boundary")
    return (found.group(1) or found.group(2)).encode("latin-1")


_PARAM = re.compile(r';\s*([^\s=;]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)')


def parse_disposition(value: str) -> dict[str, str]:
    """The parameters of a `Content-Disposition` header (lower-case names; quoted strings
    unescaped; `name*=charset''percent-encoded` values decoded, as RFC 5987 says)."""
    params: dict[str, str] = {}
    for key, raw in _PARAM.findall(value):
        text = raw.strip()
        if len(text) >= 2 and text[0] == text[-1] == '"':
            text = re.sub(r"\\(.)", r"\1", text[1:-1])
        key = key.lower()
        if key.endswith("*"):
            charset, _, encoded = text.partition("''")
            try:
                text = urllib.parse.unquote(encoded, encoding=charset or "utf-8", errors="strict")
            except (LookupError, UnicodeDecodeError):
                continue
            key = key[:-1]
            params[key] = text
        else:
            params.setdefault(key, text)
    return params


def _headers(block: bytes) -> Part:
    fields: dict[str, str] = {}
    for line in block.split(_CRLF):
        if not line:
            continue
        name, sep, value = line.partition(b":")
        if not sep or not name.strip():
            raise MultipartError("a part header line has no name")
        fields[name.strip().lower().decode("latin-1")] = value.strip().decode("utf-8", "replace")
    disposition = fields.get("content-disposition")
    if disposition is None:
        raise MultipartError("a part has no Content-Disposition")
    params = parse_disposition(disposition)
    return Part(params.get("name"), params.get("filename"), fields.get("content-type"))


class MultipartReader:
    """Parts of one multipart body, read on demand from `read`."""

    def __init__(self, read: Callable[[], Awaitable[bytes]], boundary: bytes) -> None:
        if not boundary or len(boundary) > 200:
            raise MultipartError("a boundary has 1 to 200 characters")
        self._read = read
        self._delim = _CRLF + b"--" + boundary
        self._buf = _CRLF  # the first delimiter may open the body: it is as if a CRLF came first
        self._eof = False
        self._state = "preamble"  # "preamble" | "headers" | "body" | "reading" | "done"

    async def _more(self) -> None:
        if self._eof:
            raise MultipartError("the body ended before the closing boundary")
        data = await self._read()
        if data:
            self._buf = self._buf + data if self._buf else bytes(data)
        else:
            self._eof = True

    async def _need(self, n: int) -> None:
        while len(self._buf) < n and not self._eof:
            await self._more()

    async def next(self) -> Part | None:
        """The next part's headers (its body is then read with `body()`), or `None` after
        the closing boundary."""
        if self._state == "reading":
            raise RuntimeError("the previous part's body was not read to its end")
        if self._state in ("preamble", "body"):
            async for _ in self.body():
                pass
        if self._state == "done":
            return None
        while True:
            end = self._buf.find(b"\r\n\r\n")
            if self._buf.startswith(_CRLF):
                end = -2  # no header lines at all
            if end != -1:
                break
            if len(self._buf) > MAX_HEADERS:
                raise MultipartError("the part headers are too large")
            await self._more()
        part = _headers(self._buf[: max(end, 0)])
        self._buf = self._buf[end + 4 :]
        self._state = "body"
        return part

    async def body(self) -> AsyncGenerator[bytes | memoryview, None]:
        """The current part's body, piece by piece (slices of what was read: not copies)."""
        if self._state not in ("preamble", "body"):
            if self._state == "reading":
                raise RuntimeError("a part's body is already being read")
            return
        self._state = "reading"  # until the delimiter after this body is found
        delim, keep = self._delim, len(self._delim) - 1
        buf = self._buf
        while True:
            idx = buf.find(delim)
            if idx != -1:
                if idx:
                    yield memoryview(buf)[:idx]
                self._buf = buf[idx + len(delim) :]
                break
            if len(buf) > keep:
                yield memoryview(buf)[: len(buf) - keep]
                buf = buf[len(buf) - keep :]
            if self._eof:
                raise MultipartError("the body ended before the closing boundary")
            data = await self._read()
            if not data:
                self._eof = True
                continue
            if len(data) < keep:  # a tiny piece: merge it (a few bytes) and look again
                buf += data
                continue
            # A delimiter split between `buf` (at most `keep` bytes) and `data`?
            joint = buf + data[:keep]
            idx = joint.find(delim)
            if idx != -1 and idx < len(buf):
                if idx:
                    yield buf[:idx]
                self._buf = joint[idx + len(delim) :] + data[keep:]
                break
            if buf:
                yield buf
            buf = data
        await self._after_delimiter()

    async def _after_delimiter(self) -> None:
        await self._need(2)
        if self._buf.startswith(b"--"):
            self._state = "done"
            self._buf = b""
            return
        while True:  # transport padding, then the CRLF that ends the delimiter line
            stripped = self._buf.lstrip(b" \t")
            if len(stripped) >= 2 or self._eof:
                break
            await self._more()
        if not stripped.startswith(_CRLF):
            raise MultipartError("a boundary line does not end with CRLF")
        self._buf = stripped[2:]
        self._state = "headers"

    async def read_text(self, *, limit: int) -> bytes | None:
        """The current part's body, whole; `None` when it is over `limit` bytes (the rest of
        the part is still read, so the next part can follow)."""
        data = bytearray()
        over = False
        async for piece in self.body():
            if not over:
                data += piece
                over = len(data) > limit
        return None if over else bytes(data)
