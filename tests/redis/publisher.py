"""One publisher process for the Redis tests: `python -m tests.redis.publisher ...`.

It publishes one APK with the library, coordinated through `--redis-url` with a short lease,
and prints one JSON line: what the publish did, or the error. With `--stop-at PHASE` it stops
itself (SIGSTOP) when the publish enters that phase, as a process paused by the machine would:
nothing of it runs, its lease renewals included, until the test sends SIGCONT.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys

import storepush
from storepush import BazaarClient, RedisCoordinator, RetryConfig, Session


async def main(args: argparse.Namespace) -> int:
    coordinator = RedisCoordinator(args.redis_url, lease_ttl=args.lease_ttl)

    def on_event(event: storepush.Event) -> None:
        print(json.dumps({"event": event.phase}), flush=True)
        if event.phase == args.stop_at:
            os.kill(os.getpid(), signal.SIGSTOP)

    retry = RetryConfig(max_attempts=8, backoff_base=0.01, backoff_max=0.1)
    async with (
        Session(coordination=coordinator, retry=retry) as session,
        BazaarClient(args.token, base_url=args.base_url, session=session) as client,
    ):
        try:
            result = await client.publish([args.apk], on_event=on_event, busy_timeout=60)
        except storepush.StorePushError as exc:
            print(json.dumps({"error": type(exc).__name__, "message": str(exc)}), flush=True)
            return 1
    await coordinator.aclose()
    print(
        json.dumps(
            {
                "packages": len(result.packages),
                "already_committed": result.already_committed,
                "committed_by_other": result.committed_by_other,
                "draft": result.draft,
            }
        ),
        flush=True,
    )
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--redis-url", required=True)
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--apk", required=True)
    parser.add_argument("--lease-ttl", type=float, default=30.0)
    parser.add_argument("--stop-at", default=None)
    sys.exit(asyncio.run(main(parser.parse_args())))
