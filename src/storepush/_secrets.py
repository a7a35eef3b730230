"""Holding credentials (Pishkhan tokens, BlueMind API keys) so that they cannot leak.

A `Secret` prints as `Secret('***')` in every `repr`, `str` and f-string; the value
is only reachable through `reveal`, which the transport calls when it writes the
request. Pickling is refused so a secret cannot land in a file by accident.
"""

from __future__ import annotations

import hmac
import warnings
from typing import NoReturn

from . import _scrub
from ._errors import ValidationError
from ._formats import fingerprint

__all__ = ["Secret", "SecretWhitespaceWarning", "as_secret"]

_MAX_LEN = 4096


class SecretWhitespaceWarning(UserWarning):
    """A credential had whitespace around it (usually a newline pasted into a CI secret)."""


class Secret:
    """A credential whose value never appears in reprs, logs or exception messages.

    Surrounding whitespace is stripped with a `SecretWhitespaceWarning`; whitespace or
    control characters inside the value, an empty value or a non-ASCII value raise
    [`ValidationError`][storepush.ValidationError] naming `field`.
    """

    __slots__ = ("__weakref__", "_fingerprint", "_forms", "_value", "field")

    def __init__(self, value: str, *, field: str = "token") -> None:
        if not isinstance(value, str):
            raise ValidationError(field, f"must be a string, not {type(value).__name__}")
        stripped = value.strip()
        if not stripped:
            raise ValidationError(field, "is empty", "set the credential the store gave you")
        if stripped != value:
            warnings.warn(
                f"{field}: surrounding whitespace was stripped from the credential "
                "(a trailing newline in a CI secret is the usual cause)",
                SecretWhitespaceWarning,
                stacklevel=2,
            )
        if any(ch.isspace() or not ch.isprintable() for ch in stripped):
            raise ValidationError(
                field,
                "contains whitespace or control characters inside the value",
                "copy the credential again, as one line without spaces",
            )
        if not stripped.isascii():
            raise ValidationError(field, "contains non-ASCII characters", "copy it again")
        if len(stripped) > _MAX_LEN:
            raise ValidationError(field, f"is longer than {_MAX_LEN} characters")
        self._value = stripped
        self.field = field
        self._fingerprint = fingerprint(stripped)
        self._forms = _scrub.variants(stripped)
        _scrub.register(self)

    def _scrub_variants(self) -> tuple[str, ...]:
        return self._forms

    def reveal(self) -> str:
        """The credential itself. Only the transport should call this."""
        return self._value

    @property
    def fingerprint(self) -> str:
        """A short one-way fingerprint: tells credentials apart without revealing them."""
        return self._fingerprint

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value, other._value)

    def __hash__(self) -> int:
        return hash(self._fingerprint)

    def __reduce__(self) -> NoReturn:
        raise TypeError("a Secret cannot be pickled")


def as_secret(value: str | Secret, *, field: str) -> Secret:
    """Wrap `value` in a `Secret` unless it already is one."""
    if isinstance(value, Secret):
        return value
    return Secret(value, field=field)
