"""The upload call alone: storepush vs curl vs the documented `requests` way, into a fast sink.

The sink (`upload_server.py`, its own process) parses just enough multipart to hash the file
part, so it is not the limit. Each client is its own process and reports its own upload time
(storepush and requests time the call, session and connection included; curl its
`time_total`), so process start-up is not counted. Peak RSS is each program's own (VmHWM),
the interpreter included for the Python clients; CPU is each child's user + system time, all of
the process (start-up included). Alternating, 3 runs each.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass

from harness import (
    GIB,
    HERE,
    MIB,
    ChildRun,
    Context,
    Spread,
    curl_upload,
    free_port,
    have,
    run_child,
    sample_apk,
    wait_port,
)
from report import Target

NAME = "upload"
TITLE = "The upload call: storepush vs curl vs requests"
CLIENTS = ("storepush", "requests", "curl")


@dataclass(frozen=True)
class ClientRow:
    size: int
    client: str
    mbps: Spread
    cpu: Spread  #: CPU seconds of the whole process (start-up included)
    peak_rss_mib: float


@dataclass(frozen=True)
class UploadBench:
    rows: list[ClientRow]
    sizes: list[int]
    repeats: int

    title = TITLE

    def row(self, size: int, client: str) -> ClientRow | None:
        return next((r for r in self.rows if r.size == size and r.client == client), None)

    def ratio(self, size: int, client: str) -> float:
        mine, ref = self.row(size, client), self.row(size, "curl")
        if mine is None or ref is None:
            return float("nan")
        return mine.mbps.median / ref.mbps.median

    def growth(self, client: str) -> float:
        first, last = self.row(self.sizes[0], client), self.row(self.sizes[-1], client)
        return (
            float("nan")
            if first is None or last is None
            else last.peak_rss_mib - first.peak_rss_mib
        )

    def targets(self) -> list[Target]:
        big = self.sizes[-1]
        ratio = self.ratio(big, "storepush")
        sp, cu = self.row(big, "storepush"), self.row(big, "curl")
        limit = ""
        if sp and cu:
            limit = (
                f"storepush's process used {sp.cpu.median:.2f} CPU s (start-up included) against "
                f"curl's {cu.cpu.median:.2f} for the same bytes (it also computes SHA-1); client "
                "and sink share 2 cores"
            )
        return [
            Target(
                f"upload call throughput ÷ curl ({big // MIB} MiB)",
                "≥ 1.0×",
                f"{ratio:.2f}×",
                ratio >= 1.0,
                limit,
            ),
            Target(
                "upload call: storepush peak RSS growth with file size",
                "< 16 MiB",
                f"{self.growth('storepush'):+.1f} MiB",
                self.growth("storepush") < 16,
                "the body is held in memory",
            ),
        ]

    def markdown(self) -> str:
        lines = []
        for r in self.rows:
            lines.append(
                f"| {r.size // MIB} MiB | {r.client} | {r.mbps.show()} | "
                f"{self.ratio(r.size, r.client):.2f}× | {r.cpu.show('{:.2f}')} | "
                f"{r.peak_rss_mib:.0f} |"
            )
        growth = ", ".join(
            f"{c} {self.growth(c):+.0f} MiB" for c in CLIENTS if self.row(self.sizes[0], c)
        )
        return f"""MB/s and CPU seconds (the whole process) are median (min–max) of {self.repeats}; the ratio is
against curl's median in the same run.

| file | client | MB/s | vs curl | CPU s | peak RSS (MiB) |
|---|---|---|---|---|---|
{chr(10).join(lines)}

Peak RSS growth from {self.sizes[0] // MIB} MiB to {self.sizes[-1] // MIB} MiB: {growth}. The
documented `requests` way reads the whole body into memory (its RSS grows with the file).
"""


def _parse(run: ChildRun) -> tuple[float, float]:
    """The upload seconds a client printed (and the peak RSS a Python client printed)."""
    fields = run.check().stdout.strip().splitlines()[-1].split()
    return float(fields[0]), float(fields[1]) if len(fields) > 1 else 0.0


def run(ctx: Context) -> UploadBench:
    sizes = [8 * MIB, 64 * MIB] if ctx.quick else [64 * MIB, GIB]
    repeats = 2 if ctx.quick else 3
    port = free_port()
    server = subprocess.Popen([ctx.python, str(HERE / "upload_server.py"), str(port)])
    rows = []
    try:
        wait_port(port, proc=server)
        base = f"http://127.0.0.1:{port}/v1"
        for size in sizes:
            apk = sample_apk(
                ctx, "upload", package="com.bench", version_code=2, size=size, seed=size
            )
            real = apk.stat().st_size
            commands = {
                name: [ctx.python, str(HERE / "upload_client.py"), name, str(apk), base]
                for name in ("storepush", "requests")
            }
            if have("curl"):
                commands["curl"] = curl_upload(apk, base + "/apps/releases/upload/", "bench-token")
            speeds: dict[str, list[float]] = {n: [] for n in commands}
            cpus: dict[str, list[float]] = {n: [] for n in commands}
            peaks: dict[str, float] = dict.fromkeys(commands, 0.0)
            for _ in range(repeats):  # alternate, so drift on a noisy machine hits each alike
                for name, command in commands.items():
                    done = run_child(command)
                    seconds, printed_peak = _parse(done)
                    speeds[name].append(real / seconds / 1e6)
                    cpus[name].append(done.cpu)
                    peaks[name] = max(peaks[name], done.peak_rss_mib, printed_peak)
            for name in commands:
                rows.append(
                    ClientRow(
                        size, name, Spread.of(speeds[name]), Spread.of(cpus[name]), peaks[name]
                    )
                )
    finally:
        server.terminate()
        server.wait()
    return UploadBench(rows, sizes, repeats)
