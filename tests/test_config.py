from __future__ import annotations

import pytest

from storepush import RequestOptions, Timeouts, ValidationError
from storepush._config import check_base_url, is_loopback_host


@pytest.mark.parametrize(
    "host", ["localhost", "127.0.0.1", "127.8.9.1", "::1", "[::1]", "api.localhost"]
)
def test_loopback_hosts(host: str) -> None:
    assert is_loopback_host(host)


@pytest.mark.parametrize("host", ["example.com", "10.0.0.1", "192.168.1.1", "", None, "1.1.1.1"])
def test_not_loopback(host: str | None) -> None:
    assert not is_loopback_host(host)


def test_http_only_for_loopback() -> None:
    assert str(check_base_url("http://127.0.0.1:8080/v1/", allow_insecure=False)).endswith("/v1")
    with pytest.raises(ValidationError) as info:
        check_base_url("http://api.example.com/v1", allow_insecure=False)
    assert info.value.field == "base_url"
    assert "allow_insecure_http" in str(info.value)
    assert (
        check_base_url("http://api.example.com/v1", allow_insecure=True).host == "api.example.com"
    )


@pytest.mark.parametrize(
    "url",
    [
        "ftp://x/",
        "not a url",
        "https://user:pw@host/",
        "https://host/?a=1",
        "https://host/#x",
        "/v1",
    ],
)
def test_bad_base_urls(url: str) -> None:
    with pytest.raises(ValidationError):
        check_base_url(url, allow_insecure=False)


def test_timeouts_and_options_validate() -> None:
    with pytest.raises(ValidationError, match=r"timeouts\.connect"):
        Timeouts(connect=0)
    with pytest.raises(ValidationError, match="read_idle"):
        Timeouts(read_idle=float("inf"))
    with pytest.raises(ValidationError, match="max_attempts"):
        RequestOptions(max_attempts=0)
    with pytest.raises(ValidationError, match="deadline"):
        RequestOptions(deadline=-1)
    with pytest.raises(ValidationError, match="seconds"):
        Timeouts(connect="5")  # type: ignore[arg-type]
