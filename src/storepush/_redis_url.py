"""Where the Redis of the coordination is, and which setting names it.

A Redis URL is `redis://[[user]:password@]host[:port][/db][?option=value&...]`, or `rediss://`
for TLS. Its password is a secret: it is held in a [`Secret`][storepush.Secret] (so
`storepush._scrub.scrub` removes it from every message), the URL shows itself as
`redis://***@host:6379/0`, and no error repeats the URL.

Options in the query string (all optional):

| option | meaning | default |
|---|---|---|
| `prefix` | the first part of every key storepush writes | `storepush` |
| `lease_ttl` | seconds a lease lives without renewal | `30` |
| `timeout` | seconds any one Redis call may take | `1` |
| `ssl_ca_certs` | (`rediss://`) a CA bundle to verify the server with | the system's |
| `ssl_cert_reqs` | (`rediss://`) `required` or `none` | `required` |

Which URL applies (see `choose_redis_url`): `Session(coordination=...)`, else the command line's
`--redis-url` (or `STOREPUSH_REDIS_URL`, which the command line reads for it), else
`STOREPUSH_REDIS_URL` for a library user, else a manifest's `[defaults] redis_url`; with none of
them, coordination stays in this host.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import parse_qsl, unquote, urlsplit

from ._errors import ValidationError
from ._secrets import Secret

__all__ = [
    "REDIS_URL_ENV",
    "RedisTarget",
    "Source",
    "ambient_redis",
    "choose_redis_url",
    "manifest_redis_url",
    "parse_redis_url",
]

REDIS_URL_ENV = "STOREPUSH_REDIS_URL"
_FIX = "write it as redis://host:6379/0, redis://:password@host:6379/0, or rediss://... for TLS"
_OPTIONS = ("prefix", "lease_ttl", "timeout", "ssl_ca_certs", "ssl_cert_reqs")

#: The command line's `--redis-url`, for every session its command makes.
_AMBIENT: ContextVar[str | Secret | None] = ContextVar("storepush_redis_url", default=None)

Source = Literal["explicit", "command line", "environment", "manifest", "none"]


@dataclass(frozen=True)
class RedisTarget:
    """One Redis server, parsed: how to connect, how to show it, and storepush's options."""

    display: str  #: the URL as it may be shown (password as `***`)
    host: str
    port: int
    db: int
    tls: bool
    username: str | None = None
    password: Secret | None = field(default=None, repr=False)
    prefix: str = "storepush"
    lease_ttl: float = 30.0
    timeout: float = 1.0
    ssl_ca_certs: str | None = None
    ssl_cert_reqs: str = "required"

    def connect_kwargs(self) -> dict[str, Any]:
        """redis-py's connection arguments, the password revealed: only the link calls this."""
        kwargs: dict[str, Any] = {"host": self.host, "port": self.port, "db": self.db}
        if self.username is not None:
            kwargs["username"] = self.username
        if self.password is not None:
            kwargs["password"] = self.password.reveal()
        if self.tls:
            kwargs["ssl"] = True
            kwargs["ssl_cert_reqs"] = self.ssl_cert_reqs
            if self.ssl_ca_certs is not None:
                kwargs["ssl_ca_certs"] = self.ssl_ca_certs
        return kwargs


