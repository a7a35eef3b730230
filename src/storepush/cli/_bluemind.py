"""`storepush bluemind ...`: plugins, plugin, create, release.

`release` adds a version exactly once: a re-run reports it as already published, a listed
version with another package is refused (exit 1), and a listed version whose stored package
the MarketPlace does not show is reported with a warning, never as a silent success.
`--create-from plugin.toml` creates the plugin when it is missing; the file's `name` may be
left out (it is `--plugin`). The marketplace packages are imported inside the commands.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from .._events import Event
from ._inputs import read_text_arg, secret_from_env
from ._interrupts import Journey
from ._options import (
    DeadlineOpt,
    InsecureOpt,
    MaxAttemptsOpt,
    ProgressOpt,
    TimeoutOpt,
    VersionOpt,
    base_url_option,
    token_env_option,
)
from ._output import Output, format_table
from ._progress import choose_mode, make_reporter
from ._settings import (
    DEADLINE,
    MAX_ATTEMPTS,
    PROGRESS,
    TIMEOUT,
    ProgressMode,
    resolve,
    retry_config,
)
from ._spelling import Spelling

if TYPE_CHECKING:
    from ..bluemind import BlueMindClient, Plugin

__all__ = ["bluemind_app"]

bluemind_app = typer.Typer(
    help="BlueMind MarketPlace: plugins and their versions.", no_args_is_help=True
)

KEY_ENV = "STOREPUSH_BLUEMIND_API_KEY"
BASE_URL_ENV = "STOREPUSH_BLUEMIND_BASE_URL"

BaseUrl = Annotated[str | None, base_url_option("MarketPlace", BASE_URL_ENV)]
TokenEnv = Annotated[str, token_env_option(KEY_ENV, "BlueMind API key")]


@bluemind_app.callback()
def group(version: VersionOpt = False) -> None:
    """BlueMind MarketPlace: plugins and their versions."""


def _client(
    token_env: str,
    base_url: str | None,
    insecure: bool,
    max_attempts: int | None,
    timeout: float | None,
) -> BlueMindClient:
    from ..bluemind import BlueMindClient

    environ = os.environ
    return BlueMindClient(
        secret_from_env(token_env, field=token_env),
        base_url=base_url,  # None: the library reads STOREPUSH_BLUEMIND_BASE_URL, then its default
        allow_insecure_http=insecure,
        retry=retry_config(
            resolve(MAX_ATTEMPTS, flag=max_attempts, environ=environ),
            resolve(TIMEOUT, flag=timeout, environ=environ),
        ),
    )


def _plugin_doc(plugin: Plugin | None) -> dict[str, Any] | None:
    if plugin is None:
        return None
    return plugin.raw or {"id": plugin.id, "name": plugin.name}


def _prepare(
    ctx: typer.Context,
    base_url: str | None,
    token_env: str,
    insecure: bool,
    max_attempts: int | None,
    timeout: float | None,
    deadline: float | None,
    spelling: Spelling | None = None,
) -> tuple[Output, BlueMindClient, float | None]:
    out: Output = ctx.obj
    with out.check(spelling or Spelling()):
        client = _client(token_env, base_url, insecure, max_attempts, timeout)
        run_deadline = resolve(DEADLINE, flag=deadline, environ=os.environ)
    return out, client, run_deadline


@bluemind_app.command()
def plugins(
    ctx: typer.Context,
    base_url: BaseUrl = None,
    token_env: TokenEnv = KEY_ENV,
    allow_insecure_http: InsecureOpt = False,
    max_attempts: MaxAttemptsOpt = None,
    timeout: TimeoutOpt = None,
    deadline: DeadlineOpt = None,
) -> None:
    """List your plugins."""
    out, client, run_deadline = _prepare(
        ctx, base_url, token_env, allow_insecure_http, max_attempts, timeout, deadline
    )

    async def work() -> list[Plugin]:
        async with client:
            return await client.list_plugins()

    found = out.run(work, deadline=run_deadline)
    rows = [[str(p.id), p.name, str(p.current_version or "-"), str(p.published)] for p in found]
    out.emit(
        {"ok": True, "plugins": [_plugin_doc(p) for p in found]},
        lambda: format_table(["id", "name", "current version", "published"], rows),
    )


@bluemind_app.command()
def plugin(
    ctx: typer.Context,
    plugin_id: Annotated[str, typer.Argument(metavar="ID", help="The plugin's id.")],
    base_url: BaseUrl = None,
    token_env: TokenEnv = KEY_ENV,
    allow_insecure_http: InsecureOpt = False,
    max_attempts: MaxAttemptsOpt = None,
    timeout: TimeoutOpt = None,
    deadline: DeadlineOpt = None,
) -> None:
    """Show one plugin and its versions."""
    out, client, run_deadline = _prepare(
        ctx, base_url, token_env, allow_insecure_http, max_attempts, timeout, deadline
    )

    async def work() -> Plugin:
        async with client:
            return await client.get_plugin(plugin_id)

    found = out.run(work, deadline=run_deadline)
    versions = ", ".join(v.label for v in found.versions) or "none"
    out.emit(
        {"ok": True, "plugin": _plugin_doc(found)},
        lambda: [f"{found.id}: {found.name} (versions: {versions})"],
    )


@bluemind_app.command()
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Option("--name", metavar="TEXT", help="The plugin's name.")],
    shortdesc: Annotated[
        str, typer.Option("--shortdesc", metavar="TEXT", help="A one-line description.")
    ],
    description: Annotated[
        str, typer.Option("--description", metavar="TEXT", help="TEXT or @FILE.")
    ],
    license: Annotated[
        str, typer.Option("--license", metavar="TEXT", help="Its licence, e.g. Apache-2.0.")
    ],
    instructions: Annotated[
        str,
        typer.Option(
            "--instructions", metavar="TEXT", help="Installation instructions: TEXT or @FILE."
        ),
    ],
    home_url: Annotated[
        str | None, typer.Option("--home-url", metavar="TEXT", help="An https:// address.")
    ] = None,
    thumbnail: Annotated[
        Path | None,
        typer.Option("--thumbnail", metavar="FILE", help="The logo (PNG, JPEG, GIF or WebP)."),
    ] = None,
    screenshot: Annotated[
        list[Path] | None,
        typer.Option("--screenshot", metavar="FILE", help="A screenshot; repeat for more."),
    ] = None,
    base_url: BaseUrl = None,
    token_env: TokenEnv = KEY_ENV,
    allow_insecure_http: InsecureOpt = False,
    max_attempts: MaxAttemptsOpt = None,
    timeout: TimeoutOpt = None,
    deadline: DeadlineOpt = None,
) -> None:
    """Create a plugin (the thumbnail and screenshots are streamed from disk)."""
    out, client, run_deadline = _prepare(
        ctx, base_url, token_env, allow_insecure_http, max_attempts, timeout, deadline
    )
    with out.check():
        texts = (
            read_text_arg(description, field="--description"),
            read_text_arg(instructions, field="--instructions"),
        )

    async def work() -> Plugin | None:
        async with client:
            return await client.create_plugin(
                name,
                shortdesc,
                texts[0],
                license,
                texts[1],
                home_url=home_url,
                thumbnail=thumbnail,
                screenshots=screenshot or [],
            )

    created = out.run(work, deadline=run_deadline)
    out.emit({"ok": True, "plugin": _plugin_doc(created)}, lambda: [f"created the plugin {name!r}"])


def _spec_spelling(create_from: Path | None) -> Spelling:
    if create_from is None:
        return Spelling()
    keys = ("name", "shortdesc", "description", "license", "installation_instructions")
    where = {k: f"{create_from.name}: {k}" for k in (*keys, "home_url", "thumbnail")}
    return Spelling(overrides={**where, "screenshots": f"{create_from.name}: screenshots"})


@bluemind_app.command()
def release(
    ctx: typer.Context,
    package: Annotated[
        Path, typer.Argument(metavar="PACKAGE", help="The .jar (or other package) to upload.")
    ],
    plugin_name: Annotated[
        str, typer.Option("--plugin", metavar="TEXT", help="The plugin's name.")
    ],
    version: Annotated[
        str, typer.Option("--version", metavar="TEXT", help="The version to add, e.g. 1.2.0.")
    ],
    target_bm_versions: Annotated[
        str,
        typer.Option(
            "--target-bm-versions", metavar="TEXT", help="BlueMind versions it runs on, e.g. 4.x."
        ),
    ],
    release_notes: Annotated[
        str, typer.Option("--release-notes", metavar="TEXT", help="TEXT or @FILE.")
    ],
    create_from: Annotated[
        Path | None,
        typer.Option(
            "--create-from",
            metavar="PLUGIN.toml",
            help="A plugin spec, used to create the plugin when it is missing (its name may "
            "be left out: it is --plugin).",
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option(help="Check everything and say what the release would do.")
    ] = False,
    base_url: BaseUrl = None,
    token_env: TokenEnv = KEY_ENV,
    allow_insecure_http: InsecureOpt = False,
    max_attempts: MaxAttemptsOpt = None,
    timeout: TimeoutOpt = None,
    deadline: DeadlineOpt = None,
    progress: ProgressOpt = None,
) -> None:
    """Add a version exactly once (creating the plugin from --create-from when missing)."""
    spelling = _spec_spelling(create_from)
    out, client, run_deadline = _prepare(
        ctx, base_url, token_env, allow_insecure_http, max_attempts, timeout, deadline, spelling
    )
    with out.check(spelling):
        from ..bluemind import check_package, check_spec, check_version
        from ._plugin_spec import load_plugin_spec

        spec = None if create_from is None else load_plugin_spec(create_from, plugin=plugin_name)
        notes = read_text_arg(release_notes, field="--release-notes")
        check_version(plugin_name, version, target_bm_versions, notes)
        check_package(package)
        if spec is not None:
            check_spec(spec)
        mode = choose_mode(
            resolve(PROGRESS, flag=progress, environ=os.environ), stderr_tty=sys.stderr.isatty()
        )
    out.jsonl = mode is ProgressMode.JSONL
    out.spelling = spelling
    journey = Journey("release")

    async def work() -> dict[str, Any]:
        reporter = make_reporter(mode if not dry_run else ProgressMode.OFF, sys.stderr)
        told = False

        def on_progress(sent: int, total: int) -> None:
            nonlocal told
            if not told:
                told = True
                text = f"uploading {package.name}"
                journey.record("committing", text)
                reporter.event(Event("uploading", text, package.name, 1, 1))
            reporter.upload(sent, total)

        try:
            async with client:
                if dry_run:
                    from ._plans import bluemind_plan

                    return {
                        "ok": True,
                        **await bluemind_plan(
                            client,
                            plugin=plugin_name,
                            version=version,
                            package=package,
                            create=spec,
                        ),
                    }
                text = f"publishing {plugin_name} {version}"
                journey.record("checking", text)
                reporter.event(Event("checking", text))
                result = await client.publish_version(
                    plugin_name,
                    version,
                    target_bm_versions,
                    notes,
                    package,
                    create=spec,
                    progress=on_progress,
                )
                return {"ok": True, **result.to_json()}
        finally:
            reporter.close()

    doc = out.run(work, spelling=spelling, deadline=run_deadline, journeys=lambda: [journey])
    for warning in doc.get("warnings") or []:
        out.warn(warning)

    def human() -> list[str]:
        if doc.get("dry_run"):
            return [f"dry run: the inputs are valid; the release would {doc['action']}"]
        if doc["already_published"]:
            return [f"{plugin_name} {version} was already published; nothing was sent"]
        created = " (the plugin was created)" if doc["created_plugin"] else ""
        return [f"published {plugin_name} {version}{created}"]

    out.emit(doc, human)
