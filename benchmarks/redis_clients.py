"""One client process of the Redis benchmark: `python redis_clients.py JOB.json`.

The job file says which marketplace, which apps (token, APK) or plugin versions, the limits
and the Redis URL (none: the process's own limiters). The process publishes them all at once
through one session and prints one JSON line: requests, 429s, retries, failures, and the
monotonic times of its first and last publish (CLOCK_MONOTONIC is system-wide, so the parent
can take the span over all processes).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

import storepush
from storepush import BazaarClient, BlueMindClient, Limits, RateLimit, RetryConfig, Session


def _limits(job: dict[str, Any]) -> Limits:
    rate, burst = job["account"]
    default = RateLimit(*job["default"]) if job.get("default") else RateLimit(5.0, 5)
    return Limits(default=default, account=RateLimit(rate, burst), account_key=job["account_key"])


async def bazaar(job: dict[str, Any], session: Session) -> list[bool]:
    async def one(token: str, apk: str) -> bool:
        async with BazaarClient(token, base_url=job["base_url"], session=session) as client:
            try:
                result = await client.publish([apk])
            except storepush.StorePushError as exc:
                print(f"{token[:8]}: {type(exc).__name__}: {exc}", file=sys.stderr)
                return False
            return bool(result.packages)

    return list(await asyncio.gather(*(one(t, a) for t, a in job["apps"])))


async def bluemind(job: dict[str, Any], session: Session) -> list[bool]:
    async with BlueMindClient(job["key"], base_url=job["base_url"], session=session) as client:

        async def plugin(name: str) -> list[bool]:
            spec = storepush.PluginSpec(
                name=name,
                shortdesc="bench",
                description="bench",
                license="MIT",
                installation_instructions="none",
                thumbnail=job["png"],
            )
            done = []
            for version in job["versions"]:
                try:
                    await client.publish_version(
                        name, version, "4.x", "bench", job["jar"], create=spec
                    )
                    done.append(True)
                except storepush.StorePushError as exc:
                    print(f"{name} {version}: {type(exc).__name__}: {exc}", file=sys.stderr)
                    done.append(False)
            return done

        results = await asyncio.gather(*(plugin(name) for name in job["plugins"]))
    return [ok for per_plugin in results for ok in per_plugin]


async def main(path: Path) -> None:
    job = json.loads(path.read_text())
    coordination = job["redis_url"] or storepush.LocalCoordinator(Path(job["lock_dir"]))
    retry = RetryConfig(max_attempts=12)
    async with Session(limits=_limits(job), retry=retry, coordination=coordination) as session:
        started = time.monotonic()
        work = bazaar if job["marketplace"] == "bazaar" else bluemind
        outcomes = await work(job, session)
        ended = time.monotonic()
        stats = session.stats
        counts = getattr(session.limiters, "counts", dict)()
    print(
        json.dumps(
            {
                "started": started,
                "ended": ended,
                "done": sum(outcomes),
                "failed": len(outcomes) - sum(outcomes),
                "requests": stats.requests,
                "throttled": stats.throttled,
                "retries": stats.retries,
                "admissions": counts,
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1])))
