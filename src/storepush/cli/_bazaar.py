"""``storepush bazaar ...``: publish, status, discard, check."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import msgspec
import typer
from rich.console import Console

from .._config import BAZAAR_BASE_URL
from .._errors import ValidationError
from ..bazaar import Architecture, BazaarClient, Release, parse_apks
from ..bazaar._client import check_policy
from ._output import Output, read_text_arg, secret_from_env

__all__ = ["bazaar_app", "split_apk_arg"]

bazaar_app = typer.Typer(help="Cafe Bazaar (Pishkhan): publish releases and read their state.")

TOKEN_ENV = "STOREPUSH_BAZAAR_TOKEN"  # noqa: S105 - a variable name
BASE_URL_ENV = "STOREPUSH_BAZAAR_BASE_URL"
_ARCHS = {a.value for a in Architecture}

BaseUrl = Annotated[
    str | None,
    typer.Option("--base-url", help=f"Pishkhan base URL (env {BASE_URL_ENV}).", show_default=False),
]
TokenEnv = Annotated[
    str, typer.Option("--token-env", help="Environment variable holding the app's token.")
]
Insecure = Annotated[
    bool, typer.Option("--allow-insecure-http", help="Allow http:// to a non-loopback host.")
]


def split_apk_arg(value: str) -> tuple[str, Architecture]:
    """``PATH[:ARCH]``: the architecture only when the suffix is one (paths may hold ':')."""
    path, sep, arch = value.rpartition(":")
    if sep and arch in _ARCHS:
        return path, Architecture(arch)
    if sep and arch and "/" not in arch and "." not in arch and "\\" not in arch:
        raise ValidationError(
            "APK", f"{arch!r} is not an architecture", f"use one of {', '.join(sorted(_ARCHS))}"
        )
    return value, Architecture.ALL


def client_for(token_env: str, base_url: str | None, insecure: bool) -> BazaarClient:
    return BazaarClient(
        secret_from_env(token_env, field="token"),
        base_url=base_url or os.environ.get(BASE_URL_ENV) or BAZAAR_BASE_URL,
        allow_insecure_http=insecure,
    )


def release_doc(release: Release | None) -> dict[str, Any] | None:
    return None if release is None else msgspec.to_builtins(release)


def describe(release: Release | None) -> str:
    if release is None:
        return "none"
    codes = ", ".join(str(p.version_code) for p in release.packages) or "no package"
    return f"created {release.creation_date}, version codes {codes}"


@bazaar_app.command()
def publish(
    ctx: typer.Context,
    apks: Annotated[list[str] | None, typer.Argument(metavar="APK[:ARCH]...")] = None,
    aab: Annotated[
        Path | None, typer.Option("--aab", help="An app bundle instead of APKs.")
    ] = None,
    signer_bin: Annotated[Path | None, typer.Option("--bin", help="The .bin for --aab.")] = None,
    changelog_en: Annotated[str | None, typer.Option(help="TEXT or @FILE.")] = None,
    changelog_fa: Annotated[str | None, typer.Option(help="TEXT or @FILE.")] = None,
    developer_note: Annotated[str, typer.Option(help="A note for the reviewers.")] = "",
    rollout: Annotated[int, typer.Option(help="Staged rollout percentage, 1..100.")] = 100,
    auto_publish: Annotated[bool, typer.Option(help="Publish once the review accepts it.")] = False,
    if_draft_exists: Annotated[str, typer.Option(help="fail, reuse or replace.")] = "fail",
    wait: Annotated[bool, typer.Option(help="Wait until the release is published.")] = False,
    wait_deadline: Annotated[float, typer.Option(help="Seconds --wait may take.")] = 3600.0,
    dry_run: Annotated[bool, typer.Option(help="Check everything; change nothing.")] = False,
    base_url: BaseUrl = None,
    token_env: TokenEnv = TOKEN_ENV,
    allow_insecure_http: Insecure = False,
) -> None:
    """Publish a release exactly once: create, upload each APK (or the bundle), commit."""
    out: Output = ctx.obj

    async def work() -> dict[str, Any]:
        local = parse_apks([split_apk_arg(a) for a in (apks or [])]) if apks else []
        notes_en = read_text_arg(changelog_en, field="--changelog-en")
        notes_fa = read_text_arg(changelog_fa, field="--changelog-fa")
        total = sum(a.size for a in local)
        if aab is not None and aab.is_file():
            total += aab.stat().st_size
        async with client_for(token_env, base_url, allow_insecure_http) as client:
            common: dict[str, Any] = {
                "aab": aab,
                "signer_bin": signer_bin,
                "developer_note": developer_note,
                "staged_rollout_percentage": rollout,
                "auto_publish": auto_publish,
                "if_draft_exists": check_policy(if_draft_exists),
                "changelog_en": notes_en,
                "changelog_fa": notes_fa,
            }
            if dry_run:
                plan = await client.publish(local, dry_run=True, **common)
                return {"ok": True, **plan.to_json()}
            with out.upload_progress("uploading", total) as progress:
                result = await client.publish(local, progress=progress, **common)
            doc = {"ok": True, **result.to_json()}
            if wait:
                published = await client.wait_for_publication(result.sha1s, deadline=wait_deadline)
                doc["published"] = release_doc(published)
            return doc

    doc = out.run(work)

    def human(console: Console) -> None:
        if doc["dry_run"]:
            console.print(f"dry run: inputs are valid; the publish would {doc['action']}")
        elif doc["already_committed"]:
            console.print("already committed: this release was published before; nothing sent")
        else:
            codes = ", ".join(str(p["version_code"]) for p in doc["packages"])
            console.print(
                f"committed release with version codes {codes} "
                f"({doc['bytes_sent'] / 1e6:.1f} MB in {doc['seconds']:.1f}s, "
                f"{doc['retries']} retries, {doc['throttled']} throttled)"
            )
        if doc.get("published"):
            console.print("published")

    out.emit(doc, human)


@bazaar_app.command()
def status(
    ctx: typer.Context,
    base_url: BaseUrl = None,
    token_env: TokenEnv = TOKEN_ENV,
    allow_insecure_http: Insecure = False,
) -> None:
    """Show the last published, committed and uncommitted releases."""
    out: Output = ctx.obj

    async def work() -> dict[str, Any]:
        async with client_for(token_env, base_url, allow_insecure_http) as client:
            return {
                "ok": True,
                "published": release_doc(await client.last_published()),
                "committed": release_doc(await client.last_committed()),
                "uncommitted": release_doc(await client.last_uncommitted()),
            }

    doc = out.run(work)

    def human(console: Console) -> None:
        for key in ("published", "committed", "uncommitted"):
            release = msgspec.convert(doc[key], Release) if doc[key] else None
            console.print(f"{key:>12}: {describe(release)}")

    out.emit(doc, human)


@bazaar_app.command()
def discard(
    ctx: typer.Context,
    base_url: BaseUrl = None,
    token_env: TokenEnv = TOKEN_ENV,
    allow_insecure_http: Insecure = False,
) -> None:
    """Delete the uncommitted release (the draft), if there is one."""
    out: Output = ctx.obj

    async def work() -> dict[str, Any]:
        async with client_for(token_env, base_url, allow_insecure_http) as client:
            draft = await client.last_uncommitted()
            if draft is not None:
                await client.delete_release()
            return {"ok": True, "deleted": release_doc(draft)}

    doc = out.run(work)
    out.emit(
        doc,
        lambda c: c.print("deleted the draft" if doc["deleted"] else "there was no draft"),
    )


@bazaar_app.command()
def check(
    ctx: typer.Context,
    base_url: BaseUrl = None,
    token_env: TokenEnv = TOKEN_ENV,
    allow_insecure_http: Insecure = False,
) -> None:
    """Check the token with a read-only call, and explain a refusal."""
    out: Output = ctx.obj

    async def work() -> dict[str, Any]:
        async with client_for(token_env, base_url, allow_insecure_http) as client:
            report = await client.check_access()
        return {"ok": report.ok, "status": report.status, "explanation": report.explanation}

    doc = out.run(work)
    out.emit(doc, lambda c: c.print(("ok: " if doc["ok"] else "refused: ") + doc["explanation"]))
    if not doc["ok"]:
        raise typer.Exit(1)
