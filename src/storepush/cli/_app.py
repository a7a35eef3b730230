"""The ``storepush`` command: marketplaces as sub-commands, plus batch, demo and emulator."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from .._config import BAZAAR_BASE_URL, BLUEMIND_BASE_URL
from .._errors import ValidationError
from .._proxy import ambient_proxy
from .._recording import recording
from .._redis_url import REDIS_URL_ENV, ambient_redis
from .._version import __version__
from ..emulator._cli import main as emulator_main
from ._batch import BatchReport, run_batch
from ._bazaar import BASE_URL_ENV as BAZAAR_URL_ENV
from ._bazaar import bazaar_app
from ._bluemind import BASE_URL_ENV as BLUEMIND_URL_ENV
from ._bluemind import bluemind_app
from ._demo import DemoSettings, run_demo
from ._manifest import load_manifest
from ._output import EXIT_FAILED, Output

__all__ = ["app", "main"]

app = typer.Typer(
    name="storepush",
    help="Publish Android apps to Cafe Bazaar and add-ons to the BlueMind MarketPlace.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(bazaar_app, name="bazaar")
app.add_typer(bluemind_app, name="bluemind")

PROXY_ENV = "STOREPUSH_PROXY"
_GLOBAL_FLAGS = ("--json", "-v", "--verbose")


def _version(value: bool) -> None:
    if value:
        print(f"storepush {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    json_mode: Annotated[bool, typer.Option("--json", help="One JSON document on stdout.")] = False,
    verbose: Annotated[bool, typer.Option("-v", "--verbose", help="Debug logs on stderr.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
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
    """storepush: exit codes are 0 (done), 1 (the store refused or failed), 2 (bad input)."""
    ctx.obj = Output(json_mode=json_mode, verbose=verbose)
    if record is not None:
        try:
            ctx.with_resource(recording(record))
        except ValidationError as exc:
            raise typer.BadParameter(exc.problem, param_hint="--record") from None
    ctx.with_resource(ambient_proxy(proxy))  # every session this command makes uses it
    ctx.with_resource(ambient_redis(redis_url))  # and this Redis (checked when sessions start)


def _summary_table(report: BatchReport) -> Table:
    table = Table("kind", "item", "status", "MB", "retries", "429s", "seconds", "error")
    for item in report.items:
        error = (item.error or {}).get("message", "")
        table.add_row(
            item.kind,
            item.name,
            ("[green]" if item.ok else "[red]") + item.status,
            f"{item.bytes_sent / 1e6:.1f}",
            str(item.retries),
            str(item.throttled),
            f"{item.seconds:.1f}",
            error[:80],
        )
    return table


@app.command()
def batch(
    ctx: typer.Context,
    manifest: Annotated[Path, typer.Argument(metavar="MANIFEST.toml")],
    concurrency: Annotated[int, typer.Option(help="Items in flight at once.")] = 8,
    dry_run: Annotated[bool, typer.Option(help="Check every item; change nothing.")] = False,
) -> None:
    """Publish many apps and plugin versions at once; re-runs finish what is left."""
    out: Output = ctx.obj

    async def work() -> BatchReport:
        loaded = load_manifest(manifest)
        with out.item_progress("items", len(loaded.items)) as tick:
            return await run_batch(
                loaded,
                concurrency=concurrency,
                dry_run=dry_run,
                bazaar_url=os.environ.get(BAZAAR_URL_ENV) or BAZAAR_BASE_URL,
                bluemind_url=os.environ.get(BLUEMIND_URL_ENV) or BLUEMIND_BASE_URL,
                on_item_done=tick,
            )

    report = out.run(work)

    def human(console: Console) -> None:
        console.print(_summary_table(report))
        totals = report.to_json()["totals"]
        console.print(
            f"{totals['items'] - totals['failed']}/{totals['items']} done, "
            f"{totals['bytes_sent'] / 1e6:.1f} MB in {totals['seconds']:.1f}s, "
            f"{totals['retries']} retries, {totals['throttled']} throttled"
        )

    out.emit(report.to_json(), human)
    if not report.ok:
        raise typer.Exit(EXIT_FAILED)


@app.command()
def demo(
    ctx: typer.Context,
    apps: Annotated[int, typer.Option(min=1, help="Pishkhan apps to publish.")] = 30,
    plugins: Annotated[int, typer.Option(min=0, help="BlueMind plugin versions.")] = 5,
    apk_mib: Annotated[float, typer.Option(min=0.0625, help="Size of each sample APK.")] = 4.0,
    concurrency: Annotated[int, typer.Option(min=1)] = 16,
    seed: int = 7,
    error_rate: Annotated[float, typer.Option(min=0.0, max=0.5)] = 0.05,
    throttle_rate: Annotated[float, typer.Option(min=0.0, max=0.5)] = 0.05,
    drop_rate: Annotated[float, typer.Option(min=0.0, max=0.5)] = 0.03,
    acted_fail_rate: Annotated[float, typer.Option(min=0.0, max=0.5)] = 0.05,
) -> None:
    """Run the whole job locally against the emulator, with faults, and check the result."""
    out: Output = ctx.obj
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

    async def work() -> tuple[BatchReport, dict[str, Any]]:
        with out.item_progress("publishing", apps + plugins) as tick:
            return await run_demo(settings, on_item_done=tick)

    report, summary = out.run(work)
    doc = {**report.to_json(), "demo": summary, "ok": report.ok and summary["check"] == "passed"}

    def human(console: Console) -> None:
        if not report.ok or summary["problems"]:
            console.print(_summary_table(report))
        totals = doc["totals"]
        seconds = max(totals["seconds"], 1e-9)
        console.print(
            f"[bold]storepush demo[/]: {summary['apps']} apps and {summary['plugins']} plugins"
        )
        megabytes = totals["bytes_sent"] / 1e6
        console.print(
            f"  items {totals['items'] - totals['failed']}/{totals['items']} done, "
            f"{megabytes:.1f} MB at {megabytes / seconds:.1f} MB/s, {totals['seconds']:.1f}s"
        )
        console.print(
            f"  {totals['retries']} retries, {summary['throttled_429']} 429s absorbed, "
            f"faults injected: {summary['faults_injected']}"
        )
        verdict = "[green]passed[/]" if doc["ok"] else "[red]failed[/]"
        console.print(f"  exactly-once check: {verdict}")
        for problem in summary["problems"]:
            console.print(f"  - {problem}")

    out.emit(doc, human)
    if not doc["ok"]:
        raise typer.Exit(EXIT_FAILED)


@app.command(
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    add_help_option=False,
)
def emulator(ctx: typer.Context) -> None:
    """Run the emulator of both marketplaces (see `storepush emulator --help`)."""
    raise typer.Exit(emulator_main(ctx.args))


def _hoist_global_flags(argv: list[str]) -> list[str]:
    """Let ``--json`` and ``-v`` stand anywhere on the line, not only before the sub-command."""
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


def main() -> None:
    """The console script's entry point."""
    app(args=_hoist_global_flags(sys.argv[1:]), prog_name="storepush")
