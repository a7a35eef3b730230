"""The streaming multipart parser: every split of the stream, and malformed bodies."""

from __future__ import annotations

from collections.abc import Iterable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storepush.emulator._multipart import (
    MultipartError,
    MultipartReader,
    Part,
    boundary_of,
    parse_disposition,
)

B = b"----storepush7d1f"


def body(parts: Iterable[tuple[bytes, bytes]], boundary: bytes = B, preamble: bytes = b"") -> bytes:
    out = preamble
    for headers, content in parts:
        out += b"--" + boundary + b"\r\n" + headers + b"\r\n\r\n" + content + b"\r\n"
    return out + b"--" + boundary + b"--\r\n"


def feeder(data: bytes, cuts: Iterable[int]) -> object:
    points = sorted({c for c in cuts if 0 < c < len(data)})
    pieces = [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]

    async def read() -> bytes:
        return pieces.pop(0) if pieces else b""

    return read


async def parse(
    data: bytes, cuts: Iterable[int] = (), boundary: bytes = B
) -> list[tuple[Part, bytes]]:
    reader = MultipartReader(feeder(data, cuts), boundary)  # type: ignore[arg-type]
    out = []
    while (part := await reader.next()) is not None:
        content = bytearray()
        async for piece in reader.body():
            content += piece
        out.append((part, bytes(content)))
    return out


FILE = b'Content-Disposition: form-data; name="apk"; filename="a.apk"\r\nContent-Type: application/vnd.android.package-archive'
TEXT = b'Content-Disposition: form-data; name="architecture"'
# bodies that look like the delimiter without being it
TRICKY = b"\r\n--" + B[:-1] + b"X\r\n--" + B[:5] + b"\r\r\n-\r\n--\r\n"
SAMPLE = body([(TEXT, b"arm64-v8a"), (FILE, TRICKY * 3 + b"PK\x03\x04" + bytes(range(256)))])
EXPECTED = [
    (Part("architecture", None, None), b"arm64-v8a"),
    (
        Part("apk", "a.apk", "application/vnd.android.package-archive"),
        TRICKY * 3 + b"PK\x03\x04" + bytes(range(256)),
    ),
]


async def test_whole() -> None:
    assert await parse(SAMPLE) == EXPECTED


async def test_every_single_split_position() -> None:
    for cut in range(len(SAMPLE) + 1):
        assert await parse(SAMPLE, [cut]) == EXPECTED, cut


async def test_byte_by_byte() -> None:
    assert await parse(SAMPLE, range(len(SAMPLE))) == EXPECTED


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.integers(0, len(SAMPLE)), max_size=12))
async def test_any_splits(cuts: list[int]) -> None:
    assert await parse(SAMPLE, cuts) == EXPECTED


@settings(max_examples=200)
@given(
    st.lists(st.binary(max_size=300), min_size=1, max_size=4),
    st.lists(st.integers(0, 2000), max_size=8),
)
async def test_any_contents_round_trip(contents: list[bytes], cuts: list[int]) -> None:
    headers = [
        f'Content-Disposition: form-data; name="f{i}"'.encode() for i in range(len(contents))
    ]
    data = body(zip(headers, contents, strict=True), preamble=b"ignored preamble\r\n")
    got = await parse(data, cuts)
    assert [c for _, c in got] == contents
    assert [p.name for p, _ in got] == [f"f{i}" for i in range(len(contents))]


async def test_empty_parts_and_epilogue() -> None:
    data = body([(TEXT, b""), (FILE, b"")]) + b"epilogue, ignored"
    assert [c for _, c in await parse(data)] == [b"", b""]
    assert await parse(b"--" + B + b"--") == []
    # transport padding after a boundary
    padded = b"--" + B + b" \t\r\n" + TEXT + b"\r\n\r\nx\r\n--" + B + b"--"
    assert [c for _, c in await parse(padded)] == [b"x"]


async def test_unread_parts_are_skipped() -> None:
    reader = MultipartReader(feeder(SAMPLE, [7, 99]), B)  # type: ignore[arg-type]
    names = []
    while (part := await reader.next()) is not None:
        names.append(part.name)
    assert names == ["architecture", "apk"]


