from __future__ import annotations

import msgspec
import pytest

from storepush import (
    APIError,
    BadRequestError,
    DecodeError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
)
from storepush._decode import api_error, decode


class Package(msgspec.Struct):
    apk_size: int


class Release(msgspec.Struct):
    packages: list[Package]


class Envelope(msgspec.Struct):
    type: str
    release: Release


def test_decode_error_carries_msgspec_path() -> None:
    body = b'{"type": "success", "release": {"packages": [{"apk_size": "big"}]}}'
    with pytest.raises(DecodeError) as info:
        decode(body, Envelope, status=200, method="GET", url="http://h/x")
    assert info.value.path == "$.release.packages[0].apk_size"
    assert info.value.status == 200
    assert "apk_size" in str(info.value)


@pytest.mark.parametrize("body", [b"<html>Bad Gateway</html>", b'{"type": "succ', b""])
def test_not_json_is_a_decode_error(body: bytes) -> None:
    with pytest.raises(DecodeError, match="not valid JSON") as info:
        decode(body, Envelope, status=200, method="GET", url="http://h/x")
    assert info.value.path is None


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (429, RateLimitError),
        (500, ServerError),
        (503, ServerError),
        (418, APIError),
    ],
)
def test_api_error_classes(status: int, cls: type[APIError]) -> None:
    error = api_error(status, b'{"type": "x", "message": "why"}', method="GET", url="u")
    assert type(error) is cls
    assert error.server_message == "why"
    assert error.error_type == "x"


def test_api_error_on_html_keeps_an_excerpt() -> None:
    html = b"<html><body>" + b"Gateway timeout " * 100 + b"</body></html>"
    error = api_error(504, html, method="POST", url="u", hint="try later")
    assert error.server_message is None
    assert len(error.body_excerpt) <= 300
    assert "Gateway timeout" in str(error)
    assert "try later" in str(error)
