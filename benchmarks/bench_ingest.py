"""The emulator's ingest: curl uploading one large APK into it (its own process), 3 runs.

Between runs the emulator is reset and a draft created, so each upload is a real one. The
emulator's CPU seconds (all its threads, from /proc) and the growth of its peak RSS during the
upload say whether it, rather than curl, is the limit.
"""

from __future__ import annotations

import urllib.request
from dataclasses import dataclass

from harness import (
    GIB,
    MIB,
    SECRET_HEADER,
    Context,
    Spread,
    curl_upload,
    emulator_process,
    have,
    run_child,
    sample_apk,
)
from report import Target

NAME = "ingest"
TITLE = "The emulator's ingest"
TOKEN = "bench-ingest-token"
PACKAGE = "com.bench"  # the package of the upload section's sample, shared with it
GOAL_MBPS = 1000.0
GOAL_RSS_MIB = 32.0


@dataclass(frozen=True)
class IngestBench:
    size: int
    mbps: Spread
    emulator_cpu: Spread  #: CPU seconds of the emulator per upload
    curl_cpu: Spread
    seconds: Spread
    rss_growth_mib: float  #: the largest growth of the emulator's peak RSS during an upload

    title = TITLE

    def targets(self) -> list[Target]:
        mbps = self.mbps.median
        busy = self.emulator_cpu.median / self.seconds.median
        return [
            Target(
                "emulator ingest (curl uploading into it)",
                f"≥ {GOAL_MBPS / 1000:g} GB/s, flat memory",
                f"{mbps:.0f} MB/s",
                mbps >= GOAL_MBPS,
                f"the emulator's CPU: {self.emulator_cpu.median:.2f} s per upload of "
                f"{self.seconds.median:.2f} s ({busy:.0%} of a core, parsing and hashing); curl "
                f"used {self.curl_cpu.median:.2f} s of the 2 cores",
            ),
            Target(
                "emulator peak RSS growth during an upload",
                f"< {GOAL_RSS_MIB:g} MiB",
                f"{self.rss_growth_mib:.1f} MiB",
                self.rss_growth_mib < GOAL_RSS_MIB,
                "the emulator buffers the body",
            ),
        ]

    def markdown(self) -> str:
        return f"""curl uploading {self.size // MIB} MiB into the emulator, 3 runs: {self.mbps.show()} MB/s
in {self.seconds.show("{:.2f}")} s; the emulator used {self.emulator_cpu.show("{:.2f}")} CPU
seconds per upload, curl {self.curl_cpu.show("{:.2f}")}. Growth of the emulator's peak RSS
during an upload: at most {self.rss_growth_mib:.1f} MiB.
"""


def run(ctx: Context) -> IngestBench:
    if not have("curl"):
        raise RuntimeError("curl is not installed")
    size = 64 * MIB if ctx.quick else GIB
    apk = sample_apk(ctx, "upload", package=PACKAGE, version_code=2, size=size, seed=size)
    speeds, cpu, curl_cpu, seconds, growth = [], [], [], [], []
    with emulator_process(ctx, {TOKEN: PACKAGE}) as emu:
        for _ in range(3):
            emu.reset()
            create = urllib.request.Request(
                f"{emu.bazaar_url}/apps/releases/", method="POST", headers={SECRET_HEADER: TOKEN}
            )
            with urllib.request.urlopen(create, timeout=30) as answer:
                answer.read()
            before_rss, before_cpu = emu.peak_rss_mib(), emu.cpu_seconds()
            done = run_child(curl_upload(apk, emu.bazaar_url + "/apps/releases/upload/", TOKEN))
            took = float(done.check().stdout.strip().splitlines()[-1])
            cpu.append(emu.cpu_seconds() - before_cpu)
            growth.append(emu.peak_rss_mib() - before_rss)
            speeds.append(apk.stat().st_size / took / 1e6)
            seconds.append(took)
            curl_cpu.append(done.cpu)
    return IngestBench(
        size,
        Spread.of(speeds),
        Spread.of(cpu),
        Spread.of(curl_cpu),
        Spread.of(seconds),
        max(growth),
    )
