"""The `storepush` command: marketplaces as sub-commands, plus batch, demo and emulator.

Importing this module builds the command tree and nothing more: the marketplace packages,
aiohttp, msgspec and rich are imported inside the commands that need them, so `--help`,
`--version` and argument errors stay fast (`storepush --version` itself does not even import
typer: see `storepush.cli.main`).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ._bazaar import bazaar_app
from ._bluemind import bluemind_app
from ._options import (
    BusyTimeoutOpt,
    ConcurrencyOpt,
    DeadlineOpt,
    IfBusyOpt,
    IfDraftExistsOpt,
    MaxAttemptsOpt,
    ProgressOpt,
    TimeoutOpt,
    VersionOpt,
)
from ._output import EXIT_FAILED, Output, format_table, scrubbed_streams
from ._progress import choose_mode, make_reporter
from ._settings import (
    CONCURRENCY,
    DEADLINE,
    MAX_ATTEMPTS,
    PROGRESS,
    TIMEOUT,
    ProgressMode,
    resolve,
    retry_config,
)
from ._spelling import MANIFEST

if TYPE_CHECKING:
    from ._batch import BatchReport, BatchRun

__all__ = ["app", "main"]

app = typer.Typer(
    name="storepush",
    help="Publish Android apps to Cafe Bazaar and add-ons to the BlueMind MarketPlace.",
    epilog="Exit codes: 0 done, 1 the store refused or failed, 2 bad input (nothing was sent), "
    "130 Ctrl-C, 143 SIGTERM. Every setting: flag > environment > manifest > default.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=True,
)
app.add_typer(bazaar_app, name="bazaar")
app.add_typer(bluemind_app, name="bluemind")

PROXY_ENV = "STOREPUSH_PROXY"
REDIS_URL_ENV = "STOREPUSH_REDIS_URL"
_GLOBAL_FLAGS = ("--json", "-v", "--verbose")


@app.callback()
def root(
    ctx: typer.Context,
    json_mode: Annotated[
        bool,
        typer.Option("--json", help="One JSON document on stdout (errors and interrupts too)."),
    ] = False,
    verbose: Annotated[bool, typer.Option("-v", "--verbose", help="Debug logs on stderr.")] = False,
    version: VersionOpt = False,
    record: Annotated[
        Path | None,
        typer.Option(
            "--record",
            metavar="FILE",
            help="Append every HTTP exchange to FILE as JSON lines (credentials removed).",
        ),
    ] = None,
    proxy: Annotated[
        str | None,
        typer.Option(
            "--proxy",
            metavar="URL",
            envvar=PROXY_ENV,
            help="Send every request through this proxy: http://host:port, or "
            "http://user:password@host:port (otherwise HTTPS_PROXY, HTTP_PROXY, NO_PROXY apply).",
        ),
    ] = None,
    redis_url: Annotated[
        str | None,
        typer.Option(
            "--redis-url",
            metavar="URL",
            envvar=REDIS_URL_ENV,
            help="Share rate limits and one publisher per app with other jobs and hosts through "
            "this Redis: redis://host:port/db, redis://:password@host:port/db, or rediss:// "
            "for TLS.",
        ),
    ] = None,
) -> None:
    """storepush: exit codes are 0 (done), 1 (the store refused or failed), 2 (bad input,
    nothing sent), 130 (Ctrl-C) and 143 (SIGTERM)."""
    ctx.with_resource(scrubbed_streams())
    out = ctx.obj = Output(json_mode=json_mode, verbose=verbose)
    ctx.with_resource(out.logging())
    if record is not None:
        from .._errors import ValidationError
        from .._recording import recording

        try:
            ctx.with_resource(recording(record))
        except ValidationError as exc:
            raise typer.BadParameter(exc.problem, param_hint="--record") from None
    if proxy is not None:
        from .._proxy import ambient_proxy

        ctx.with_resource(ambient_proxy(proxy))  # every session this command makes uses it
    if redis_url is not None:
        from .._redis_url import ambient_redis

        ctx.with_resource(ambient_redis(redis_url))  # and this Redis (checked when sessions start)


def _summary_lines(report: BatchReport) -> list[str]:
    rows = []
    for item in report.items:
        error = (item.error or {}).get("message", "")
        rows.append(
            [
                item.kind,
                item.name,
                item.status,
                f"{item.bytes_sent / 1e6:.1f}",
                str(item.retries),
                str(item.throttled),
                f"{item.seconds:.1f}",
                error[:100],
            ]
        )
    headers = ["kind", "item", "status", "MB", "retries", "429s", "seconds", "error"]
    totals = report.to_json()["totals"]
    plans = [f"{i.name}: {i.detail['would']}" for i in report.items if i.detail.get("would")]
    if plans:
        return [
            *format_table(headers, rows),
            "dry run: nothing was changed; the items would:",
            *plans,
        ]
    return [
        *format_table(headers, rows),
        f"{totals['items'] - totals['failed']}/{totals['items']} done, "
        f"{totals['bytes_sent'] / 1e6:.1f} MB in {totals['seconds']:.1f} s, "
        f"{totals['retries']} retries, {totals['throttled']} throttled",
    ]


@app.command()
def batch(
    ctx: typer.Context,
    manifest: Annotated[Path, typer.Argument(metavar="MANIFEST.toml", help="The batch manifest.")],
    dry_run: Annotated[
        bool, typer.Option(help="Check every item and say what it would do; change nothing.")
    ] = False,
    concurrency: ConcurrencyOpt = None,
    if_draft_exists: IfDraftExistsOpt = None,
    if_busy: IfBusyOpt = None,
    busy_timeout: BusyTimeoutOpt = None,
    max_attempts: MaxAttemptsOpt = None,
    timeout: TimeoutOpt = None,
    deadline: DeadlineOpt = None,
    progress: ProgressOpt = None,
) -> None:
    """Publish many apps and plugin versions at once; a re-run finishes what is left.

    The whole manifest is checked (files parsed, duplicates refused) before the first request.
    """
    out: Output = ctx.obj
    environ = os.environ
    with out.check(MANIFEST):
        from ._manifest import load_manifest

        loaded = load_manifest(manifest)
        run = loaded.run
        workers = resolve(
            CONCURRENCY, flag=concurrency, environ=environ, manifest=run.get("concurrency")
        )
        attempts = resolve(
            MAX_ATTEMPTS,
            flag=max_attempts,
            environ=environ,
            manifest=run.get("max_attempts"),
            default=8,
        )
        seconds = resolve(TIMEOUT, flag=timeout, environ=environ, manifest=run.get("timeout"))
        run_deadline = resolve(
            DEADLINE, flag=deadline, environ=environ, manifest=run.get("deadline")
        )
        mode = choose_mode(
            resolve(PROGRESS, flag=progress, environ=environ, manifest=run.get("progress")),
            stderr_tty=sys.stderr.isatty(),
        )
    out.jsonl = mode is ProgressMode.JSONL
    out.spelling = MANIFEST
    flags = {"if_draft_exists": if_draft_exists, "if_busy": if_busy, "busy_timeout": busy_timeout}
    runs: list[BatchRun] = []

    async def work() -> BatchReport:
        from .._redis_url import manifest_redis_url
        from .._session import Session
        from ._batch import BatchRun
        from ._preflight import preflight

        retry = retry_config(attempts, seconds)
        coordination = manifest_redis_url(loaded.redis_url)  # unless --redis-url or the env
        async with Session(
            retry=retry, max_connections=max(10, workers), coordination=coordination
        ) as session:
            ready = preflight(loaded, session, flags=flags, dry_run=dry_run)
            reporter = make_reporter(
                mode if not dry_run else ProgressMode.OFF,
                sys.stderr,
                batch_total=sum(item.size for item in ready),
                items=len(ready),
            )
            runner = BatchRun(
                ready,
                session,
                concurrency=workers,
                dry_run=dry_run,
                resume_file=loaded.resume_file,
                reporter=reporter,
                on_warning=out.warn,
            )
            runs.append(runner)
            try:
                return await runner.run()
            finally:
                reporter.close()

    report = out.run(
        work,
        spelling=MANIFEST,
        deadline=run_deadline,
        journeys=lambda: list(runs[0].journeys.values()) if runs else [],
        partial=lambda: runs[0].partial() if runs else {},
    )
    out.emit(report.to_json(), lambda: _summary_lines(report))
    if not report.ok:
        raise typer.Exit(EXIT_FAILED)


@app.command()
def demo(
    ctx: typer.Context,
    apps: Annotated[int, typer.Option(min=1, help="Pishkhan apps to publish.")] = 30,
    plugins: Annotated[int, typer.Option(min=0, help="BlueMind plugin versions.")] = 5,
    apk_mib: Annotated[float, typer.Option(min=0.0625, help="Size of each sample APK.")] = 4.0,
    concurrency: Annotated[int, typer.Option(min=1, help="Items in flight at once.")] = 16,
    seed: Annotated[int, typer.Option(help="The fault plan's seed (same seed, same run).")] = 7,
    error_rate: Annotated[float, typer.Option(min=0.0, max=0.5, help="5xx answers.")] = 0.05,
    throttle_rate: Annotated[float, typer.Option(min=0.0, max=0.5, help="429 answers.")] = 0.05,
    drop_rate: Annotated[float, typer.Option(min=0.0, max=0.5, help="Dropped uploads.")] = 0.03,
    acted_fail_rate: Annotated[
        float, typer.Option(min=0.0, max=0.5, help="Writes that act, then answer 5xx.")
    ] = 0.05,
    progress: ProgressOpt = None,
) -> None:
    """Run the whole job locally against the emulator, with faults, and check the result."""
    out: Output = ctx.obj
    with out.check():
        from ._demo import DemoSettings

        mode = choose_mode(
            resolve(PROGRESS, flag=progress, environ=os.environ), stderr_tty=sys.stderr.isatty()
        )
        settings = DemoSettings(
            apps=apps,
            plugins=plugins,
            apk_mib=apk_mib,
            concurrency=concurrency,
            seed=seed,
            error_rate=error_rate,
            throttle_rate=throttle_rate,
            drop_rate=drop_rate,
            acted_fail_rate=acted_fail_rate,
        )
    out.jsonl = mode is ProgressMode.JSONL

    async def work() -> tuple[BatchReport, dict[str, Any]]:
        from ._demo import run_demo

        return await run_demo(settings, mode=mode, on_warning=out.warn)

    report, summary = out.run(work)
    doc = {**report.to_json(), "demo": summary, "ok": report.ok and summary["check"] == "passed"}

    def human() -> list[str]:
        from ._demo import summary_lines

        lines = _summary_lines(report) if not report.ok or summary["problems"] else []
        return [*lines, *summary_lines(doc)]

    out.emit(doc, human)
    if not doc["ok"]:
        raise typer.Exit(EXIT_FAILED)


@app.command(
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    add_help_option=False,
)
def emulator(ctx: typer.Context) -> None:
    """Run the emulator of both marketplaces (see `storepush emulator --help`)."""
    if ctx.args[:1] == ["--version"]:
        from .._version import __version__

        print(f"storepush {__version__}")
        raise typer.Exit()
    from ..emulator.__main__ import main as emulator_main

    raise typer.Exit(emulator_main(ctx.args))


def _hoist_global_flags(argv: list[str]) -> list[str]:
    """Let `--json` and `-v` stand anywhere on the line, not only before the sub-command."""
    if "--" in argv:
        cut = argv.index("--")
        head, tail = argv[:cut], argv[cut:]
    else:
        head, tail = argv, []
    if head and head[0] == "emulator":
        return argv
    flags = [a for a in head if a in _GLOBAL_FLAGS]
    rest = [a for a in head if a not in _GLOBAL_FLAGS]
    return flags + rest + tail


def main(argv: list[str] | None = None) -> None:
    """The console script's entry point."""
    args = sys.argv[1:] if argv is None else argv
    app(args=_hoist_global_flags(args), prog_name="storepush")
