"""`storepush bazaar ...`: publish, status, discard, check.

`publish` checks everything it was given (files, texts, numbers, settings) before the first
request and exits 2 on bad input; then it publishes exactly once: a re-run of a publish that
landed exits 0 and says so (warning when the changelog or rollout asked for differs from what
was committed), and a run killed half-way is resumed by the same command, with no extra flag.
The marketplace packages are imported inside the commands, so that `--help` stays fast.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from .._errors import ValidationError
from .._events import Event
from ._inputs import read_text_arg, secret_from_env, split_apk_arg
from ._interrupts import Journey
from ._options import (
    BusyTimeoutOpt,
    DeadlineOpt,
    IfBusyOpt,
    IfDraftExistsOpt,
    InsecureOpt,
    MaxAttemptsOpt,
    PollIntervalOpt,
    ProgressOpt,
    TimeoutOpt,
    VersionOpt,
    WaitDeadlineOpt,
    base_url_option,
    token_env_option,
)
from ._output import Output
from ._progress import choose_mode, make_reporter
from ._settings import (
    BUSY_TIMEOUT,
    DEADLINE,
    IF_BUSY,
    IF_DRAFT_EXISTS,
    MAX_ATTEMPTS,
    POLL_INTERVAL,
    PROGRESS,
    TIMEOUT,
    WAIT_DEADLINE,
    ProgressMode,
    busy_policy,
    draft_policy,
    resolve,
    retry_config,
)
from ._spelling import Spelling

if TYPE_CHECKING:
    from ..bazaar import BazaarClient, Release

__all__ = ["bazaar_app"]

bazaar_app = typer.Typer(
    help="Cafe Bazaar (Pishkhan): publish releases and read their state.", no_args_is_help=True
)

TOKEN_ENV = "STOREPUSH_BAZAAR_TOKEN"  # noqa: S105 - a variable name
BASE_URL_ENV = "STOREPUSH_BAZAAR_BASE_URL"

BaseUrl = Annotated[str | None, base_url_option("Pishkhan", BASE_URL_ENV)]
TokenEnv = Annotated[str, token_env_option(TOKEN_ENV, "app's Pishkhan token")]


@bazaar_app.callback()
def group(version: VersionOpt = False) -> None:
    """Cafe Bazaar (Pishkhan): publish releases and read their state."""


def _client(
    token_env: str,
    base_url: str | None,
    insecure: bool,
    max_attempts: int | None,
    timeout: float | None,
) -> BazaarClient:
    from ..bazaar import BazaarClient

    environ = os.environ
    attempts = resolve(MAX_ATTEMPTS, flag=max_attempts, environ=environ)
    seconds = resolve(TIMEOUT, flag=timeout, environ=environ)
    return BazaarClient(
        secret_from_env(token_env, field=token_env),
        base_url=base_url,  # None: the library reads STOREPUSH_BAZAAR_BASE_URL, then its default
        allow_insecure_http=insecure,
        retry=retry_config(attempts, seconds),
    )


def _release_doc(release: Release | None) -> dict[str, Any] | None:
    import msgspec

    return None if release is None else msgspec.to_builtins(release)


def _describe(doc: dict[str, Any] | None) -> str:
    if not doc:
        return "none"
    codes = ", ".join(str(p.get("version_code")) for p in doc.get("packages") or [])
    return f"created {doc.get('creation_date')}, version codes {codes or 'none (empty)'}"


@bazaar_app.command()
def publish(
    ctx: typer.Context,
    apks: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="APK[:ARCH]",
            help="APKs, each optionally with :all, :armeabi-v7a or :arm64-v8a.",
            show_default=False,
        ),
    ] = None,
    aab: Annotated[
        Path | None, typer.Option("--aab", metavar="FILE", help="An app bundle instead of APKs.")
    ] = None,
    signer_bin: Annotated[
        Path | None,
        typer.Option(
            "--bin", metavar="FILE", help="The .bin Bazaar's bundle signer made for --aab."
        ),
    ] = None,
    changelog_en: Annotated[
        str | None, typer.Option(metavar="TEXT", help="English release notes: TEXT or @FILE.")
    ] = None,
    changelog_fa: Annotated[
        str | None, typer.Option(metavar="TEXT", help="Persian release notes: TEXT or @FILE.")
    ] = None,
    developer_note: Annotated[
        str | None, typer.Option(metavar="TEXT", help="A note for the reviewers: TEXT or @FILE.")
    ] = None,
    rollout: Annotated[
        int, typer.Option(metavar="PERCENT", help="Staged rollout percentage, 1 to 100.")
    ] = 100,
    auto_publish: Annotated[bool, typer.Option(help="Publish once the review accepts it.")] = False,
    wait: Annotated[bool, typer.Option(help="Wait until the release is published.")] = False,
    dry_run: Annotated[
        bool,
        typer.Option(help="Check everything and say what the publish would do; change nothing."),
    ] = False,
    base_url: BaseUrl = None,
    token_env: TokenEnv = TOKEN_ENV,
    allow_insecure_http: InsecureOpt = False,
    if_draft_exists: IfDraftExistsOpt = None,
    if_busy: IfBusyOpt = None,
    busy_timeout: BusyTimeoutOpt = None,
    wait_deadline: WaitDeadlineOpt = None,
    poll_interval: PollIntervalOpt = None,
    max_attempts: MaxAttemptsOpt = None,
    timeout: TimeoutOpt = None,
    deadline: DeadlineOpt = None,
    progress: ProgressOpt = None,
) -> None:
    """Publish a release exactly once: create (or resume) the draft, upload, commit.

    A re-run after a kill or a cancelled CI job resumes the draft it left; a re-run after a
    publish that landed reports it as already committed and exits 0.
    """
    out: Output = ctx.obj
    typed = list(apks or [])
    spelling = Spelling("flags", apks=[a.rpartition(":")[0] or a for a in typed])
    environ = os.environ
    with out.check(spelling):
        from ..bazaar import check_commit_fields, parse_apks, parse_bundle

        pairs = [split_apk_arg(a) for a in typed]
        spelling = Spelling("flags", apks=[p for p, _ in pairs])
        if pairs and (aab is not None or signer_bin is not None):
            raise ValidationError("APK", "give APKs or --aab with --bin, not both")
        if not pairs and aab is None and signer_bin is None:
            raise ValidationError("APK", "nothing to publish", "name the APKs, or --aab and --bin")
        local = parse_apks(pairs) if pairs else []
        total = sum(a.size for a in local)
        if not pairs:
            bundle = parse_bundle(aab, signer_bin)
            total = bundle.aab_identity.size + bundle.signer_identity.size
        texts = {
            "changelog_en": read_text_arg(changelog_en, field="--changelog-en"),
            "changelog_fa": read_text_arg(changelog_fa, field="--changelog-fa"),
            "developer_note": read_text_arg(developer_note, field="--developer-note"),
        }
        fields = check_commit_fields(
            **texts, staged_rollout_percentage=rollout, auto_publish=auto_publish
        )
        policy = draft_policy(resolve(IF_DRAFT_EXISTS, flag=if_draft_exists, environ=environ))
        busy = busy_policy(resolve(IF_BUSY, flag=if_busy, environ=environ))
        busy_wait = resolve(BUSY_TIMEOUT, flag=busy_timeout, environ=environ)
        wait_for = resolve(WAIT_DEADLINE, flag=wait_deadline, environ=environ)
        interval = resolve(POLL_INTERVAL, flag=poll_interval, environ=environ)
        run_deadline = resolve(DEADLINE, flag=deadline, environ=environ)
        mode = choose_mode(
            resolve(PROGRESS, flag=progress, environ=environ), stderr_tty=sys.stderr.isatty()
        )
        client = _client(token_env, base_url, allow_insecure_http, max_attempts, timeout)
    out.jsonl = mode is ProgressMode.JSONL
    out.spelling = spelling
    journey = Journey("publish")

    async def work() -> dict[str, Any]:
        reporter = make_reporter(mode if not dry_run else ProgressMode.OFF, sys.stderr)

        def on_event(event: Event) -> None:
            journey.record(event.phase, event.message)
            reporter.event(event)

        common: dict[str, Any] = {
            "aab": aab,
            "signer_bin": signer_bin,
            "if_draft_exists": policy,
            **fields.to_json(),
        }
        try:
            async with client:
                if dry_run:
                    plan = await client.publish(local, dry_run=True, **common)
                    return {"ok": True, **plan.to_json()}
                result = await client.publish(
                    local,
                    if_busy=busy,
                    busy_timeout=busy_wait,
                    progress=reporter.upload,
                    on_event=on_event,
                    **common,
                )
                doc = {"ok": True, **result.to_json()}
                if wait:

                    def waiting(seconds: float) -> None:
                        on_event(Event("waiting-for-review", "waiting for review", seconds=seconds))

                    published = await client.wait_for_publication(
                        result.sha1s, deadline=wait_for, interval=interval, on_wait=waiting
                    )
                    doc["published"] = _release_doc(published)
                return doc
        finally:
            reporter.close()

    doc = out.run(work, spelling=spelling, deadline=run_deadline, journeys=lambda: [journey])
    for warning in doc.get("warnings") or []:
        out.warn(warning)
    out.emit(doc, lambda: _publish_lines(doc, files=len(local) or 2, size=total))


def _publish_lines(doc: dict[str, Any], *, files: int, size: int) -> list[str]:
    from ._plans import describe_plan

    if doc.get("dry_run"):
        would = describe_plan(doc, files=files, size=size)
        return [f"dry run: the inputs are valid; the publish would {would}"]
    codes = ", ".join(str(p["version_code"]) for p in doc.get("packages") or [])
    if doc.get("already_committed"):
        who = "by another run while this one ran" if doc.get("committed_by_other") else "before"
        lines = [f"already committed {who}: version codes {codes}; nothing was published twice"]
    else:
        how = {
            "created": "",
            "resumed": " (resumed the draft)",
            "adopted": " (adopted the draft an interrupted run left)",
            "reused": " (added to the existing draft)",
            "replaced": " (replaced the existing draft)",
        }.get(doc.get("draft") or "", "")
        lines = [
            f"committed the release with version codes {codes}{how}: "
            f"{doc['bytes_sent'] / 1e6:.1f} MB in {doc['seconds']:.1f} s, "
            f"{doc['retries']} retries, {doc['throttled']} throttled"
        ]
    if doc.get("published"):
        lines.append("published")
    return lines


def _reader_options(
    ctx: typer.Context,
    base_url: str | None,
    token_env: str,
    insecure: bool,
    max_attempts: int | None,
    timeout: float | None,
    deadline: float | None,
) -> tuple[Output, BazaarClient, float | None]:
    out: Output = ctx.obj
    with out.check():
        client = _client(token_env, base_url, insecure, max_attempts, timeout)
        run_deadline = resolve(DEADLINE, flag=deadline, environ=os.environ)
    return out, client, run_deadline


@bazaar_app.command()
def status(
    ctx: typer.Context,
    base_url: BaseUrl = None,
    token_env: TokenEnv = TOKEN_ENV,
    allow_insecure_http: InsecureOpt = False,
    max_attempts: MaxAttemptsOpt = None,
    timeout: TimeoutOpt = None,
    deadline: DeadlineOpt = None,
) -> None:
    """Show the last published, committed and uncommitted releases."""
    out, client, run_deadline = _reader_options(
        ctx, base_url, token_env, allow_insecure_http, max_attempts, timeout, deadline
    )

    async def work() -> dict[str, Any]:
        async with client:
            return {
                "ok": True,
                "published": _release_doc(await client.last_published()),
                "committed": _release_doc(await client.last_committed()),
                "uncommitted": _release_doc(await client.last_uncommitted()),
            }

    doc = out.run(work, deadline=run_deadline)
    out.emit(
        doc,
        lambda: [
            f"{k:>12}: {_describe(doc[k])}" for k in ("published", "committed", "uncommitted")
        ],
    )


@bazaar_app.command()
def discard(
    ctx: typer.Context,
    base_url: BaseUrl = None,
    token_env: TokenEnv = TOKEN_ENV,
    allow_insecure_http: InsecureOpt = False,
    max_attempts: MaxAttemptsOpt = None,
    timeout: TimeoutOpt = None,
    deadline: DeadlineOpt = None,
) -> None:
    """Delete the uncommitted release (the draft), if there is one."""
    out, client, run_deadline = _reader_options(
        ctx, base_url, token_env, allow_insecure_http, max_attempts, timeout, deadline
    )

    async def work() -> dict[str, Any]:
        async with client:
            draft = await client.last_uncommitted()
            if draft is not None:
                await client.delete_release()
            return {"ok": True, "deleted": _release_doc(draft)}

    doc = out.run(work, deadline=run_deadline)
    out.emit(doc, lambda: ["deleted the draft" if doc["deleted"] else "there was no draft"])


@bazaar_app.command()
def check(
    ctx: typer.Context,
    base_url: BaseUrl = None,
    token_env: TokenEnv = TOKEN_ENV,
    allow_insecure_http: InsecureOpt = False,
    max_attempts: MaxAttemptsOpt = None,
    timeout: TimeoutOpt = None,
    deadline: DeadlineOpt = None,
) -> None:
    """Check the token with a read-only call, and explain a refusal (exit 1)."""
    out, client, run_deadline = _reader_options(
        ctx, base_url, token_env, allow_insecure_http, max_attempts, timeout, deadline
    )

    async def work() -> dict[str, Any]:
        async with client:
            report = await client.check_access()
        return {"ok": report.ok, "status": report.status, "explanation": report.explanation}

    doc = out.run(work, deadline=run_deadline)
    out.emit(doc, lambda: [("ok: " if doc["ok"] else "refused: ") + doc["explanation"]])
    if not doc["ok"]:
        raise typer.Exit(1)
