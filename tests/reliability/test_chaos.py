"""Chaos: 100 apps (two APKs each) and 20 plugin versions at once through one session, against
the emulator with the issue's fault mix, from fixed seeds. Every app ends with exactly one
committed release holding exactly its files; every plugin version exists once; no draft is
left. A few seeds run in CI; more with ``-m slow``."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

import pytest

from storepush import BazaarClient, BlueMindClient, RetryConfig, Session
from storepush.bluemind import PluginSpec
from storepush.emulator import Emulator, Faults
from storepush.testing import make_apk, make_jar, make_png

from ..conftest import FakeClock

FAULTS = {
    "error_rate": 0.20,
    "throttle_rate": 0.15,
    "retry_after_ratio": 0.5,
    "drop_rate": 0.05,
    "acted_fail_rate": 0.10,
    "latency": 0.002,
    "jitter": 0.001,
}


async def chaos(seed: int, tmp_path: Path, apps: int = 100, plugins: int = 20) -> dict[str, int]:
    clock = FakeClock()
    tokens = {f"chaos-{seed}-{i:03d}-token": f"com.chaos.app{i}" for i in range(apps)}
    key = f"chaos-{seed}-bluemind-key"
    files = {
        token: (
            make_apk(tmp_path / f"{i}a.apk", package=pkg, version_code=5, size=20_000, seed=2 * i),
            make_apk(
                tmp_path / f"{i}b.apk", package=pkg, version_code=4, size=20_000, seed=2 * i + 1
            ),
        )
        for i, (token, pkg) in enumerate(tokens.items())
    }
    logo = make_png(tmp_path / "logo.png")
    jars = [make_jar(tmp_path / f"p{i}.jar", seed=i, size=20_000) for i in range(plugins)]
    emulator = Emulator(
        apps=tokens, users={key: "chaos"}, faults=Faults(seed=seed, **FAULTS), clock=clock
    )
    # 32 % of answers are faults here: 16 attempts make ten faults in a row (which 10 would
    # give up on, correctly) a one-in-a-hundred-million event
    # the fake clock moves with every task's sleep: a per-call deadline means nothing here
    retry = RetryConfig(max_attempts=16, backoff_base=0.2, backoff_max=5.0, deadline=None)
    failures: list[BaseException] = []
    async with emulator as emu, Session(retry=retry, clock=clock, sleep=clock.sleep) as session:

        async def app(token: str) -> None:
            async with BazaarClient(token, base_url=emu.bazaar_url, session=session) as c:
                await c.publish(list(files[token]))

        async def plugin(i: int) -> None:
            spec = PluginSpec(f"Chaos {i % 5}", "s", "d", "MIT", "i", thumbnail=logo)
            async with BlueMindClient(key, base_url=emu.bluemind_url, session=session) as c:
                await c.publish_version(spec.name, f"1.{i}", "4.x", "n", jars[i], create=spec)

        # plugin versions of one plugin go one after another (creating a plugin twice at once
        # is a race the service itself would refuse); apps and plugins run concurrently
        async def plugin_chain(first: int) -> None:
            for i in range(first, plugins, 5):
                await plugin(i)

        results = await asyncio.gather(
            *(app(t) for t in tokens), *(plugin_chain(k) for k in range(5)), return_exceptions=True
        )
        failures = [r for r in results if isinstance(r, BaseException)]
        assert not failures, failures[:3]
        for token, (a, b) in files.items():
            releases = emu.world.apps[token].releases
            assert len(releases) == 1, (token, releases)
            assert releases[0].committed
            got = sorted(p.sha1_hash for p in releases[0].packages)
            assert got == sorted(hashlib.sha1(f.read_bytes()).hexdigest() for f in (a, b))
        versions = sorted(v.version for p in emu.world.plugins.values() for v in p.versions)
        assert versions == sorted(f"1.{i}" for i in range(plugins))
        assert len(emu.world.plugins) == 5
        kinds = {e["fault"] for e in emu.log}
        stats = session.stats
        return {
            "retries": stats.retries,
            "throttled": stats.throttled,
            "faults": len([e for e in emu.log if e["fault"]]),
            "kinds": len(kinds - {None}),
        }


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_chaos(seed: int, tmp_path: Path) -> None:
    report = await chaos(seed, tmp_path)
    assert report["kinds"] == 4  # 5xx, 429, dropped uploads, acted-then-failed: all happened
    assert report["retries"] > 0
    assert report["throttled"] > 0


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(4, 24))
async def test_chaos_more_seeds(seed: int, tmp_path: Path) -> None:
    await chaos(seed, tmp_path)
