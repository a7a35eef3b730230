"""`storepush demo`: the whole job, locally, against an emulator with faults turned on.

It starts the emulator in-process on a free loopback port (server quotas, 5xx answers, 429s,
dropped uploads, "acted, then failed" answers, latency), writes sample APKs, app bundles, JARs
and images to a temporary folder, publishes a batch of apps and plugin versions concurrently
through the same engine as `storepush batch`, then checks the emulator's state on its own:
every app has exactly one committed release carrying exactly its files' SHA-1s, every plugin
version exists once. It exits 0 only if that check passes.
"""

from __future__ import annotations

import asyncio
import hashlib
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._limiter import Limits, RateLimit
from .._samples import make_aab, make_apk, make_bin, make_jar, make_png
from .._secrets import Secret
from .._session import Session
from ..bluemind import PluginSpec
from ..emulator import Emulator, Faults, Quota, Quotas
from ._batch import BatchReport, BatchRun
from ._manifest import BazaarEntry, BlueMindEntry, Manifest
from ._preflight import preflight
from ._progress import make_reporter
from ._settings import ProgressMode, retry_config

__all__ = ["DemoSettings", "run_demo", "summary_lines"]

MIB = 1024 * 1024


@dataclass(frozen=True)
class DemoSettings:
    apps: int = 30
    plugins: int = 5
    apk_mib: float = 4.0
    concurrency: int = 16
    seed: int = 7
    error_rate: float = 0.05
    throttle_rate: float = 0.05
    drop_rate: float = 0.03
    acted_fail_rate: float = 0.05
    latency: float = 0.01


def _credential(seed: int, label: str) -> str:
    """A demo credential derived from the seed: the emulator draws faults per credential, so
    the same seed gives the same run."""
    return "demo-" + hashlib.sha256(f"{seed}:{label}".encode()).hexdigest()[:24]


def _sha1(path: Path) -> str:
    return hashlib.sha1(path.read_bytes(), usedforsecurity=False).hexdigest()


