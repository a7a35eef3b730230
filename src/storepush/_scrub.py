"""The one place where text is cleaned of credentials before anyone can see it.

Every [`Secret`][storepush.Secret] made in this process registers itself here. `scrub`
replaces each live secret, and the encodings a server may echo it back in (URL-quoted,
JSON-escaped, HTML-escaped, base64), with `***`. Text that came from a server passes through
it before it reaches an exception message, a log line, a report, a recording or a journal; the
command line passes its whole output through it once more.

The registry holds weak references: a secret that is no longer used anywhere stops being
scrubbed, and nothing here keeps a credential alive.
"""

from __future__ import annotations

import base64
import html
import json
import logging
import re
import threading
import weakref
from typing import Protocol
from urllib.parse import quote, quote_plus

__all__ = ["MASK", "ScrubFilter", "get_logger", "register", "scrub", "variants"]

MASK = "***"


class _HasVariants(Protocol):
    def _scrub_variants(self) -> tuple[str, ...]: ...


#: Every live credential, by identity: equal `Secret`s are distinct entries, so the death of
#: one copy never stops the scrubbing of another (a `WeakSet` would hold only the first of
#: equal objects, and drop the value when that one died).
#:
#: Copy on write, and no weakref callbacks: the garbage collector can run at any allocation,
#: finalizers (an unclosed session's warning, a log line in `__del__`) may scrub or make a
#: `Secret` from inside it, so readers take no lock and never see a dict change under them,
#: and nothing runs when a secret dies. Dead entries are dropped at the next registration.
_LIVE: dict[int, weakref.ref[_HasVariants]] = {}
#: Serialises writers across threads; re-entrant, because a finalizer run by the collector
#: in the middle of a registration may register in the same thread.
_WRITE = threading.RLock()


_HEX_ESCAPE = re.compile(r"%[0-9A-F]{2}")


def variants(value: str) -> tuple[str, ...]:
    """`value` and the forms a server might echo it in, longest first, without repeats.

    Raw; percent-encoded (as `quote` does with and without keeping `/`, as `quote_plus` does,
    with upper- and lower-case escapes); JSON-escaped (also with `\\/`, with `<>&` written as
    `\\u00XX` as Go does, and JSON inside a JSON string); HTML-escaped; base64 (standard and
    URL-safe).
    """
    in_json = json.dumps(value)[1:-1]
    encoded = quote(value, safe="")
    forms = {
        value,
        encoded,
        _HEX_ESCAPE.sub(lambda m: m.group().lower(), encoded),
        quote(value),
        quote_plus(value, safe=""),
        in_json,
        in_json.replace("/", "\\/"),
        in_json.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"),
        json.dumps(in_json)[1:-1],
        html.escape(value, quote=True),
        html.escape(value, quote=False),
        base64.b64encode(value.encode()).decode().rstrip("="),
        base64.urlsafe_b64encode(value.encode()).decode().rstrip("="),
    }
    return tuple(sorted((f for f in forms if f), key=len, reverse=True))


def register(secret: _HasVariants) -> None:
    """Start scrubbing `secret` (called by [`Secret`][storepush.Secret] itself)."""
    global _LIVE
    key, ref = id(secret), weakref.ref(secret)
    with _WRITE:
        while True:
            base = _LIVE
            live = {k: r for k, r in base.items() if r() is not None}
            live[key] = ref
            if _LIVE is base:  # else a finalizer registered meanwhile: start again from it
                _LIVE = live
                return


def _live_forms() -> list[str]:
    holders = [holder for ref in _LIVE.values() if (holder := ref()) is not None]
    forms = {form for holder in holders for form in holder._scrub_variants()}
    return sorted(forms, key=len, reverse=True)


def scrub(text: str) -> str:
    """`text` with every live credential (in any of its echoed forms) replaced by `***`."""
    if not text:
        return text
    for form in _live_forms():
        if form in text:
            text = text.replace(form, MASK)
    return text


class ScrubFilter(logging.Filter):
    """A logging filter that renders a record's message and scrubs it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = scrub(message)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        return True


_FILTER = ScrubFilter()


def get_logger(name: str) -> logging.Logger:
    """A storepush logger whose records are scrubbed before any handler sees them."""
    logger = logging.getLogger(name)
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)
    return logger
