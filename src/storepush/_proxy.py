"""Forward proxies: `Session(proxy=...)`, the command line's `--proxy`, and the environment.

With no proxy given, storepush honours `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY` and `NO_PROXY`
(lower-case names first) as curl and requests do. They are read once, when the session is
made, rather than by aiohttp on every request (`trust_env=True` costs two thread hops and a
`.netrc` read per request). A proxy given by name (`proxy=`, `--proxy`) carries every request,
`NO_PROXY` or not.

Credentials in a proxy URL (`http://user:password@host:3128`) are a secret: they are held in
[Secret][storepush.Secret]s, so `storepush._scrub.scrub` removes them (raw, decoded and as
the base64 of a `Proxy-Authorization` header) from every message and log line, and a proxy
shows itself as `http://***@host:3128`. aiohttp only ever sees the URL without them.
"""

from __future__ import annotations

import base64
import ipaddress
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from urllib.parse import unquote

from yarl import URL

from . import _scrub
from ._errors import ValidationError
from ._secrets import Secret

__all__ = [
    "PROXY_AUTH_HINT",
    "Proxy",
    "ProxyRoutes",
    "ambient_proxy",
    "bypasses",
    "choose_proxy",
    "parse_proxy",
    "proxy_routes",
]

_SCHEMES = ("http", "https")

#: Added to the message of a 407 answer (from a plain-HTTP proxy, or to a CONNECT).
PROXY_AUTH_HINT = (
    "The proxy wants credentials or refused them: check user:password in the proxy URL "
    "(--proxy, STOREPUSH_PROXY, HTTPS_PROXY or HTTP_PROXY)"
)
_FIX = "write it as http://host:port or http://user:password@host:port"

#: The command line's `--proxy`, for every session its command makes (see `ambient_proxy`).
_AMBIENT: ContextVar[str | Secret | None] = ContextVar("storepush_proxy", default=None)


class Proxy:
    """One forward proxy: its URL without credentials, and the credentials as secrets."""

    __slots__ = ("_held", "_userinfo", "url")

    def __init__(
        self, url: str, userinfo: Secret | None, held: tuple[Secret | _Scrubbed, ...]
    ) -> None:
        self.url = url
        self._userinfo = userinfo
        self._held = held  # the scrubber holds secrets weakly: keep every form alive with us

    @property
    def display(self) -> str:
        """The URL as it may be shown: credentials, if any, are `***`."""
        if self._userinfo is None:
            return self.url
        scheme, _, rest = self.url.partition("://")
        return f"{scheme}://***@{rest}"

    def authorization(self) -> dict[str, str]:
        """The `Proxy-Authorization` header, revealed: only the transport calls this."""
        if self._userinfo is None:
            return {}
        user, _, password = self._userinfo.reveal().partition(":")
        token = base64.b64encode(f"{unquote(user)}:{unquote(password)}".encode()).decode()
        return {"Proxy-Authorization": f"Basic {token}"}  # RFC 7617, UTF-8

    def __repr__(self) -> str:
        return f"Proxy({self.display!r})"


class _Scrubbed:
    """A form of a proxy credential that a Secret cannot hold (whitespace or non-ASCII
    inside, once decoded): registered with the scrubber all the same."""

    __slots__ = ("__weakref__", "_forms")

    def __init__(self, value: str) -> None:
        self._forms = _scrub.variants(value)
        _scrub.register(self)

    def _scrub_variants(self) -> tuple[str, ...]:
        return self._forms


def _hold(value: str, field: str) -> Secret | _Scrubbed:
    if value == value.strip() and value.isascii() and value.isprintable() and " " not in value:
        return Secret(value, field=field)
    return _Scrubbed(value)


def parse_proxy(value: str | Secret, *, field: str = "proxy") -> Proxy:
    """Check a proxy URL and put its credentials into secrets.

    A URL without a scheme means `http://`, as in curl. Only `http://` and `https://` proxies
    are supported (aiohttp speaks no SOCKS). Errors never repeat the URL: it may hold a password.

    Raises:
        ValidationError: naming `field`, when the URL cannot be used.
    """
    raw = (value.reveal() if isinstance(value, Secret) else value).strip()
    if not raw:
        raise ValidationError(field, "is empty", _FIX)
    if "://" not in raw:
        raw = "http://" + raw
    try:
        url = URL(raw)
        port = url.port
    except ValueError:
        raise ValidationError(field, "is not a URL", _FIX) from None
    scheme = url.scheme.lower()
    if scheme not in _SCHEMES:
        raise ValidationError(field, f"{scheme}:// proxies are not supported", _FIX)
    if not url.host:
        raise ValidationError(field, "has no host", _FIX)
    if url.path not in ("", "/") or url.query_string or url.fragment:
        raise ValidationError(field, "has a path, query or fragment", _FIX)
    host = f"[{url.host}]" if ":" in url.host else url.host
    bare = f"{scheme}://{host}:{port}"
    if url.raw_user is None and url.raw_password is None:
        return Proxy(bare, None, ())
    raw_user, raw_password = url.raw_user or "", url.raw_password or ""
    userinfo = Secret(f"{raw_user}:{raw_password}", field=field)
    forms = (raw_password, unquote(raw_password), f"{unquote(raw_user)}:{unquote(raw_password)}")
    held = tuple(_hold(form, field) for form in dict.fromkeys(forms) if form)
    return Proxy(bare, userinfo, held)


