"""The stores' rules as pure functions: each decision in one place, with a table test.

The state model (`_state.py`) and the route modules call these; none of them does I/O or reads
a clock. Tests: `tests/emulator/test_rules.py`.

- `same_architecture`, `version_code_floor`: Pishkhan's version-code rule. A package's
  architecture is the set of ABIs it has native code for (none: `all`). Two packages are the
  same architecture when their ABI sets overlap, and `all` overlaps every architecture. A new
  package's version code must be above every version code already committed (or published)
  for the same architecture. Per-ABI offset schemes (arm64 = 2000 + v, v7 = 1000 + v, each APK
  with its own `lib/<abi>/`) therefore keep working.
- `choose_architecture`: the `architecture` form field, as the quirks allow.
- `slash_redirect`: what a Django service does with a path that lacks its trailing slash.

`Refusal` is what a broken rule raises; the server turns it into the store's error envelope.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from .._formats import ALL, ARCHITECTURES, architecture_label, parse_architecture
from ._quirks import Quirks

__all__ = [
    "NO_DRAFT",
    "Floor",
    "Refusal",
    "abis_of",
    "bad_request",
    "choose_architecture",
    "same_architecture",
    "slash_redirect",
    "version_code_floor",
    "version_code_refusal",
]

_ALLOWED = ", ".join(ARCHITECTURES)


class Refusal(Exception):
    """A request the rules refuse: `status`, the envelope `type` and a message."""

    def __init__(self, status: int, error_type: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error_type = error_type
        self.message = message


def bad_request(message: str) -> Refusal:
    """Pishkhan's documented 400 (`type: bad_request`); the message says why."""
    return Refusal(400, "bad_request", message)


#: The one 400 message the documentation shows verbatim.
NO_DRAFT = "There is not an uncommitted release."


def abis_of(architecture: str) -> frozenset[str]:
    """The ABI set an architecture value stands for (`all` is the empty set)."""
    if not architecture or architecture == ALL:
        return frozenset()
    return frozenset(part for part in architecture.split(",") if part and part != ALL)


def same_architecture(a: frozenset[str], b: frozenset[str]) -> bool:
    """Whether two packages compete for the same devices: `all` (empty) meets everything,
    otherwise their ABI sets overlap."""
    return not a or not b or not a.isdisjoint(b)


@dataclass(frozen=True)
class Floor:
    """The version code a new package must be above, and the architecture that set it."""

    version_code: int
    abis: frozenset[str]

    @property
    def label(self) -> str:
        return architecture_label(self.abis)


def version_code_floor(
    abis: frozenset[str], existing: Iterable[tuple[int | None, frozenset[str]]]
) -> Floor | None:
    """The highest version code among `existing` (committed or published packages, as
    `(version_code, abis)`) of the same architecture as `abis`; `None` when there is none."""
    best: Floor | None = None
    for code, other in existing:
        if code is None or not same_architecture(abis, other):
            continue
        if best is None or code > best.version_code:
            best = Floor(code, other)
    return best


def version_code_refusal(
    version_code: int | None,
    abis: frozenset[str],
    existing: Iterable[tuple[int | None, frozenset[str]]],
) -> str | None:
    """The 400 message for a package that breaks the rule, or `None` when it may join."""
    if version_code is None:
        return None  # a manifest the store could not read: nothing to compare
    floor = version_code_floor(abis, existing)
    if floor is None or version_code > floor.version_code:
        return None
    return (
        f"The version code {version_code} must be greater than {floor.version_code}: "
        f"a package with version code {floor.version_code} for {floor.label} "
        "is already committed."
    )


def choose_architecture(form: str | None, query: str | None, quirks: Quirks) -> str:
    """The upload's architecture, from the form field (and the query string if the quirk
    allows); `"0"` is `all` only when `architecture_zero` is on.

    Raises:
        ValueError: the message of the 400 answer, naming the field and the allowed values.
    """
    value = form
    if value is None and quirks.architecture_query:
        value = query
    if value is None:
        if quirks.architecture_missing == "all":
            return ALL
        raise ValueError(f"The field architecture is required: one of {_ALLOWED}.")
    if value == "0" and quirks.architecture_zero:
        return ALL
    found = parse_architecture(value)
    if found is None:
        raise ValueError(f"The field architecture must be one of {_ALLOWED}, not {value!r}.")
    return found


_SLASHES = re.compile(r"/{2,}")


def slash_redirect(method: str, path: str, quirks: Quirks) -> str | None:
    """Where a Django service sends a request for `path` that no route matched as it is.

    `path` is assumed to match a route once doubled slashes are collapsed and a trailing slash
    added (the caller checks). A GET or HEAD gets a 301 to that path (Django's APPEND_SLASH),
    which clients follow. Other methods get the same 301 when `slashless_post` is `redirect`
    (Django in production; the client loses the body when it follows), or `None` (serve the
    request at the normal path) when it is `serve`.
    """
    target = _SLASHES.sub("/", path)
    if not target.endswith("/"):
        target += "/"
    if method in ("GET", "HEAD") or quirks.slashless_post == "redirect":
        return target
    return None
