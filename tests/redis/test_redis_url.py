"""Redis URLs: parsing, the password kept secret, and which setting wins."""

from __future__ import annotations

from typing import Any

import pytest

from storepush import Secret, ValidationError
from storepush._redis_url import ambient_redis, ambient_url, choose_redis_url, parse_redis_url
from storepush._scrub import scrub

GOOD: list[tuple[str, dict[str, Any]]] = [
    ("redis://localhost", {"display": "redis://localhost:6379/0", "port": 6379, "db": 0}),
    ("redis://127.0.0.1:7000/3", {"display": "redis://127.0.0.1:7000/3", "db": 3}),
    (
        "rediss://:pw-1@cache.example:6380/1",
        {"display": "rediss://***@cache.example:6380/1", "tls": True, "username": None},
    ),
    ("redis://bob:pw-2@h/0", {"display": "redis://***@h:6379/0", "username": "bob"}),
    ("redis://[::1]:6400", {"display": "redis://[::1]:6400/0", "host": "::1"}),
    ("redis://h/?prefix=ci-7&lease_ttl=12.5&timeout=0.3", {"prefix": "ci-7", "lease_ttl": 12.5}),
    (
        "rediss://h?ssl_ca_certs=/etc/ca.pem&ssl_cert_reqs=none",
        {"ssl_ca_certs": "/etc/ca.pem", "ssl_cert_reqs": "none"},
    ),
    ("  redis://h  ", {"host": "h"}),
]


@pytest.mark.parametrize(("url", "expected"), GOOD)
def test_good_urls(url: str, expected: dict[str, Any]) -> None:
    target = parse_redis_url(url)
    for name, value in expected.items():
        assert getattr(target, name) == value


BAD = [
    ("", "is empty"),
    ("http://h", "must start with redis://"),
    ("unix:///tmp/redis.sock", "must start with redis://"),
    ("redis://", "has no host"),
    ("redis://h:99999", "is not a URL"),
    ("redis://h/x", "not a database number"),
    ("redis://h/0#f", "has a fragment"),
    ("redis://h?colour=red", "unknown option 'colour'"),
    ("redis://h?lease_ttl=0", "lease_ttl must be seconds > 0"),
    ("redis://h?timeout=nan", "timeout must be seconds > 0"),
    ("redis://h?prefix=", "prefix must be a printable name"),
    ("redis://h?ssl_ca_certs=/ca.pem", "needs rediss://"),
    ("rediss://h?ssl_cert_reqs=maybe", "required or none"),
]


@pytest.mark.parametrize(("url", "problem"), BAD)
def test_bad_urls_are_refused_naming_the_setting(url: str, problem: str) -> None:
    with pytest.raises(ValidationError, match=problem) as caught:
        parse_redis_url(url, field="--redis-url")
    assert caught.value.field == "--redis-url"


def test_the_password_is_a_secret_everywhere() -> None:
    target = parse_redis_url("redis://:hunter2-Secret@h:6379/0?prefix=p")
    assert isinstance(target.password, Secret)
    assert "hunter2" not in repr(target)
    assert "hunter2" not in target.display
    assert scrub("AUTH hunter2-Secret failed") == "AUTH *** failed"
    assert target.connect_kwargs()["password"] == "hunter2-Secret"
    with pytest.raises(ValidationError) as caught:
        parse_redis_url("redis://:hunter2-Secret@h/x")
    assert "hunter2" not in str(caught.value)


def test_a_quoted_password_is_unquoted() -> None:
    target = parse_redis_url("redis://:p%40ss%3Aw0rd@h")
    assert target.password is not None
    assert target.password.reveal() == "p@ss:w0rd"


CHOICES: list[tuple[Any, Any, dict[str, str], Any, tuple[str, Any]]] = [
    (None, None, {}, None, ("none", None)),
    ("redis://a", "redis://b", {"STOREPUSH_REDIS_URL": "redis://c"}, "redis://d", ("explicit", "redis://a")),
    (None, "redis://b", {"STOREPUSH_REDIS_URL": "redis://c"}, "redis://d", ("command line", "redis://b")),
    (None, None, {"STOREPUSH_REDIS_URL": "redis://c"}, "redis://d", ("environment", "redis://c")),
    (None, None, {}, "redis://d", ("manifest", "redis://d")),
    (None, "  ", {"STOREPUSH_REDIS_URL": ""}, "redis://d", ("manifest", "redis://d")),
    (None, None, {"STOREPUSH_REDIS_URL": " "}, None, ("none", None)),
]  # fmt: skip


@pytest.mark.parametrize(("explicit", "ambient", "environ", "manifest", "expected"), CHOICES)
def test_which_url_wins(
    explicit: Any, ambient: Any, environ: dict[str, str], manifest: Any, expected: Any
) -> None:
    assert (
        choose_redis_url(explicit, ambient=ambient, environ=environ, manifest=manifest) == expected
    )


def test_the_command_lines_url_is_held_as_a_secret_while_it_applies() -> None:
    assert ambient_url() is None
    with ambient_redis("redis://:pw-ambient-9@h"):
        held = ambient_url()
        assert isinstance(held, Secret)
        assert scrub("redis://:pw-ambient-9@h") == "***"
    with ambient_redis(""):
        assert ambient_url() is None
    assert ambient_url() is None
