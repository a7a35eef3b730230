"""The batch benchmark's other contenders, each run as its own process.

    python batch_clients.py naive SPEC.json
    python batch_clients.py sequential SPEC.json
    python batch_clients.py library SPEC.json

SPEC.json: ``{"apps": [{"token", "apks": [[path, arch], ...]}],
"rate": r, "burst": b, "concurrency": n}`` (the last three for ``library`` only); the
Pishkhan base URL (ending in /v1) comes from ``BENCH_BASE_URL``. Each prints
one JSON line: seconds (the batch, start-up excluded), requests, throttled (429s it received),
failed apps and the first errors.

- ``naive``: `asyncio.gather` over every app at once on one bare aiohttp session (its default
  pool of 100 connections), no limiter: create, both uploads at once, commit; a 429 is
  retried after 1 s, as code without a limiter does.
- ``sequential``: the vendors' documented way with `requests`, one app after another, one call
  after another (`requests.post(..., files={"apk": open(...)})`); a 429 is retried after 1 s.
- ``library``: storepush's public API as the README shows it, one shared `Session` with its
  limiter set to the store's quota (`Limits(default=RateLimit(rate, burst), adaptive=False)`),
  `BazaarClient.publish` per app, `concurrency` apps at once.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

SECRET_HEADER = "CAFEBAZAAR-PISHKHAN-API-SECRET"
APK_TYPE = "application/vnd.android.package-archive"
COMMIT = {"staged_rollout_percentage": 100, "auto_publish": False}
MAX_TRIES = 60


class Counts:
    def __init__(self) -> None:
        self.requests = 0
        self.throttled = 0
        self.errors: list[str] = []


async def naive(spec: dict[str, Any]) -> dict[str, Any]:
    import aiohttp

    base = spec["base"] + "/apps/releases/"
    counts = Counts()
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=30, sock_read=600)
    async with aiohttp.ClientSession(timeout=timeout) as http:

        async def call(url: str, token: str, *, apk: list[str] | None = None) -> None:
            for _ in range(MAX_TRIES):
                data: aiohttp.FormData | None = None
                if apk is not None:
                    data = aiohttp.FormData()
                    handle = open(apk[0], "rb")  # noqa: SIM115 - aiohttp closes it after sending
                    data.add_field("apk", handle, filename=Path(apk[0]).name, content_type=APK_TYPE)
                    data.add_field("architecture", apk[1])
                counts.requests += 1
                async with http.post(
                    url,
                    headers={SECRET_HEADER: token, "Accept": "application/json"},
                    data=data,
                    json=COMMIT if url.endswith("commit/") else None,
                ) as answer:
                    await answer.read()
                    if answer.status == 429:
                        counts.throttled += 1
                        await asyncio.sleep(1.0)
                        continue
                    answer.raise_for_status()
                    return
            raise RuntimeError(f"still refused after {MAX_TRIES} tries")

        async def app(item: dict[str, Any]) -> None:
            token = item["token"]
            await call(base, token)
            await asyncio.gather(*(call(base + "upload/", token, apk=a) for a in item["apks"]))
            await call(base + "commit/", token)

        started = time.perf_counter()
        results = await asyncio.gather(*(app(a) for a in spec["apps"]), return_exceptions=True)
        seconds = time.perf_counter() - started
    failed = [r for r in results if isinstance(r, BaseException)]
    counts.errors = [repr(e)[:200] for e in failed[:3]]
    return _result(seconds, counts, len(failed))


def sequential(spec: dict[str, Any]) -> dict[str, Any]:
    import requests

    base = spec["base"] + "/apps/releases/"
    counts = Counts()
    failed = 0

    def post(url: str, token: str, **kwargs: Any) -> None:
        for _ in range(MAX_TRIES):
            handle = None
            if "apk" in kwargs:
                path, arch = kwargs["apk"]
                handle = open(path, "rb")  # noqa: SIM115 - closed in the finally below
                extra: dict[str, Any] = {
                    "files": {"apk": (Path(path).name, handle, APK_TYPE)},
                    "data": {"architecture": arch},
                }
            else:
                extra = {"json": COMMIT} if url.endswith("commit/") else {}
            counts.requests += 1
            try:
                answer = requests.post(
                    url,
                    headers={SECRET_HEADER: token, "Accept": "application/json"},
                    timeout=600,
                    **extra,
                )
            finally:
                if handle is not None:
                    handle.close()
            if answer.status_code == 429:
                counts.throttled += 1
                time.sleep(1.0)
                continue
            answer.raise_for_status()
            return
        raise RuntimeError(f"still refused after {MAX_TRIES} tries")

    started = time.perf_counter()
    for item in spec["apps"]:
        token = item["token"]
        try:
            post(base, token)
            for apk in item["apks"]:
                post(base + "upload/", token, apk=apk)
            post(base + "commit/", token)
        except Exception as exc:
            failed += 1
            if len(counts.errors) < 3:
                counts.errors.append(repr(exc)[:200])
    return _result(time.perf_counter() - started, counts, failed)


async def library(spec: dict[str, Any]) -> dict[str, Any]:
    import storepush

    limits = storepush.Limits(
        default=storepush.RateLimit(float(spec["rate"]), int(spec["burst"])), adaptive=False
    )
    concurrency = int(spec["concurrency"])
    gate = asyncio.Semaphore(concurrency)
    counts = Counts()
    started = time.perf_counter()
    async with storepush.Session(limits=limits, max_connections=max(10, concurrency)) as session:

        async def one(item: dict[str, Any]) -> None:
            async with (
                gate,
                storepush.BazaarClient(item["token"], base_url=spec["base"], session=session) as c,
            ):
                await c.publish([(path, arch) for path, arch in item["apks"]])

        results = await asyncio.gather(*(one(a) for a in spec["apps"]), return_exceptions=True)
        stats = session.stats
    seconds = time.perf_counter() - started
    counts.requests, counts.throttled = stats.requests, stats.throttled
    failed = [r for r in results if isinstance(r, BaseException)]
    counts.errors = [repr(e)[:200] for e in failed[:3]]
    return _result(seconds, counts, len(failed))


def _result(seconds: float, counts: Counts, failed: int) -> dict[str, Any]:
    return {
        "seconds": seconds,
        "requests": counts.requests,
        "throttled": counts.throttled,
        "failed": failed,
        "errors": counts.errors,
    }


def main() -> None:
    how, spec_path = sys.argv[1:3]
    spec = json.loads(Path(spec_path).read_text())
    spec["base"] = os.environ["BENCH_BASE_URL"]
    if how == "naive":
        result = asyncio.run(naive(spec))
    elif how == "sequential":
        result = sequential(spec)
    elif how == "library":
        result = asyncio.run(library(spec))
    else:
        raise SystemExit(f"unknown contender {how!r}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
