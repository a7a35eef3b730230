"""The command line's docs, generated from the code they describe (run by the docs build).

`docs/hooks/storepush_docs.py` calls [`render`][storepush.cli._reference.render] on every page:
it replaces these markers with tables made from the code, so the docs cannot drift from it:

| marker | replaced by |
|---|---|
| `<!-- storepush:cli-reference -->` | every command: usage, arguments, options (the typer app) |
| `<!-- storepush:settings -->` | the configuration table: flag, variable, manifest key, default |
| `<!-- storepush:manifest-keys -->` | the manifest's keys, and where each may appear |
| `<!-- storepush:spec-keys -->` | a plugin spec's keys (`[bluemind.create]`, `--create-from`) |
"""

from __future__ import annotations

from typing import Any

import typer
import typer.main

from ._settings import SETTINGS

__all__ = ["MARKERS", "cli_reference", "manifest_keys", "render", "settings_table", "spec_keys"]

#: Settings the run-settings table does not hold (credentials, addresses, network): the
#: same precedence applies to each (flag > environment > manifest > default).
OTHER_SETTINGS: tuple[tuple[str, str, str, str, str, str], ...] = (
    (
        "Pishkhan token",
        "`--token-env NAME` names the variable",
        "`STOREPUSH_BAZAAR_TOKEN`",
        "`token_env` (per item)",
        "—",
        "never a flag's value: secrets come from the environment only",
    ),
    (
        "BlueMind API key",
        "`--token-env NAME` names the variable",
        "`STOREPUSH_BLUEMIND_API_KEY`",
        "`api_key_env` (per item)",
        "—",
        "never a flag's value",
    ),
    (
        "Pishkhan base URL",
        "`--base-url URL`",
        "`STOREPUSH_BAZAAR_BASE_URL`",
        "`base_url`, `[defaults] bazaar_base_url`",
        "`https://api.pishkhan.cafebazaar.ir/v1`",
        "",
    ),
    (
        "BlueMind base URL",
        "`--base-url URL`",
        "`STOREPUSH_BLUEMIND_BASE_URL`",
        "`base_url`, `[defaults] bluemind_base_url`",
        "`https://marketplace.blue-mind.net`",
        "",
    ),
    (
        "plain http to a remote host",
        "`--allow-insecure-http`",
        "—",
        "`allow_insecure_http`",
        "refused",
        "plain http to loopback is always allowed",
    ),
    (
        "proxy",
        "`--proxy URL`",
        "`STOREPUSH_PROXY`, then `HTTPS_PROXY` / `HTTP_PROXY` / `ALL_PROXY` / `NO_PROXY`",
        "—",
        "none",
        "`http://[user:password@]host:port`; the password is a secret",
    ),
    (
        "coordination across hosts",
        "`--redis-url URL`",
        "`STOREPUSH_REDIS_URL`",
        "`[defaults] redis_url`",
        "a lock file per app on this host",
        "see the guide page on running many jobs",
    ),
    (
        "recording",
        "`--record FILE`",
        "—",
        "—",
        "off",
        "every HTTP exchange as JSON lines, credentials removed",
    ),
)


def _cell(text: str) -> str:
    return " ".join(text.replace("|", "\\|").split())


def settings_table() -> str:
    """The configuration table: one row a setting."""
    lines = [
        "| setting | flag | environment | manifest | default | notes |",
        "|---|---|---|---|---|---|",
    ]
    for s in SETTINGS:
        where = {"item": "each item or `[defaults]`", "defaults": "`[defaults]`", "none": "—"}
        manifest = "—" if s.scope == "none" else f"`{s.key}` ({where[s.scope]})"
        env = f"`{s.env}`" if s.env else "—"
        lines.append(
            f"| {s.key.replace('_', ' ')} | `{s.flag}` | {env} | {manifest} | "
            f"{_cell(s.default_text())} | {_cell(s.what)} |"
        )
    for row in OTHER_SETTINGS:
        lines.append("| " + " | ".join(_cell(cell) for cell in row) + " |")
    return "\n".join(lines)


def manifest_keys() -> str:
    """The manifest's keys: where each may appear, and what it means."""
    from ._manifest import KEYS

    lines = [
        "| key | `[defaults]` | `[[bazaar]]` | `[[bluemind]]` | meaning |",
        "|---|---|---|---|---|",
    ]
    for key, sections, what in KEYS:
        marks = " | ".join(
            "yes" if s in sections else "" for s in ("defaults", "bazaar", "bluemind")
        )
        lines.append(f"| `{key}` | {marks} | {_cell(what)} |")
    return "\n".join(lines)


def spec_keys() -> str:
    """The keys of a plugin spec."""
    from ._plugin_spec import SPEC_KEYS

    lines = ["| key | required | meaning |", "|---|---|---|"]
    for key, required, what in SPEC_KEYS:
        lines.append(f"| `{key}` | {'yes' if required else ''} | {_cell(what)} |")
    return "\n".join(lines)


def _params(command: Any, ctx: typer.Context) -> list[str]:
    rows = []
    for param in command.params:
        if getattr(param, "hidden", False):
            continue
        record = param.get_help_record(ctx)
        if record is None:
            continue
        name, text = record
        rows.append(f"| `{_cell(name)}` | {_cell(text)} |")
    if not rows:
        return []
    return ["| argument or option | meaning |", "|---|---|", *rows]


def _walk(command: Any, ctx: typer.Context, out: list[str], depth: int) -> None:
    out.append(f"{'#' * min(depth, 4)} `{ctx.command_path}`")
    out.append("")
    if command.help:
        out.append(command.help.strip())
        out.append("")
    out.extend(["```text", command.get_usage(ctx), "```", ""])
    params = _params(command, ctx)
    if params:
        out.extend([*params, ""])
    if ctx.command_path.endswith(" emulator"):
        out.extend(_emulator_help())
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        _walk(sub, typer.Context(sub, info_name=name, parent=ctx), out, depth + 1)


def _emulator_help() -> list[str]:
    try:
        from ..emulator._cli import parser
    except ImportError:  # pragma: no cover - the emulator's own command line moved
        return []
    text = parser().format_help()
    return [
        "Its own options (`storepush emulator --help`):",
        "",
        "```text",
        text.rstrip(),
        "```",
        "",
    ]


def cli_reference() -> str:
    """Every command, generated from the typer app."""
    from ._app import app

    command = typer.main.get_command(app)
    out: list[str] = []
    _walk(command, typer.Context(command, info_name="storepush"), out, 2)
    return "\n".join(out).rstrip() + "\n"


MARKERS = {
    "<!-- storepush:cli-reference -->": cli_reference,
    "<!-- storepush:settings -->": settings_table,
    "<!-- storepush:manifest-keys -->": manifest_keys,
    "<!-- storepush:spec-keys -->": spec_keys,
}


def render(markdown: str) -> str:
    """`markdown` with every marker replaced by its generated text."""
    for marker, make in MARKERS.items():
        if marker in markdown:
            markdown = markdown.replace(marker, make())
    return markdown
