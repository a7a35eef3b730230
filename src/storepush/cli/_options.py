"""The options many commands share, built from the settings table (`_settings.py`).

Every run setting's flag, help text (with its environment variable and default) and metavar
come from its [`Setting`][storepush.cli._settings.Setting], so the flags, the docs and the
precedence rule cannot drift apart. Flags default to `None`, meaning "not given": the
environment, the manifest or the default then decide (`resolve`).
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from .._version import __version__
from ._settings import (
    BUSY_TIMEOUT,
    CONCURRENCY,
    DEADLINE,
    IF_BUSY,
    IF_DRAFT_EXISTS,
    MAX_ATTEMPTS,
    POLL_INTERVAL,
    PROGRESS,
    TIMEOUT,
    WAIT_DEADLINE,
    IfBusy,
    IfDraftExists,
    ProgressMode,
    Setting,
)

__all__ = [
    "BusyTimeoutOpt",
    "ConcurrencyOpt",
    "DeadlineOpt",
    "IfBusyOpt",
    "IfDraftExistsOpt",
    "InsecureOpt",
    "MaxAttemptsOpt",
    "PollIntervalOpt",
    "ProgressOpt",
    "TimeoutOpt",
    "VersionOpt",
    "WaitDeadlineOpt",
    "base_url_option",
    "token_env_option",
]

RUN_PANEL = "Run options"


def _option(setting: Setting[Any], metavar: str | None = None) -> Any:
    return typer.Option(
        setting.flag,
        help=setting.help(),
        metavar=metavar,
        show_default=False,
        rich_help_panel=RUN_PANEL,
    )


IfDraftExistsOpt = Annotated[IfDraftExists | None, _option(IF_DRAFT_EXISTS)]
IfBusyOpt = Annotated[IfBusy | None, _option(IF_BUSY)]
BusyTimeoutOpt = Annotated[float | None, _option(BUSY_TIMEOUT, "SECONDS")]
MaxAttemptsOpt = Annotated[int | None, _option(MAX_ATTEMPTS, "N")]
TimeoutOpt = Annotated[float | None, _option(TIMEOUT, "SECONDS")]
DeadlineOpt = Annotated[float | None, _option(DEADLINE, "SECONDS")]
PollIntervalOpt = Annotated[float | None, _option(POLL_INTERVAL, "SECONDS")]
WaitDeadlineOpt = Annotated[float | None, _option(WAIT_DEADLINE, "SECONDS")]
ProgressOpt = Annotated[ProgressMode | None, _option(PROGRESS)]
ConcurrencyOpt = Annotated[int | None, _option(CONCURRENCY, "N")]
InsecureOpt = Annotated[
    bool,
    typer.Option(
        "--allow-insecure-http",
        help="Allow plain http:// to a host that is not loopback (it exposes the credential).",
    ),
]


def base_url_option(store: str, variable: str) -> Any:
    """`--base-url URL` for one store."""
    return typer.Option(
        "--base-url",
        metavar="URL",
        help=f"The {store} base URL. Env {variable}.",
        show_default=False,
    )


def token_env_option(default: str, what: str) -> Any:
    """`--token-env NAME`: which environment variable holds the credential."""
    return typer.Option(
        "--token-env",
        metavar="NAME",
        help=f"The environment variable holding the {what} (never pass it as a flag).",
    )


def _show_version(value: bool) -> None:
    if value:
        print(f"storepush {__version__}")
        raise typer.Exit()


VersionOpt = Annotated[
    bool,
    typer.Option(
        "--version", callback=_show_version, is_eager=True, help="Show storepush's version."
    ),
]
