"""Exactly once for a plugin version: pure decisions, no I/O.

A version label is the identity of a release on the MarketPlace: it is added once, and a
listed version is never sent again. Whether a listed version is *this* package can be told
only when the service shows the stored package (its SHA-1, or at least its size):

| listed? | the service shows | verdict |
|---|---|---|
| no | — | `ADD` |
| yes | our SHA-1 | `ALREADY`: a re-run, or an earlier attempt whose answer was lost |
| yes | another SHA-1, or another size | `REFUSE`: a different jar under the same version |
| yes | the same size, no SHA-1 | `ALREADY_UNVERIFIED` (a warning says so) |
| yes | nothing about the package | `ALREADY_UNVERIFIED` (a warning says so) |
"""

from __future__ import annotations

import enum

from ._models import Plugin

__all__ = ["VersionVerdict", "judge_version"]


class VersionVerdict(enum.Enum):
    ADD = "add"
    ALREADY = "already published"
    ALREADY_UNVERIFIED = "already published (the stored package cannot be compared)"
    REFUSE = "a different package under this version"


def judge_version(plugin: Plugin, version: str, *, sha1: str | None, size: int) -> VersionVerdict:
    """What to do about `version` of `plugin`, for our package's `sha1` and `size`."""
    listed = plugin.find_version(version)
    if listed is None:
        return VersionVerdict.ADD
    if listed.sha1:
        return VersionVerdict.ALREADY if listed.sha1.lower() == sha1 else VersionVerdict.REFUSE
    if listed.size is not None and listed.size != size:
        return VersionVerdict.REFUSE
    return VersionVerdict.ALREADY_UNVERIFIED
