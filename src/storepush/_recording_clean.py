"""Cleaning a recorded exchange of credentials, and checking the finished line once more.

The rules `storepush._recording` applies to every line: credential headers (and `Cookie`,
`Set-Cookie`, `Authorization`, `Proxy-Authorization`) masked by name; string values of keys such
as `api_key` or `token` masked in any JSON; every text passed through `storepush._scrub.scrub`
and then through an explicit removal of the request's own credentials, in every echoed form
A line is encoded, then checked
whole: if a credential form still shows (say, made by JSON escaping itself), every string is
cleaned one by one and the line checked again; failing that, the line is cut down to what holds
no text from the server (`"withheld": true`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import msgspec

from . import _scrub
from ._recording_format import FORMAT, Exchange, ResponseRecord
from ._secrets import Secret

__all__ = [
    "ALWAYS_MASKED",
    "EXCERPT_CHARS",
    "MASK",
    "SENSITIVE_KEYS",
    "Cleaner",
    "encode_clean",
]

MASK = _scrub.MASK
#: How much of a response body a line keeps, cleaned before the cut.
EXCERPT_CHARS = 2000
#: Wide enough for the longest echoed form of the longest credential (JSON in JSON, 4x 4096).
_SCRUB_MARGIN = 4 * 4096 + 16

#: Headers masked whatever they hold: they carry credentials or sessions by their nature.
ALWAYS_MASKED = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})
#: JSON keys whose string values are masked wherever they appear.
SENSITIVE_KEYS = frozenset({"api_key", "api-key", "apikey", "token", "secret", "password"})


_HEX_ESCAPE = re.compile(r"%[0-9A-F]{2}")


class Cleaner:
    """Removes credentials from text: every live secret, then the request's own ones."""

    def __init__(self, secrets: Iterable[Secret]) -> None:
        forms: set[str] = set()
        for secret in secrets:
            forms.update(secret._scrub_variants())
        self._own = sorted((form for form in forms if form), key=len, reverse=True)

    def text(self, value: str) -> str:
        value = _scrub.scrub(value)
        for form in self._own:
            if form in value:
                value = value.replace(form, MASK)
        return value

    def excerpt(self, body: bytes) -> str:
        """The first characters of `body`, cleaned *before* the cut (no fragment survives)."""
        window = body[: (EXCERPT_CHARS + _SCRUB_MARGIN) * 4].decode("utf-8", errors="replace")
        return self.text(window[: EXCERPT_CHARS + _SCRUB_MARGIN])[:EXCERPT_CHARS]

    def json(self, value: Any, *, deep: bool) -> Any:
        """`value` with sensitive keys masked; with `deep`, every string cleaned as well."""
        if isinstance(value, dict):
            return {
                (self.text(k) if deep else k): (
                    MASK
                    if isinstance(v, str) and k.lower() in SENSITIVE_KEYS
                    else self.json(v, deep=deep)
                )
                for k, v in value.items()
            }
        if isinstance(value, list):
            return [self.json(v, deep=deep) for v in value]
        if isinstance(value, str) and deep:
            return self.text(value)
        return value

    def headers(
        self, headers: Iterable[tuple[str, str]], credential_names: Iterable[str], *, deep: bool
    ) -> dict[str, str]:
        masked = ALWAYS_MASKED | {name.lower() for name in credential_names}
        out: dict[str, str] = {}
        for name, value in headers:
            value = MASK if name.lower() in masked else value
            if deep:
                name, value = self.text(name), self.text(value)
            out[name] = f"{out[name]}, {value}" if name in out else value
        return out

    def dirty(self, text: str) -> bool:
        return self.text(text) != text


def _deep_clean(exchange: Exchange, cleaner: Cleaner) -> Exchange:
    """Every string of `exchange` cleaned (the slow path, for a line that held a credential)."""
    data = cleaner.json(msgspec.to_builtins(exchange), deep=True)
    return msgspec.convert(data, Exchange)


def _withheld(exchange: Exchange, cleaner: Cleaner) -> Exchange:
    status = exchange.response.status if exchange.response else None
    return Exchange(
        format=FORMAT,
        time=exchange.time,
        method=cleaner.text(exchange.method),
        path=cleaner.text(exchange.path),
        marketplace=exchange.marketplace,
        credential=exchange.credential,
        credential_header=exchange.credential_header,
        response=None if status is None else ResponseRecord(status=status),
        elapsed=exchange.elapsed,
        withheld=True,
    )


def encode_clean(exchange: Exchange, cleaner: Cleaner, *, elapsed: float | None = None) -> bytes:
    """The exchange as one JSON line, checked to hold no credential form."""
    if elapsed is not None:
        exchange.elapsed = elapsed
    line = msgspec.json.encode(exchange)
    if not cleaner.dirty(line.decode()):
        return line + b"\n"
    line = msgspec.json.encode(_deep_clean(exchange, cleaner))
    if not cleaner.dirty(line.decode()):
        return line + b"\n"
    line = msgspec.json.encode(_withheld(exchange, cleaner))
    if cleaner.dirty(line.decode()):  # pragma: no cover - every string above was cleaned
        line = msgspec.json.encode(
            Exchange(format=FORMAT, time=exchange.time, method=MASK, path=MASK, withheld=True)
        )
    return line + b"\n"