async def test_read_text_limit() -> None:
    data = body([(TEXT, b"x" * 100), (FILE, b"rest")])
    reader = MultipartReader(feeder(data, [3, 50]), B)  # type: ignore[arg-type]
    await reader.next()
    assert await reader.read_text(limit=10) is None
    part = await reader.next()  # the over-long part was still read to its end
    assert part is not None
    assert part.name == "apk"
    assert await reader.read_text(limit=10) == b"rest"


async def test_reading_out_of_order_is_an_error() -> None:
    reader = MultipartReader(feeder(SAMPLE, [40]), B)  # type: ignore[arg-type]
    await reader.next()
    pieces = reader.body()
    await pieces.__anext__()
    with pytest.raises(RuntimeError):
        await reader.next()
    await pieces.aclose()


@pytest.mark.parametrize(
    "data",
    [
        b"",  # nothing at all
        b"no boundary anywhere",
        b"--" + B + b"\r\n" + TEXT + b"\r\n\r\nunterminated",  # no closing boundary
        b"--" + B + b"\r\n" + TEXT,  # headers never end
        b"--" + B + b"\r\n\r\ncontent\r\n--" + B + b"--",  # no headers: no disposition
        b"--" + B + b"\r\nnot a header\r\n\r\nx\r\n--" + B + b"--",
        b"--" + B + b"\r\nContent-Type: text/plain\r\n\r\nx\r\n--" + B + b"--",
        b"--" + B + b"garbage\r\n" + TEXT + b"\r\n\r\nx\r\n--" + B + b"--",
        b"--" + B + b"\r\n" + TEXT + b"\r\n\r\nx\r\n--" + B,  # ends right after a boundary
        b"--" + B + b"\r\n" + b"X-Long: " + b"a" * 20000 + b"\r\n\r\n",
    ],
)
async def test_malformed_bodies(data: bytes) -> None:
    for cuts in ([], [1], list(range(0, len(data), 3))):
        with pytest.raises(MultipartError):
            await parse(data, cuts)


@pytest.mark.parametrize(
    ("content_type", "boundary"),
    [
        ("multipart/form-data; boundary=abc", b"abc"),
        ('multipart/form-data; boundary="a b;c"', b"a b;c"),
        ("Multipart/Form-Data; charset=utf-8; BOUNDARY=xyz", b"xyz"),
        ("multipart/form-data; boundary=abc; charset=x", b"abc"),
    ],
)
def test_boundary_of(content_type: str, boundary: bytes) -> None:
    assert boundary_of(content_type) == boundary


@pytest.mark.parametrize(
    "content_type",
    [
        "",
        "application/json",
        "multipart/form-data",
        "multipart/form-data; boundary=",
        "text/plain; boundary=x",
    ],
)
def test_no_boundary(content_type: str) -> None:
    with pytest.raises(MultipartError):
        boundary_of(content_type)


def test_reader_refuses_bad_boundaries() -> None:
    async def read() -> bytes:
        return b""

    for boundary in (b"", b"x" * 201):
        with pytest.raises(MultipartError):
            MultipartReader(read, boundary)


@pytest.mark.parametrize(
    ("header", "params"),
    [
        ('form-data; name="apk"; filename="a b.apk"', {"name": "apk", "filename": "a b.apk"}),
        ("form-data; name=json", {"name": "json"}),
        ('form-data; name="q\\"x"', {"name": 'q"x'}),
        ("form-data; name=\"x\"; filename*=UTF-8''%D8%A7.apk", {"name": "x", "filename": "ا.apk"}),
        ("form-data; filename*=UTF-8''%D8%A7.apk; filename=\"plain.apk\"", {"filename": "ا.apk"}),
        ('form-data; name="a"; filename=""', {"name": "a", "filename": ""}),
        ("form-data; NAME=Up", {"name": "Up"}),
        ("form-data; filename*=bogus''%ff", {}),
        ("garbage;;", {}),
        ("", {}),
    ],
)
def test_parse_disposition(header: str, params: dict[str, str]) -> None:
    assert parse_disposition(header) == params
