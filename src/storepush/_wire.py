"""What joins the layers: an endpoint of a marketplace, named once.

Each marketplace has one table of [`Endpoint`][storepush._wire.Endpoint]s (`bazaar/_api.py`,
`bluemind/_api.py`): its name (which is also its rate-limit bucket and its name in logs and
recordings), method, path and whether it may be repeated after a failure of unknown outcome.
Nothing else in storepush types a path or an endpoint name as a bare string.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["Endpoint", "Method"]

Method = Literal["GET", "POST", "DELETE"]


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One endpoint of one marketplace.

    `path` is relative to the client's base URL and may hold `{placeholders}`. `safe` says
    whether the call may be sent again after a failure whose outcome is unknown (true for
    reads). `upload` marks calls whose body is a streamed file: their deadline is the
    upload deadline, not the per-call one.
    """

    marketplace: str
    name: str
    method: Method
    path: str
    safe: bool
    upload: bool = False

    def url_path(self, **args: object) -> str:
        """The path with its placeholders filled in."""
        return self.path.format(**args) if args else self.path
