"""The Pishkhan client against the emulator, on one fake clock shared by both.

The session's sleep advances the clock the emulator reads, so a 60 s bundle poll or a review
delay costs no real time, while every request still crosses a real loopback socket.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from storepush import BazaarClient, RetryConfig, Session
from storepush._samples import make_aab, make_apk, make_bin
from storepush.emulator import Emulator, Faults

from ..conftest import FakeClock

TOKEN = "bazaar-token-7f3e9c1a2b"
PACKAGE = "com.example.app"


SharedClock = FakeClock


@pytest.fixture
def shared_clock() -> FakeClock:
    clock = FakeClock()
    clock.now = 10_000.0
    return clock


@pytest.fixture
async def emu(shared_clock: SharedClock) -> AsyncIterator[Emulator]:
    emulator = Emulator(
        apps={TOKEN: PACKAGE},
        review_seconds=120,
        bundle_seconds=90,
        clock=shared_clock,
    )
    async with emulator:
        yield emulator


@pytest.fixture
async def session(shared_clock: SharedClock) -> AsyncIterator[Session]:
    retry = RetryConfig(max_attempts=8, backoff_base=0.01, backoff_max=0.05)
    async with Session(retry=retry, clock=shared_clock, sleep=shared_clock.sleep) as s:
        yield s


@pytest.fixture
async def client(emu: Emulator, session: Session) -> AsyncIterator[BazaarClient]:
    async with BazaarClient(TOKEN, base_url=emu.bazaar_url, session=session) as c:
        yield c


@pytest.fixture
def apk_factory(tmp_path: Path) -> Callable[..., Path]:
    def make(
        code: int = 2, *, seed: int | None = None, package: str = PACKAGE, size: int = 300_000
    ) -> Path:
        return make_apk(
            tmp_path / f"app-{code}-{seed}.apk",
            package=package,
            version_code=code,
            size=size,
            seed=seed if seed is not None else code,
        )

    return make


@pytest.fixture
def bundle_files(tmp_path: Path) -> tuple[Path, Path]:
    return make_aab(tmp_path / "app.aab", package=PACKAGE), make_bin(tmp_path / "app.bin")


def only(emu: Emulator, **faults: object) -> None:
    """Turn on faults for some endpoints only."""
    endpoints = faults.pop("endpoints")
    emu.set_faults(Faults(seed=11, endpoints=frozenset(endpoints), **faults))  # type: ignore[arg-type]
