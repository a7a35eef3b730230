"""The `storepush` command line: it needs the `cli` extra (typer and rich).

Installed without it, the `storepush` command (and `python -m storepush`) prints one line on
stderr naming the extra and how to add it, from the checkout or wheel storepush came from,
and exits with code 2: never a traceback.
"""

from __future__ import annotations

import json
import shlex
import sys
from importlib import metadata
from urllib.parse import unquote, urlsplit

__all__ = ["app", "main", "missing_extra_message"]

#: The top-level modules the `cli` extra brings (typer's own dependency click included).
EXTRA_MODULES = frozenset({"typer", "rich", "click"})

try:
    from ._app import app
    from ._app import main as _run
except ModuleNotFoundError as exc:  # pragma: no cover - checked in a venv without the extra
    _MISSING: str | None = (exc.name or "").partition(".")[0]
    if _MISSING not in EXTRA_MODULES:
        raise
else:
    _MISSING = None


def missing_extra_message(missing: str, direct_url: str | None, python: str) -> str:
    """The one line shown when the `cli` extra is not installed.

    Args:
        missing: the module that could not be imported.
        direct_url: the text of storepush's `direct_url.json` (how pip recorded where it was
            installed from), or `None` when there is none.
        python: the interpreter that runs storepush (its pip installs into the same place).

    The command names the same checkout or wheel again: storepush is not on the package
    index, so a bare `pip install storepush` would fetch someone else's project.
    """
    source, editable = "/path/to/storepush-checkout-or-wheel", False
    try:
        info = json.loads(direct_url) if direct_url else {}
    except ValueError:
        info = {}
    url = info.get("url") if isinstance(info, dict) else None
    if isinstance(url, str) and url.startswith("file://"):
        source = unquote(urlsplit(url).path)
        dir_info = info.get("dir_info")
        editable = isinstance(dir_info, dict) and dir_info.get("editable") is True
    flag = "-e " if editable else ""
    command = f"{shlex.quote(python)} -m pip install {flag}{shlex.quote(source + '[cli]')}"
    return (
        f"storepush: the command line needs the 'cli' extra ({missing} is not installed); "
        f"install it with: {command}"
    )


def _direct_url() -> str | None:
    try:
        return metadata.distribution("storepush").read_text("direct_url.json")
    except metadata.PackageNotFoundError:
        return None


def main() -> None:
    """The console script's entry point."""
    if _MISSING is not None:  # pragma: no cover - checked in a venv without the extra
        sys.stderr.write(missing_extra_message(_MISSING, _direct_url(), sys.executable) + "\n")
        raise SystemExit(2)
    _run()