def _from_environment(environ: Mapping[str, str]) -> dict[str, tuple[str, str]]:
    """`{scheme: (variable, value)}` as urllib reads it: lower-case names win; `HTTP_PROXY` in
    capitals is ignored under CGI (httpoxy); an empty value unsets."""
    found: dict[str, tuple[str, str]] = {}
    for lower_only in (False, True):
        for name, value in environ.items():
            if not name.lower().endswith("_proxy") or (lower_only and name != name.lower()):
                continue
            if not lower_only and name == "HTTP_PROXY" and "REQUEST_METHOD" in environ:
                continue
            key = name[:-6].lower()
            if value:
                found[key] = (name, value)
            elif lower_only:
                found.pop(key, None)
    return found


def bypasses(host: str, no_proxy: str) -> bool:
    """Whether `NO_PROXY` (`no_proxy`) exempts `host`: `*`, a host or domain suffix (a leading
    `.` or `*.` is the same), an IP address, or an IP network in CIDR form; ports are ignored."""
    host = host.lower().strip("[]").rstrip(".")
    try:
        address: ipaddress.IPv4Address | ipaddress.IPv6Address | None = ipaddress.ip_address(host)
    except ValueError:
        address = None
    for raw in no_proxy.split(","):
        entry = raw.strip().lower()
        if entry == "*":
            return True
        if "/" in entry:
            try:
                if address is not None and address in ipaddress.ip_network(entry, strict=False):
                    return True
            except ValueError:
                pass
            continue
        if entry.startswith("["):
            entry = entry[1:].partition("]")[0]
        elif entry.count(":") == 1:
            entry = entry.partition(":")[0]
        entry = entry.lstrip("*").lstrip(".").rstrip(".")
        if entry and (host == entry or host.endswith("." + entry)):
            return True
    return False


def choose_proxy(
    scheme: str,
    host: str,
    *,
    explicit: Proxy | None,
    by_scheme: Mapping[str, Proxy],
    no_proxy: str | None,
) -> Proxy | None:
    """The proxy for one request to `scheme://host`, or `None` to connect directly.

    A proxy given by name carries everything; otherwise `NO_PROXY` is checked (see
    `bypasses`), then the environment's proxy for the scheme (`ALL_PROXY` already folded in).
    """
    if explicit is not None:
        return explicit
    if no_proxy and bypasses(host, no_proxy):
        return None
    return by_scheme.get(scheme.lower())


class ProxyRoutes:
    """Which proxy each request of one session goes through (decided once per scheme and host)."""

    __slots__ = ("_cache", "by_scheme", "explicit", "no_proxy")

    def __init__(
        self,
        explicit: Proxy | None = None,
        by_scheme: Mapping[str, Proxy] | None = None,
        no_proxy: str | None = None,
    ) -> None:
        self.explicit = explicit
        self.by_scheme = dict(by_scheme or {})
        self.no_proxy = no_proxy
        self._cache: dict[tuple[str, str], Proxy | None] = {}

    def for_url(self, url: URL) -> Proxy | None:
        key = (url.scheme, url.host or "")
        if key not in self._cache:
            self._cache[key] = choose_proxy(
                *key, explicit=self.explicit, by_scheme=self.by_scheme, no_proxy=self.no_proxy
            )
        return self._cache[key]

    def apply(self, url: str, headers: dict[str, str]) -> tuple[str | None, dict[str, str] | None]:
        """aiohttp's `proxy` and `proxy_headers` for one request to `url`.

        The `Proxy-Authorization` header goes on the CONNECT of an `https://` request, never
        through the tunnel to the server; a plain `http://` request carries it itself (aiohttp
        does not add `proxy_headers` to one), so it is added to `headers` then.
        """
        proxy = self.for_url(URL(url))
        if proxy is None:
            return None, None
        authorization = proxy.authorization()
        if url.startswith("https:"):
            return proxy.url, authorization or None
        headers.update(authorization)
        return proxy.url, None


def proxy_routes(proxy: str | Secret | None, environ: Mapping[str, str]) -> ProxyRoutes:
    """The routes of a new session: `proxy` if given, else the command line's `--proxy`, else
    the environment's variables (read now, from `environ`)."""
    chosen = proxy if proxy is not None else _AMBIENT.get()
    if chosen is not None:
        return ProxyRoutes(explicit=parse_proxy(chosen))
    found = _from_environment(environ)
    by_scheme: dict[str, Proxy] = {}
    for scheme in _SCHEMES:
        entry = found.get(scheme) or found.get("all")
        if entry is not None:
            by_scheme[scheme] = parse_proxy(entry[1], field=entry[0])
    no_proxy = found["no"][1] if "no" in found else None
    return ProxyRoutes(by_scheme=by_scheme, no_proxy=no_proxy)


@contextmanager
def ambient_proxy(proxy: str | Secret | None) -> Iterator[None]:
    """Inside, sessions made without `proxy=` use `proxy` (the command line's `--proxy`)."""
    token = _AMBIENT.set(proxy)
    try:
        yield
    finally:
        _AMBIENT.reset(token)
