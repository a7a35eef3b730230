"""Requests aiohttp's parser refuses get the store's envelope, and never an echo of the header."""

from __future__ import annotations

import asyncio
import json

import pytest

from storepush.emulator import Emulator, Quirks
from storepush.emulator._protocol import parse_error_answer

from .conftest import TOKEN, H

FORBIDDEN = {
    "type": "access_forbidden",
    "message": "You do not have permission to perform this action.",
}


def head(path: str, *headers: bytes) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: x\r\n".encode() + b"".join(headers)


@pytest.mark.parametrize(
    ("received", "status", "body"),
    [
        (head("/v1/apps/releases/last-published", H.encode() + b": tok\n"), 403, FORBIDDEN),
        (head("/v1/apps/releases/", H.lower().encode() + b": tok \n\r\n"), 403, FORBIDDEN),
        (head("/v1/apps/releases/", H.encode() + b": tok\r"), 403, FORBIDDEN),
        (head("/v1/apps/releases/", H.encode() + b": tok\r\n", b"X-Other: a\nb\r\n"), 400, None),
        (
            head("/addons/api/plugins/", b"api-key: k\n"),
            403,
            {"detail": "Invalid or missing API key."},
        ),
        (
            head("/addons/api/plugins/", b"X: \x01\r\n"),
            400,
            {"detail": "The request is malformed."},
        ),
        (
            head("//addons/api/plugins/", b"api-key: k\n"),
            403,
            {"detail": "Invalid or missing API key."},
        ),
        # the request line itself is broken: the credential header still says which store
        (b"GET /v1/\x00 HTTP/1.1\r\n" + H.encode() + b": tok\n", 403, FORBIDDEN),
        (b"\x16\x03\x01 TLS to a plain port", 400, "plain"),
        (head("/_emulator/state", b"X: a\nb"), 400, "plain"),
    ],
)
def test_parse_error_answer(received: bytes, status: int, body: object) -> None:
    response = parse_error_answer(received, Quirks())
    assert response.status == status
    assert response.body is not None
    text = bytes(response.body)  # type: ignore[arg-type]
    assert b"tok" not in text
    if body == "plain":
        assert response.content_type == "text/plain"
    elif body is None:
        assert json.loads(text)["type"] == "bad_request"
    else:
        assert json.loads(text) == body


def test_bluemind_html_errors_quirk() -> None:
    response = parse_error_answer(
        head("/addons/api/plugins/", b"api-key: k\n"), Quirks(bluemind_errors="html")
    )
    assert (response.status, response.content_type) == (403, "text/html")


async def raw(emu: Emulator, payload: bytes) -> tuple[int, bytes]:
    reader, writer = await asyncio.open_connection(emu.host, emu.port)
    writer.write(payload)
    await writer.drain()
    data = await asyncio.wait_for(reader.read(65536), 5)
    writer.close()
    await writer.wait_closed()
    status = int(data.split(b" ", 2)[1])
    return status, data.split(b"\r\n\r\n", 1)[1]


@pytest.mark.parametrize("ending", [b"\n", b" \n", b"\r"])
async def test_token_with_a_trailing_newline_sent_raw(emu: Emulator, ending: bytes) -> None:
    request = head("/v1/apps/releases/last-published", H.encode() + b": " + TOKEN.encode() + ending)
    status, body = await raw(emu, request + b"\r\n")
    assert status == 403
    assert json.loads(body) == FORBIDDEN
    assert TOKEN.encode() not in body


async def test_after_a_good_request_on_the_same_connection(emu: Emulator) -> None:
    good = head("/v1/apps/releases/last-published", f"{H}: {TOKEN}\r\n".encode()) + b"\r\n"
    bad = (
        b"POST /v1/apps/releases/ HTTP/1.1\r\nHost: x\r\n"
        + H.encode()
        + b": "
        + TOKEN.encode()
        + b"\n\r\n"
    )
    reader, writer = await asyncio.open_connection(emu.host, emu.port)
    writer.write(good)
    await writer.drain()
    first = await asyncio.wait_for(reader.read(65536), 5)
    assert first.startswith(b"HTTP/1.1 200 OK")
    writer.write(bad)  # the same connection: the head of this request is in the latest bytes
    await writer.drain()
    second = await asyncio.wait_for(reader.read(65536), 5)
    writer.close()
    assert b" 403 Forbidden" in second.split(b"\r\n", 1)[0]
    assert b"access_forbidden" in second


async def test_garbage_keeps_the_server_alive(emu: Emulator) -> None:
    status, body = await raw(emu, b"\x00\x01\x02 not http\r\n\r\n")
    assert status == 400
    assert b"\x01" not in body
    good = head("/v1/apps/releases/last-published", f"{H}: {TOKEN}\r\n".encode()) + b"\r\n"
    assert (await raw(emu, good))[0] == 200


async def test_the_broken_header_is_never_logged(
    emu: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    request = head("/v1/apps/releases/", H.encode() + b": " + TOKEN.encode() + b"\n")
    assert (await raw(emu, request + b"\r\n"))[0] == 403
    assert TOKEN not in caplog.text