def _seconds(value: str, option: str, field_name: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        seconds = math.nan
    if not (math.isfinite(seconds) and seconds > 0):
        raise ValidationError(field_name, f"option {option} must be seconds > 0", _FIX)
    return seconds


def _options(query: str, field_name: str, tls: bool) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        if name not in _OPTIONS:
            raise ValidationError(
                field_name, f"has an unknown option {name!r}", f"use {', '.join(_OPTIONS)}"
            )
        if name in ("lease_ttl", "timeout"):
            found[name] = _seconds(value, name, field_name)
        elif name == "prefix":
            if not value or not value.isascii() or not value.isprintable() or " " in value:
                raise ValidationError(field_name, "option prefix must be a printable name")
            found[name] = value
        elif name == "ssl_cert_reqs":
            if value not in ("required", "none"):
                raise ValidationError(field_name, "option ssl_cert_reqs is required or none")
            found[name] = value
        else:
            found[name] = value
        if name.startswith("ssl_") and not tls:
            raise ValidationError(field_name, f"option {name} needs rediss://", _FIX)
    return found


def parse_redis_url(value: str | Secret, *, field: str = "coordination") -> RedisTarget:
    """Check a Redis URL and put its password into a secret.

    Raises:
        ValidationError: naming `field`, when the URL cannot be used. The message never
            repeats the URL: it may hold a password.
    """
    raw = (value.reveal() if isinstance(value, Secret) else value).strip()
    if not raw:
        raise ValidationError(field, "is empty", _FIX)
    try:
        parts = urlsplit(raw)
        port = parts.port
        host = parts.hostname
    except ValueError:
        raise ValidationError(field, "is not a URL", _FIX) from None
    scheme = parts.scheme.lower()
    if scheme not in ("redis", "rediss"):
        raise ValidationError(field, "must start with redis:// or rediss://", _FIX)
    if not host:
        raise ValidationError(field, "has no host", _FIX)
    path = unquote(parts.path).strip("/")
    if path and not path.isdigit():
        raise ValidationError(field, "has a path that is not a database number", _FIX)
    if parts.fragment:
        raise ValidationError(field, "has a fragment", _FIX)
    tls = scheme == "rediss"
    options = _options(parts.query, field, tls)
    password = Secret(unquote(parts.password), field=field) if parts.password else None
    username = unquote(parts.username) if parts.username else None
    shown_host = f"[{host}]" if ":" in host else host
    port = port or 6379
    db = int(path) if path else 0
    auth = "***@" if password is not None else ""
    return RedisTarget(
        display=f"{scheme}://{auth}{shown_host}:{port}/{db}",
        host=host,
        port=port,
        db=db,
        tls=tls,
        username=username,
        password=password,
        **options,
    )


def choose_redis_url(
    explicit: str | Secret | None,
    *,
    ambient: str | Secret | None,
    environ: Mapping[str, str],
    manifest: str | Secret | None = None,
) -> tuple[Source, str | Secret | None]:
    """Which Redis URL a new session uses, and where it came from.

    `Session(coordination=URL)` first; then the command line's `--redis-url` (which also reads
    `STOREPUSH_REDIS_URL`); then `STOREPUSH_REDIS_URL` itself; then a manifest's `redis_url`.
    An empty value counts as unset.
    """
    if explicit is not None:
        return "explicit", explicit
    if ambient is not None and (isinstance(ambient, Secret) or ambient.strip()):
        return "command line", ambient
    from_env = environ.get(REDIS_URL_ENV, "")
    if from_env.strip():
        return "environment", from_env
    if manifest is not None and (isinstance(manifest, Secret) or manifest.strip()):
        return "manifest", manifest
    return "none", None


def manifest_redis_url(url: str | Secret | None) -> str | Secret | None:
    """A manifest's `redis_url` when neither `--redis-url` nor `STOREPUSH_REDIS_URL` is set
    (they win over the file), else `None`: pass it as a session's `coordination`."""
    source, chosen = choose_redis_url(
        None, ambient=_AMBIENT.get(), environ=os.environ, manifest=url
    )
    return chosen if source == "manifest" else None


def ambient_url() -> str | Secret | None:
    """The command line's `--redis-url`, when a command set it."""
    return _AMBIENT.get()


@contextmanager
def ambient_redis(url: str | Secret | None) -> Iterator[None]:
    """Inside, sessions made without `coordination=` use `url` (the command line's
    `--redis-url`)."""
    held = Secret(url.strip(), field="--redis-url") if isinstance(url, str) and url.strip() else url
    token = _AMBIENT.set(held or None)
    try:
        yield
    finally:
        _AMBIENT.reset(token)
