"""Pishkhan's endpoints: one table, the only place their names, methods and paths are typed.

The documentation writes paths without a trailing slash; the public clients that work against
the live service send one on every POST and DELETE (a missing one risks a redirect that drops
the body), and GET the `last-*` reads without. Correct a path here, and only here.
"""

from __future__ import annotations

from typing import Literal

from .._wire import Endpoint

__all__ = ["ENDPOINTS", "BazaarEndpoint", "Paths"]

BazaarEndpoint = Literal[
    "create",
    "delete",
    "upload",
    "commit",
    "last-committed",
    "last-uncommitted",
    "last-published",
    "upload-aab",
    "upload-bin",
    "bundle-status",
]


def _ep(name: BazaarEndpoint, method: Literal["GET", "POST", "DELETE"], path: str) -> Endpoint:
    return Endpoint(
        "bazaar", name, method, path, safe=method == "GET", upload=name.startswith("upload")
    )


CREATE = _ep("create", "POST", "/apps/releases/")
DELETE = _ep("delete", "DELETE", "/apps/releases/")
UPLOAD = _ep("upload", "POST", "/apps/releases/upload/")
COMMIT = _ep("commit", "POST", "/apps/releases/commit/")
LAST_COMMITTED = _ep("last-committed", "GET", "/apps/releases/last-committed")
LAST_UNCOMMITTED = _ep("last-uncommitted", "GET", "/apps/releases/last-uncommitted")
LAST_PUBLISHED = _ep("last-published", "GET", "/apps/releases/last-published")
UPLOAD_AAB = _ep("upload-aab", "POST", "/apps/releases/upload-aab/")
UPLOAD_BIN = _ep("upload-bin", "POST", "/apps/releases/upload-bin/")
BUNDLE_STATUS = _ep("bundle-status", "GET", "/apps/releases/bundle-status/")

ENDPOINTS: dict[str, Endpoint] = {
    e.name: e
    for e in (
        CREATE,
        DELETE,
        UPLOAD,
        COMMIT,
        LAST_COMMITTED,
        LAST_UNCOMMITTED,
        LAST_PUBLISHED,
        UPLOAD_AAB,
        UPLOAD_BIN,
        BUNDLE_STATUS,
    )
}


class Paths:
    """The path of each endpoint, relative to the base URL (read from `ENDPOINTS`)."""

    CREATE = CREATE.path
    DELETE = DELETE.path
    UPLOAD = UPLOAD.path
    COMMIT = COMMIT.path
    LAST_COMMITTED = LAST_COMMITTED.path
    LAST_UNCOMMITTED = LAST_UNCOMMITTED.path
    LAST_PUBLISHED = LAST_PUBLISHED.path
    UPLOAD_AAB = UPLOAD_AAB.path
    UPLOAD_BIN = UPLOAD_BIN.path
    BUNDLE_STATUS = BUNDLE_STATUS.path
