"""The `storepush` command line: it needs the `cli` extra (typer and rich).

Installed without it, the `storepush` command (and `python -m storepush`) prints one line on
stderr naming the extra and how to add it, from the checkout or wheel storepush came from,
and exits with code 2: never a traceback.
"""

from __future__ import annotations

import importlib.util
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._app import app

__all__ = ["app", "main", "missing_extra_message"]

#: The top-level modules the `cli` extra brings (click only where typer does not vendor it).
EXTRA_MODULES = ("typer", "rich")


def _missing_module() -> str | None:
    """The first module of the `cli` extra that cannot be imported, if any (not importing it)."""
    for name in EXTRA_MODULES:
        try:
            if importlib.util.find_spec(name) is None:
                return name
        except (ImportError, ValueError):  # ValueError: a module set to None in sys.modules
            return name
    return None


def __getattr__(name: str) -> Any:
    """`storepush.cli.app` (the typer app), imported on first use."""
    if name == "app":
        from ._app import app

        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
    import json  # imported here: `storepush --version` needs none of these
    import shlex
    from urllib.parse import unquote, urlsplit

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
    from importlib import metadata  # only when the extra is missing: it costs 25 ms to import

    try:
        return metadata.distribution("storepush").read_text("direct_url.json")
    except metadata.PackageNotFoundError:
        return None


def main() -> None:
    """The console script's entry point.

    `storepush --version` answers without importing typer or the command tree (it only checks
    that the extra is installed).
    """
    argv = sys.argv[1:]
    missing = _missing_module()
    if missing is None and argv == ["--version"]:
        from .._version import __version__

        sys.stdout.write(f"storepush {__version__}\n")
        return
    if missing is None:
        try:
            from ._app import main as run
        except ModuleNotFoundError as exc:  # pragma: no cover - a broken install of the extra
            missing = (exc.name or "").partition(".")[0]
            if missing not in EXTRA_MODULES and missing != "click":
                raise
        else:
            run(argv)
            return
    sys.stderr.write(missing_extra_message(missing, _direct_url(), sys.executable) + "\n")
    raise SystemExit(2)
