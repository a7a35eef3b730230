"""`storepush emulator`: the emulator's command line (also `python -m storepush.emulator`).

`main(argv)` parses, starts the emulator, prints the base URLs to give `--base-url` for each
store, and serves until interrupted. Exit 2 for bad arguments or a port in use (one line on
stderr, no traceback). `storepush.cli` calls `main` from here.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import secrets
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from ._faults import Faults
from ._quirks import CHOICES, PROFILES, QUIRK_HELP, Quirks
from ._quotas import Quota, Quotas
from ._server import Emulator

__all__ = ["build", "main", "parser", "serve"]


def _quota(text: str) -> Quota:
    rate, _, burst = text.partition("/")
    try:
        return Quota(rate=float(rate), burst=int(burst or 1))
    except ValueError:
        raise argparse.ArgumentTypeError("expected RATE[/BURST], e.g. 5/10") from None


def _endpoint_quota(text: str) -> tuple[str, Quota]:
    name, sep, quota = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError("expected ENDPOINT=RATE[/BURST], e.g. upload=1/2")
    return name, _quota(quota)


def _account(text: str) -> tuple[str, list[str]]:
    name, sep, tokens = text.partition("=")
    found = [t for t in tokens.split(",") if t]
    if not sep or not name or not found:
        raise argparse.ArgumentTypeError("expected NAME=TOKEN[,TOKEN...]")
    return name, found


def _rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("expected a probability from 0 to 1") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError("expected a probability from 0 to 1")
    return value


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="storepush emulator",
        description=(
            "A local emulator of Cafe Bazaar's Pishkhan API and the BlueMind MarketPlace, on "
            "one port. Without --app or --user it makes three demo apps and one demo user, "
            "and prints their throw-away credentials."
        ),
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default: loopback)")
    p.add_argument("--port", type=int, default=8080, help="port (default 8080; 0: any free)")
    who = p.add_argument_group("apps and users")
    who.add_argument(
        "--app",
        action="append",
        default=[],
        metavar="TOKEN[=PACKAGE]",
        help="a Pishkhan app and its token (repeatable); without a package, one is made up",
    )
    who.add_argument(
        "--user",
        action="append",
        default=[],
        metavar="KEY[=NAME]",
        help="a BlueMind user and its API key (repeatable); without a name, one is made up",
    )
    who.add_argument(
        "--admin",
        action="append",
        default=[],
        metavar="NAME",
        help="a user who may publish to any plugin, as a MarketPlace administrator (repeatable)",
    )
    who.add_argument(
        "--account",
        action="append",
        default=[],
        type=_account,
        metavar="NAME=TOKEN[,TOKEN...]",
        help="put these apps in one developer account, for --account-quota (repeatable)",
    )
    timing = p.add_argument_group("time")
    timing.add_argument(
        "--review-seconds", type=float, default=2.0, help="review time of an auto-published release"
    )
    timing.add_argument(
        "--bundle-seconds", type=float, default=2.0, help="processing time of an app bundle"
    )
    quotas = p.add_argument_group("quotas (429 when exceeded)")
    quotas.add_argument(
        "--quota", type=_quota, metavar="RATE[/BURST]", help="per token (or key) and endpoint"
    )
    quotas.add_argument(
        "--endpoint-quota",
        action="append",
        default=[],
        type=_endpoint_quota,
        metavar="ENDPOINT=RATE[/BURST]",
        help="per token (or key) for one endpoint, e.g. bundle-status=0.0167 (repeatable)",
    )
    quotas.add_argument(
        "--account-quota",
        type=_quota,
        metavar="RATE[/BURST]",
        help="per Pishkhan account (see --account), all its apps and endpoints together",
    )
    quotas.add_argument(
        "--key-quota",
        type=_quota,
        metavar="RATE[/BURST]",
        help="per BlueMind API key, all endpoints together",
    )
    quotas.add_argument(
        "--quota-retry-after", action="store_true", help="send Retry-After on quota 429s"
    )
    faults = p.add_argument_group("seeded faults")
    faults.add_argument("--seed", type=int, default=0, help="the fault plan's seed")
    for name, what in (
        ("error-rate", "a 5xx with an HTML body, before acting"),
        ("throttle-rate", "a 429, before acting"),
        ("drop-rate", "an upload whose connection is closed part-way"),
        ("acted-fail-rate", "a change that is made, then answered with a 5xx"),
    ):
        faults.add_argument(
            f"--{name}", type=_rate, default=0.0, metavar="P", help=f"probability of {what}"
        )
    faults.add_argument("--latency", type=float, default=0.0, help="seconds added to answers")
    faults.add_argument("--jitter", type=float, default=0.0, help="± seconds around --latency")
    quirks = p.add_argument_group(
        "quirks (behaviours the evidence leaves open; see docs/live-stores.md)"
    )
    quirks.add_argument(
        "--profile",
        choices=("strict", "lenient"),
        default="strict",
        help="strict (default): refuse what no evidence shows accepted; lenient: accept what "
        "public clients send and answer as the field saw the live store answer",
    )
    for name, choices in CHOICES.items():
        flag = "--" + name.replace("_", "-")
        if isinstance(choices[0], bool):
            action: Any = argparse.BooleanOptionalAction
            quirks.add_argument(flag, action=action, default=None, help=QUIRK_HELP[name])
        else:
            quirks.add_argument(flag, choices=choices, default=None, help=QUIRK_HELP[name])
    return p


def _quirks(args: argparse.Namespace) -> Quirks:
    chosen: dict[str, Any] = {
        name: getattr(args, name) for name in CHOICES if getattr(args, name) is not None
    }
    return Quirks.from_json({"profile": args.profile, **chosen})


def build(args: argparse.Namespace) -> tuple[Emulator, bool, list[str]]:
    """The emulator the arguments describe; whether it is the demo set; notes to print."""
    notes: list[str] = []
    apps: dict[str, str] = {}
    for index, item in enumerate(args.app, 1):
        token, _, package = item.partition("=")
        if not package:
            package = f"com.example.app{index}"
            notes.append(f"--app #{index} has no package name: it is {package}")
        apps[token] = package
    users: dict[str, str] = {}
    for index, item in enumerate(args.user, 1):
        key, _, name = item.partition("=")
        if not name:
            name = f"user{index}"
            notes.append(f"--user #{index} has no name: it is {name}")
        users[key] = name
    demo = not apps and not users
    if demo:
        apps = {f"demo-app-{i}-{secrets.token_hex(8)}": f"com.example.app{i}" for i in (1, 2, 3)}
        users = {f"demo-key-{secrets.token_hex(12)}": "demo"}
    faults = Faults(
        seed=args.seed,
        error_rate=args.error_rate,
        throttle_rate=args.throttle_rate,
        drop_rate=args.drop_rate,
        acted_fail_rate=args.acted_fail_rate,
        latency=args.latency,
        jitter=args.jitter,
    )
    quotas = Quotas(
        default=args.quota,
        per_endpoint=dict(args.endpoint_quota),
        account=args.account_quota,
        key=args.key_quota,
        retry_after=args.quota_retry_after,
    )
    emu = Emulator(
        apps=apps,
        users=users,
        admins=tuple(args.admin),
        faults=faults,
        quotas=quotas,
        review_seconds=args.review_seconds,
        bundle_seconds=args.bundle_seconds,
        host=args.host,
        port=args.port,
        quirks=_quirks(args),
    )
    for name, tokens in args.account:
        emu.add_account(name, tokens)
    return emu, demo, notes


def banner(emu: Emulator, demo: bool, notes: Sequence[str]) -> list[str]:
    """What the emulator prints once it listens: the base URLs, exactly as to pass them."""
    profile = next((n for n, q in PROFILES.items() if q == emu.quirks), "custom")
    lines = [
        f"Pishkhan API:   {emu.bazaar_url}",
        f"BlueMind API:   {emu.bluemind_url}",
        f"Admin:          {emu.url}/_emulator/state",
        f"Quirks:         {profile}",
        f"  storepush bazaar ... --base-url {emu.bazaar_url}",
        f"  storepush bluemind ... --base-url {emu.bluemind_url}",
    ]
    lines += [f"note: {note}" for note in notes]
    if demo:
        # These are the emulator's own throw-away demo credentials, printed so you can use them.
        for token, app in emu.world.apps.items():
            lines.append(f"demo app {app.package_name}: token {token}")
        for key, user in emu.world.users.items():
            lines.append(f"demo user {user.name}: api key {key}")
    return lines


async def serve(
    emu: Emulator,
    demo: bool,
    *,
    notes: Sequence[str] = (),
    stop: asyncio.Event | None = None,
    out: TextIO | None = None,
) -> None:
    """Start, print the banner, and serve until `stop` is set (or forever)."""
    out = out or sys.stdout
    async with emu:
        print("\n".join(banner(emu, demo, notes)), file=out, flush=True)
        await (stop or asyncio.Event()).wait()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the emulator until interrupted; 2 for bad arguments or a port in use.

    `check-recording FILE` replays a recording against a fresh emulator instead
    (see `storepush.emulator._replay`).
    """
    if argv and argv[0] == "check-recording":
        from ._replay import main as replay

        return replay(list(argv[1:]))
    p = parser()
    args = p.parse_args(argv)
    try:
        emu, demo, notes = build(args)
    except (KeyError, ValueError) as exc:
        p.exit(2, f"{p.prog}: error: {exc.args[0] if exc.args else exc}\n")
    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(serve(emu, demo, notes=notes))
    except OSError as exc:
        if exc.errno in (errno.EADDRINUSE, errno.EACCES, errno.EADDRNOTAVAIL):
            reason = exc.strerror or "cannot listen"
            print(
                f"{p.prog}: error: cannot listen on {args.host}:{args.port}: {reason} "
                "(choose another --port, or --port 0 for any free one)",
                file=sys.stderr,
            )
            return 2
        raise
    return 0
