"""Real processes, a real Redis, the emulator: a lease that expires under a paused holder.

Publisher A stops itself (SIGSTOP) just before its commit, holding the app's lease with a 1 s
TTL. Its lease expires; publisher B takes it and runs. Then A is woken up (SIGCONT) and
carries on as if nothing happened: the lease did not keep them apart, so the store-level
protocol has to. It does: one release, and each process says what happened.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from storepush._samples import make_apk
from storepush.emulator import Emulator, EmulatorThread

from .server import RedisServer

TOKEN = "redis-proc-token-9f8e7d6c"
PACKAGE = "com.example.stalled"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with EmulatorThread(
        Emulator(apps={TOKEN: PACKAGE}, review_seconds=0.0, bundle_seconds=0.0)
    ) as running:
        yield running


def start(emu: Emulator, redis: RedisServer, apk: Path, *extra: str) -> subprocess.Popen[str]:
    command = [
        sys.executable, "-m", "tests.redis.publisher",
        "--redis-url", redis.url, "--base-url", emu.bazaar_url, "--token", TOKEN,
        "--apk", str(apk), *extra,
    ]  # fmt: skip
    return subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def wait_stopped(proc: subprocess.Popen[str], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        state = Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        if state == "T":
            return
        time.sleep(0.02)
    proc.kill()
    raise AssertionError("the publisher never reached its stopping point")


def finish(proc: subprocess.Popen[str], timeout: float = 120.0) -> tuple[int, dict[str, Any]]:
    out, err = proc.communicate(timeout=timeout)
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    final = [line for line in lines if "event" not in line]
    assert final, f"no result (exit {proc.returncode}): {err[-2000:]}"
    return proc.returncode, final[-1]


@pytest.mark.parametrize("builds", ["same build", "different builds"])
def test_a_lease_expired_under_a_paused_holder_still_gives_one_release(
    emu: Emulator, redis_server: RedisServer, tmp_path: Path, builds: str
) -> None:
    apk_a = make_apk(tmp_path / "a.apk", package=PACKAGE, version_code=5, seed=1, size=200_000)
    apk_b = apk_a
    if builds == "different builds":
        apk_b = make_apk(tmp_path / "b.apk", package=PACKAGE, version_code=6, seed=2, size=200_000)

    first = start(emu, redis_server, apk_a, "--lease-ttl", "1", "--stop-at", "committing")
    try:
        wait_stopped(first)  # paused just before its commit, its lease no longer renewed
        second = start(emu, redis_server, apk_b)
        code_b, said_b = finish(second)
    finally:
        os.kill(first.pid, signal.SIGCONT)
    code_a, said_a = finish(first)

    releases = emu.world.apps[TOKEN].releases
    committed = [r for r in releases if r.committed]
    assert len(committed) == 1, releases
    assert not [r for r in releases if not r.committed], "no draft left behind"
    if builds == "same build":
        # B resumed A's draft and committed it. A, woken, sends its commit, which the store
        # refuses (no draft any more); A settles that by reading the state and finds its build
        # committed from its own draft, so it reports the release as its own (it cannot tell
        # a twin's commit from its own lost answer). Either way: one release, both exit 0.
        assert (code_b, said_b["packages"], said_b["already_committed"]) == (0, 1, False)
        assert (code_a, said_a["packages"]) == (0, 1), said_a
    else:
        # B found another build's draft and refused, clearly; A committed its own.
        assert (code_b, said_b["error"]) == (1, "DraftExistsError")
        assert (code_a, said_a["packages"], said_a["already_committed"]) == (0, 1, False)
    assert redis_server.keys("storepush:lease:*") == []
