"""One upload, as its own process (so its peak RSS is its own): storepush, or the documented way.

python upload_client.py storepush FILE BASE_URL
python upload_client.py requests FILE BASE_URL
"""

from __future__ import annotations

import asyncio
import sys
import time


async def with_storepush(path: str, base: str) -> float:
    import storepush

    started = time.perf_counter()
    async with storepush.BazaarClient("bench-token", base_url=base) as client:
        await client.upload_apk(path)
    return time.perf_counter() - started


def with_requests(path: str, base: str) -> float:
    import requests

    started = time.perf_counter()
    with open(path, "rb") as handle:  # the vendors' documented way: files={'apk': open(...)}
        response = requests.post(
            base + "/apps/releases/upload/",
            headers={"CAFEBAZAAR-PISHKHAN-API-SECRET": "bench-token"},
            files={"apk": handle},
            data={"architecture": "all"},
            timeout=600,
        )
    response.raise_for_status()
    return time.perf_counter() - started


def main() -> None:
    """Prints the seconds the upload took (session, connection and transfer; not start-up)."""
    how, path, base = sys.argv[1:4]
    seconds = (
        asyncio.run(with_storepush(path, base)) if how == "storepush" else with_requests(path, base)
    )
    with open("/proc/self/status") as status:  # peak RSS of this program (after exec)
        hwm = next(int(line.split()[1]) for line in status if line.startswith("VmHWM"))
    print(f"{seconds:.6f} {hwm / 1024:.1f}")


if __name__ == "__main__":
    main()
