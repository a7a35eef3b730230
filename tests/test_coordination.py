"""The per-app lease on one host: a flock per app, released by the kernel when its holder dies."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from storepush import BusyError, LocalCoordinator, NoCoordinator

from .conftest import FakeClock


async def test_one_holder_at_a_time_and_fail_fast(tmp_path: Path) -> None:
    coordinator = LocalCoordinator(tmp_path)
    first = await coordinator.acquire("bazaar-abc", if_busy="fail", wait_up_to=0)
    with pytest.raises(BusyError, match="another publish of this app is running") as info:
        await coordinator.acquire("bazaar-abc", if_busy="fail", wait_up_to=10)
    assert [r.option for r in info.value.remedies] == ["if_busy"]  # it did not wait
    other = await coordinator.acquire("bazaar-other", if_busy="fail", wait_up_to=0)
    await first.release()
    again = await coordinator.acquire("bazaar-abc", if_busy="fail", wait_up_to=0)
    await again.release()
    await other.release()


async def test_waiting_is_visible_and_bounded(tmp_path: Path, clock: FakeClock) -> None:
    holder = await LocalCoordinator(tmp_path).acquire("k", if_busy="fail", wait_up_to=0)
    waiting = LocalCoordinator(tmp_path, clock=clock, sleep=clock.sleep)
    told: list[str] = []
    with pytest.raises(BusyError, match="after waiting 30s"):
        await waiting.acquire(
            "k", if_busy="wait", wait_up_to=30, on_busy=lambda s, who: told.append(who)
        )
    assert told == [f"pid {os.getpid()} on {os.uname().nodename}"]
    await holder.release()


def test_a_killed_holder_leaves_no_stale_lock(tmp_path: Path) -> None:
    code = (
        "import asyncio, sys, time\n"
        "from pathlib import Path\n"
        "from storepush import LocalCoordinator\n"
        "async def main():\n"
        "    lease = await LocalCoordinator(Path(sys.argv[1])).acquire(\n"
        "        'k', if_busy='fail', wait_up_to=0)\n"
        "    print('held', flush=True)\n"
        "    time.sleep(3600)\n"
        "    print(lease)\n"
        "asyncio.run(main())\n"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "held"
    import asyncio

    async def try_now() -> bool:
        try:
            lease = await LocalCoordinator(tmp_path).acquire("k", if_busy="fail", wait_up_to=0)
        except BusyError:
            return False
        await lease.release()
        return True

    assert asyncio.run(try_now()) is False
    holder.send_signal(signal.SIGKILL)
    holder.wait(10)
    holder.stdout.close()
    end = time.monotonic() + 10
    while not asyncio.run(try_now()):
        assert time.monotonic() < end, "the kernel should have released the lock"
        time.sleep(0.05)


async def test_an_unusable_lock_folder_is_a_warning_not_a_failure(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    lease = await LocalCoordinator(blocked).acquire("k", if_busy="fail", wait_up_to=0)
    await lease.release()
    assert "publishing without a host lock" in caplog.text


async def test_no_coordinator_never_waits() -> None:
    lease = await NoCoordinator().acquire("k", if_busy="fail", wait_up_to=0)
    assert not lease.lost
    await lease.release()


@pytest.mark.parametrize(
    ("if_busy", "remedies", "text"),
    [
        ("fail", [("if_busy", "wait")], "running (job 7)"),  # it did not wait: waiting is the fix
        ("wait", [("busy_timeout", None)], "running (job 7) after waiting 30s"),
    ],
)
def test_the_busy_refusal_names_the_remedy_that_applies(
    if_busy: str, remedies: list[tuple[str, str | None]], text: str
) -> None:
    from storepush._coordination import busy_error

    error = busy_error("job 7", 30.0, if_busy)  # type: ignore[arg-type]
    assert text in str(error)
    assert [(r.option, r.value) for r in error.remedies] == remedies