def _write_samples(folder: Path, s: DemoSettings) -> tuple[list[BazaarEntry], list[BlueMindEntry]]:
    size = max(64 * 1024, int(s.apk_mib * MIB))
    apps: list[BazaarEntry] = []
    for i in range(s.apps):
        package = f"com.example.demo{i:03d}"
        common: dict[str, Any] = {
            "name": package,
            "index": i,
            "token": Secret(_credential(s.seed, f"app{i}"), field="token"),
            "changelog_en": f"Release {i}: faster sync.",
            "changelog_fa": "بهبود سرعت همگام‌سازی",
            "developer_note": "storepush demo",
            "auto_publish": True,
        }
        if i % 10 == 9:  # every tenth app ships an app bundle
            aab = make_aab(folder / f"{package}.aab", package=package, size=size)
            signer = make_bin(folder / f"{package}.bin")
            apps.append(BazaarEntry(apks=[], apk_labels=[], aab=aab, signer_bin=signer, **common))
        else:
            arm64 = make_apk(
                folder / f"{package}-arm64.apk",
                package=package,
                version_code=20 + i,
                size=size,
                seed=2 * i,
            )
            armv7 = make_apk(
                folder / f"{package}-v7.apk",
                package=package,
                version_code=10 + i,
                size=size * 3 // 4,
                seed=2 * i + 1,
            )
            apps.append(
                BazaarEntry(
                    apks=[(arm64, "arm64-v8a"), (armv7, "armeabi-v7a")],
                    apk_labels=[arm64.name, armv7.name],
                    aab=None,
                    signer_bin=None,
                    **common,
                )
            )
    logo = make_png(folder / "logo.png", width=64, height=64)
    shots = (
        make_png(folder / "shot1.png", width=320, height=200),
        make_png(folder / "shot2.png", width=320, height=200),
    )
    plugins: list[BlueMindEntry] = []
    key = Secret(_credential(s.seed, "bluemind"), field="api_key")
    for i in range(s.plugins):
        name = f"Demo Plugin {i}"
        plugins.append(
            BlueMindEntry(
                name=f"{name} 1.{i}.0",
                index=i,
                api_key=key,
                plugin=name,
                version=f"1.{i}.0",
                target_bm_versions="4.x",
                release_notes="First release from the storepush demo.",
                package=make_jar(
                    folder / f"plugin{i}.jar",
                    name=f"plugin{i}",
                    size=max(32 * 1024, size // 4),
                    seed=i,
                ),
                create=PluginSpec(
                    name=name,
                    shortdesc="A demo add-on",
                    description="Published by storepush demo against its emulator.",
                    license="MIT",
                    installation_instructions="Copy the jar into the extensions folder.",
                    home_url="https://example.com/demo",
                    thumbnail=logo,
                    screenshots=shots,
                ),
            )
        )
    return apps, plugins


def verify(emu: Emulator, apps: list[BazaarEntry], plugins: list[BlueMindEntry]) -> list[str]:
    """What is wrong with the emulator's state, if anything (empty: exactly once, all of it)."""
    problems: list[str] = []
    for item in apps:
        app = emu.world.apps[item.token.reveal()]
        files = [p for p, _ in item.apks] or ([item.aab] if item.aab else [])
        expected = sorted(_sha1(p) for p in files)
        committed = [r for r in app.releases if r.committed]
        if len(app.releases) != 1 or len(committed) != 1:
            problems.append(
                f"{item.name}: {len(app.releases)} releases, {len(committed)} committed"
            )
            continue
        got = sorted(p.sha1_hash for p in committed[0].packages)
        if got != expected:
            problems.append(f"{item.name}: packages {got} != files {expected}")
    by_name = {p.name: p for p in emu.world.plugins.values()}
    for plugin_item in plugins:
        plugin = by_name.get(plugin_item.plugin)
        versions = [v.version for v in plugin.versions] if plugin else []
        if versions != [plugin_item.version]:
            problems.append(f"{plugin_item.plugin}: versions {versions}")
        elif plugin and plugin.versions[0].package.get("sha1") != _sha1(plugin_item.package):
            problems.append(f"{plugin_item.plugin}: package SHA-1 differs")
    if len(by_name) != len(plugins):
        problems.append(f"{len(by_name)} plugins exist, {len(plugins)} expected")
    return problems


async def run_demo(
    settings: DemoSettings,
    *,
    mode: ProgressMode = ProgressMode.OFF,
    on_warning: Callable[[str, str], None] = lambda text, item: None,
) -> tuple[BatchReport, dict[str, Any]]:
    """Write the samples, start the emulator, run the batch, check the emulator's state."""
    with tempfile.TemporaryDirectory(prefix="storepush-demo-") as tmp:
        folder = Path(tmp)
        apps, plugins = await asyncio.to_thread(_write_samples, folder, settings)
        faults = Faults(
            seed=settings.seed,
            error_rate=settings.error_rate,
            throttle_rate=settings.throttle_rate,
            drop_rate=settings.drop_rate,
            acted_fail_rate=settings.acted_fail_rate,
            latency=settings.latency,
            jitter=settings.latency / 2,
        )
        emulator = Emulator(
            apps={item.token.reveal(): item.name for item in apps},
            users={plugins[0].api_key.reveal(): "demo"} if plugins else {},
            faults=faults,
            quotas=Quotas(default=Quota(rate=4, burst=3)),
            review_seconds=0.2,
            bundle_seconds=0.2,
        )
        async with emulator as emu:
            manifest = Manifest(folder / "demo.toml", bazaar=apps, bluemind=plugins)
            environ = {
                "STOREPUSH_BAZAAR_BASE_URL": emu.bazaar_url,
                "STOREPUSH_BLUEMIND_BASE_URL": emu.bluemind_url,
            }
            async with Session(
                retry=retry_config(8, None),
                max_connections=max(10, settings.concurrency),
                # the emulator processes bundles at once: no need to keep to one call a minute
                limits=Limits(per_endpoint={"bundle-status": RateLimit(2, 1)}),
            ) as session:
                ready = preflight(manifest, session, flags={}, environ=environ, resume=False)
                reporter = make_reporter(
                    mode,
                    sys.stderr,
                    batch_total=sum(item.size for item in ready),
                    items=len(ready),
                )
                try:
                    report = await BatchRun(
                        ready,
                        session,
                        concurrency=settings.concurrency,
                        reporter=reporter,
                        on_warning=on_warning,
                    ).run()
                finally:
                    reporter.close()
            problems = verify(emu, apps, plugins)
            faults_seen: dict[str, int] = {}
            for entry in emu.log:
                if entry["fault"]:
                    faults_seen[entry["fault"]] = faults_seen.get(entry["fault"], 0) + 1
            summary = {
                "check": "passed" if not problems and report.ok else "failed",
                "problems": problems,
                "apps": len(apps),
                "plugins": len(plugins),
                "server_requests": len(emu.log),
                "throttled_429": emu.counts(status=429),
                "faults_injected": faults_seen,
            }
    return report, summary


def summary_lines(doc: dict[str, Any]) -> list[str]:
    """The demo's human summary (every figure in words: no raw Python values)."""
    summary = doc["demo"]
    totals = doc["totals"]
    seconds = max(totals["seconds"], 1e-9)
    megabytes = totals["bytes_sent"] / 1e6
    faults = ", ".join(
        f"{count} {kind}" for kind, count in sorted(summary["faults_injected"].items())
    )
    lines = [
        f"storepush demo: {summary['apps']} apps and {summary['plugins']} plugins",
        f"  items {totals['items'] - totals['failed']}/{totals['items']} done, "
        f"{megabytes:.1f} MB at {megabytes / seconds:.1f} MB/s, {totals['seconds']:.1f} s",
        f"  {totals['retries']} retries, {summary['throttled_429']} 429s absorbed, "
        f"faults injected: {faults or 'none'}",
        f"  exactly-once check: {'passed' if doc['ok'] else 'failed'}",
    ]
    lines.extend(f"  - {problem}" for problem in summary["problems"])
    return lines
