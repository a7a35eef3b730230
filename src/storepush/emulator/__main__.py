"""``python -m storepush.emulator``: run the emulator until interrupted."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import secrets
import sys
from collections.abc import Sequence

from ._faults import Faults, Quota, Quotas
from ._server import Emulator

__all__ = ["main", "parser"]


def _pair(text: str, default_prefix: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not key:
        raise argparse.ArgumentTypeError("expected KEY[=VALUE]")
    return key, value if sep and value else f"{default_prefix}{len(key)}"


def _quota(text: str) -> Quota:
    rate, _, burst = text.partition("/")
    try:
        return Quota(rate=float(rate), burst=int(burst or 1))
    except ValueError:
        raise argparse.ArgumentTypeError("expected RATE[/BURST], e.g. 5/10") from None


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m storepush.emulator",
        description="A local emulator of Cafe Bazaar's Pishkhan API and the BlueMind MarketPlace.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default: loopback)")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--app", action="append", default=[], metavar="TOKEN[=PACKAGE]")
    p.add_argument("--user", action="append", default=[], metavar="KEY[=NAME]")
    p.add_argument("--admin", action="append", default=[], metavar="NAME", help="admin user name")
    p.add_argument("--review-seconds", type=float, default=2.0)
    p.add_argument("--bundle-seconds", type=float, default=2.0)
    p.add_argument("--quota", type=_quota, metavar="RATE[/BURST]", help="per token and endpoint")
    p.add_argument("--quota-retry-after", action="store_true", help="send Retry-After on 429")
    p.add_argument("--seed", type=int, default=0)
    for name in ("error-rate", "throttle-rate", "drop-rate", "acted-fail-rate"):
        p.add_argument(f"--{name}", type=float, default=0.0)
    p.add_argument("--latency", type=float, default=0.0, help="seconds added to every answer")
    p.add_argument("--jitter", type=float, default=0.0)
    return p


def build(args: argparse.Namespace) -> tuple[Emulator, bool]:
    apps = dict(_pair(a, "com.example.app") for a in args.app)
    users = dict(_pair(u, "user") for u in args.user)
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
    quotas = Quotas(default=args.quota, retry_after=args.quota_retry_after)
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
    )
    return emu, demo


async def serve(emu: Emulator, demo: bool, *, stop: asyncio.Event | None = None) -> None:
    async with emu:
        print(f"Pishkhan API:   {emu.bazaar_url}")
        print(f"BlueMind API:   {emu.bluemind_url}/addons/api/")
        print(f"Admin:          {emu.url}/_emulator/state")
        if demo:
            # These are the emulator's own throw-away demo credentials, printed so you can use them.
            for token, package in emu.world.apps.items():
                print(f"demo app {package}: token {token}")
            for key, user in emu.world.users.items():
                print(f"demo user {user.name}: api key {key}")
        sys.stdout.flush()
        await (stop or asyncio.Event()).wait()


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    emu, demo = build(args)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(emu, demo))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
