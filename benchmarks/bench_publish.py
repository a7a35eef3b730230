"""Whole publish: `storepush bazaar publish` against curl making the same three calls.

One APK per size, published to the emulator (its own process, reset before every publish)
by `storepush --json bazaar publish APK` in its own process, and by curl doing create,
upload and commit (three processes, as a shell script would). Alternating, median of 3.

- Time: storepush's time from the start of its work to its exit. The work starts at the first
  of: the child holding the APK open (watched in `/proc/<pid>/fd` every 3 ms) or the first
  request reaching the emulator (its log, on the same monotonic clock); what comes before is
  start-up, and varies from run to run by more than a small publish takes, so it is taken
  out of each run. curl's time is the sum of its three processes minus three times `curl
  --version`'s wall time.
- CPU: user + system seconds of each child (`os.wait4`), minus the median CPU of start-up
  measured separately: the same command given a file that is not an APK (it exits with code 2
  inside `publish`, before any request, having imported and set up what a publish does).
- Reads of the file: one extra publish under `strace -f`, counting the bytes the process
  reads from the APK's file descriptors (read, pread, readv...), separately from bytes the
  kernel sends from it (sendfile, splice, copy_file_range) and bytes it maps (mmap). As a
  cross-check, every timed run's `rchar` (all bytes read through system calls, the file's
  included) over the file size, less the start-up run's.
- Memory: the child's peak RSS (VmHWM), smallest file to largest.
"""

from __future__ import annotations

import json
import os
import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from harness import (
    GIB,
    MIB,
    SECRET_HEADER,
    ChildRun,
    Context,
    EmulatorProcess,
    FirstOpen,
    Spread,
    curl,
    curl_upload,
    emulator_process,
    have,
    pyplot,
    run_child,
    sample_apk,
)
from report import Target

NAME = "publish"
TITLE = "Whole publish of one APK: storepush vs curl's three calls"
TOKEN = "bench-publish-token"
PACKAGE = "com.bench.publish"
#: What storepush sends on commit by default, so curl's commit does the same work.
COMMIT_BODY = json.dumps(
    {
        "changelog_en": "",
        "changelog_fa": "",
        "developer_note": "",
        "staged_rollout_percentage": 100,
        "auto_publish": False,
    }
)


@dataclass(frozen=True)
class SizeRow:
    size: int
    storepush_seconds: Spread  #: wall time minus start-up
    curl_seconds: Spread  #: three processes' wall time minus three start-ups
    storepush_cpu: Spread  #: CPU seconds minus start-up's
    curl_cpu: Spread
    storepush_rss_mib: float  #: the largest peak RSS over the runs
    curl_rss_mib: float
    storepush_rchar: Spread  #: (rchar - start-up's rchar) / size
    emulator_cpu_storepush: Spread  #: the emulator's CPU seconds during storepush's publish
    emulator_cpu_curl: Spread

    @property
    def ratio(self) -> float:
        return self.storepush_seconds.median / self.curl_seconds.median

    def mbps(self, seconds: Spread) -> Spread:
        return Spread.of([self.size / s / 1e6 for s in seconds.values])


@dataclass(frozen=True)
class FileReads:
    """What one publish did with the APK's bytes, from `strace -f`."""

    size: int
    read: int  #: bytes read into the process
    sent: int  #: bytes the kernel sent straight from the file (sendfile, splice)
    mapped: int  #: bytes mapped with mmap
    opens: int

    @property
    def reads(self) -> float:
        return self.read / self.size


@dataclass(frozen=True)
class PublishBench:
    rows: list[SizeRow]
    repeats: int
    startup: Spread  #: launch to the start of the work, over every storepush run
    startup_reference: Spread  #: wall time of the command given a file that is not an APK
    startup_cpu: Spread
    curl_startup: Spread
    reads: FileReads | None
    reads_note: str
    plot: str | None
    notes: list[str] = field(default_factory=list)

    title = TITLE

    @property
    def largest(self) -> SizeRow:
        return self.rows[-1]

    def cpu_per_gib(self, cpu: Spread) -> float:
        return cpu.median / (self.largest.size / GIB)

    @property
    def rss_base(self) -> SizeRow:
        """The row peak RSS growth is measured from: 64 MiB (the issue's figure), if run."""
        return next((r for r in self.rows[:-1] if r.size == 64 * MIB), self.rows[0])

    def rss_growth(self) -> tuple[float, float]:
        first, last = self.rss_base, self.rows[-1]
        return (
            last.storepush_rss_mib - first.storepush_rss_mib,
            last.curl_rss_mib - first.curl_rss_mib,
        )

    def targets(self) -> list[Target]:
        big = self.largest
        size = f"{big.size // MIB} MiB"
        sp_cpu, curl_cpu = self.cpu_per_gib(big.storepush_cpu), self.cpu_per_gib(big.curl_cpu)
        growth, curl_growth = self.rss_growth()
        reads = self.reads.reads if self.reads else big.storepush_rchar.median
        how = "strace" if self.reads else "rchar"
        return [
            Target(
                f"whole `publish` of {size}, time ÷ curl's three calls (start-up excluded)",
                "≤ 1.0×",
                f"{big.ratio:.2f}×",
                big.ratio <= 1.0,
                time_limit(big, reads),
            ),
            Target(
                "client CPU seconds per GiB published (curl's beside it)",
                "≤ 1.0 s",
                f"{sp_cpu:.2f} s (curl {curl_cpu:.2f} s)",
                sp_cpu <= 1.0,
                cpu_limit(big, reads),
            ),
            Target(
                f"reads of the file per publish, common case ({how})",
                "1",
                f"{reads:.2f}",
                reads <= 1.05,
                reads_limit(self.reads),
            ),
            Target(
                f"peak RSS growth from {self.rss_base.size // MIB} MiB to {size}",
                "< 16 MiB",
                f"{growth:+.1f} MiB (curl {curl_growth:+.1f})",
                growth < 16,
                "memory grows with the file: something holds the body",
            ),
        ]

    def markdown(self) -> str:
        rows = []
        for row in self.rows:
            rows.append(
                f"| {row.size // MIB} MiB | storepush | {row.storepush_seconds.show('{:.3f}')} | "
                f"{row.mbps(row.storepush_seconds).show()} | {row.ratio:.2f}× | "
                f"{row.storepush_cpu.show('{:.2f}')} | {row.emulator_cpu_storepush.show('{:.2f}')} | "
                f"{row.storepush_rss_mib:.0f} | {row.storepush_rchar.show('{:.2f}')} |"
            )
            rows.append(
                f"| {row.size // MIB} MiB | curl | {row.curl_seconds.show('{:.3f}')} | "
                f"{row.mbps(row.curl_seconds).show()} | 1.00× | {row.curl_cpu.show('{:.2f}')} | "
                f"{row.emulator_cpu_curl.show('{:.2f}')} | {row.curl_rss_mib:.0f} | — |"
            )
        reads = ""
        if self.reads:
            r = self.reads
            reads = (
                f"\nReads of the file, from `strace -f` of one publish of {r.size / MIB:.0f} MiB: "
                f"{r.read / MIB:.1f} MiB read into the process ({r.reads:.2f}× the file), "
                f"{r.sent / MIB:.1f} MiB sent by the kernel straight from it (sendfile/splice), "
                f"{r.mapped / MIB:.1f} MiB mapped; the file was opened {r.opens} times.\n"
            )
        elif self.reads_note:
            reads = f"\n{self.reads_note}\n"
        plot = f"\n![throughput against file size]({self.plot})\n" if self.plot else ""
        notes = "".join(f"\n{n}\n" for n in self.notes)
        return f"""Median (min–max) of {self.repeats} runs each, alternating. storepush is
`storepush --json bazaar publish APK` (its reads, create, upload, commit); curl is three
processes (create, `-F apk=@...` upload, commit) to the same emulator, reset before each publish.
Start-up is left out. storepush's time runs from the start of its work (the first of: holding
the APK open, its first request at the emulator) to its exit; before that, start-up took
{self.startup.show("{:.3f}")} s in these runs (the command given a file that is not an APK,
which fails inside `publish` before any request, took {self.startup_reference.show("{:.3f}")} s
and {self.startup_cpu.show("{:.2f}")} s of CPU, which is taken off the CPU figures). curl's
start-up, {self.curl_startup.show("{:.3f}")} s per process (`curl --version`), is taken off each
of its three processes. CPU is the client child's user + system time; "emulator CPU" is what
the emulator process used meanwhile (two cores are shared by client and emulator). rchar ÷ size:
bytes the process read through system calls (its file, sockets) over the file size, less the
start-up run's; the kernel counts a `sendfile` there too, so 2.00 is one read to hash and one
zero-copy send (strace below tells them apart).

| file | client | seconds | MB/s | time vs curl | client CPU s | emulator CPU s | peak RSS MiB | rchar ÷ size |
|---|---|---|---|---|---|---|---|---|
{chr(10).join(rows)}
{reads}{plot}{notes}"""


def time_limit(row: SizeRow, reads: float) -> str:
    """What the time figure says about its limit, from this run's figures."""
    t, cpu = row.storepush_seconds.median, row.storepush_cpu.median
    ct, ccpu = row.curl_seconds.median, row.curl_cpu.median
    parts = [
        f"storepush used {cpu:.2f} s of CPU in {t:.2f} s ({cpu / t:.0%} of a core), "
        f"curl {ccpu:.2f} s in {ct:.2f} s",
        f"the emulator used {row.emulator_cpu_storepush.median:.2f} s vs "
        f"{row.emulator_cpu_curl.median:.2f} s of CPU meanwhile (2 cores for both)",
    ]
    if reads > 1.05:
        parts.append(f"storepush reads the file {reads:.2f}× (curl once)")
    return "; ".join(parts)


def cpu_limit(row: SizeRow, reads: float) -> str:
    cpu = row.storepush_cpu.median
    return (
        f"{cpu:.2f} s of CPU for {row.size / MIB:.0f} MiB over {reads:.2f} passes over the file "
        f"(about {cpu / max(reads, 1.0):.2f} s a pass, hashing and the upload loop included); "
        f"curl used {row.curl_cpu.median:.2f} s: it copies in C and hashes nothing"
    )


def reads_limit(reads: FileReads | None) -> str:
    if reads is None:
        return "rchar counts every byte read (sockets too): see the strace figure when available"
    return (
        f"the process read {reads.read / MIB:.0f} MiB from a {reads.size / MIB:.0f} MiB file, "
        f"which it opened {reads.opens} times"
    )


# -- measuring ---------------------------------------------------------------------------------


def storepush_publish(ctx: Context, emu: EmulatorProcess, apk: Path) -> list[str]:
    return [ctx.storepush, "--json", "bazaar", "publish", str(apk), "--base-url", emu.bazaar_url]


def storepush_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STOREPUSH_")}
    env["STOREPUSH_BAZAAR_TOKEN"] = TOKEN
    return env


def curl_publish(emu: EmulatorProcess, apk: Path) -> list[list[str]]:
    base = emu.bazaar_url + "/apps/releases/"
    auth = ["-H", f"{SECRET_HEADER}: {TOKEN}", "-H", "Accept: application/json"]
    json_body = ["-H", "Content-Type: application/json", "--data", COMMIT_BODY]
    return [
        curl("-X", "POST", *auth, base),
        curl_upload(apk, base + "upload/", TOKEN),
        curl("-X", "POST", *auth, *json_body, base + "commit/"),
    ]


@dataclass
class _Runs:
    seconds: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    rss: list[float] = field(default_factory=list)
    rchar: list[float] = field(default_factory=list)
    emulator_cpu: list[float] = field(default_factory=list)
    startup: list[float] = field(default_factory=list)


def _one_storepush(ctx: Context, emu: EmulatorProcess, apk: Path) -> tuple[ChildRun, float, float]:
    """One publish: the run, the emulator's CPU meanwhile, and when the work began."""
    emu.reset()
    before = emu.cpu_seconds()
    opened = FirstOpen(apk)
    run = run_child(storepush_publish(ctx, emu, apk), env=storepush_env(), watch=opened).check()
    doc = json.loads(run.stdout)
    if not doc.get("ok") or doc.get("already_committed"):
        raise RuntimeError(f"storepush did not publish: {run.stdout[-400:]}")
    first_request = min((float(e["t"]) for e in emu.log()), default=None)
    began = min(t for t in (opened.at, first_request, run.ended_at) if t is not None)
    return run, emu.cpu_seconds() - before, began


def _one_curl(emu: EmulatorProcess, apk: Path) -> tuple[list[ChildRun], float]:
    emu.reset()
    before = emu.cpu_seconds()
    runs = [run_child(command).check() for command in curl_publish(emu, apk)]
    return runs, emu.cpu_seconds() - before


def startup_run(ctx: Context, emu: EmulatorProcess, not_apk: Path) -> ChildRun:
    """The publish command given a file that is not an APK: everything but the work."""
    return run_child(storepush_publish(ctx, emu, not_apk), env=storepush_env())


def trace_reads(ctx: Context, emu: EmulatorProcess, apk: Path) -> FileReads:
    """One publish under `strace -f`: what it read, sent and mapped from the APK."""
    trace = ctx.scratch("publish") / "strace.txt"
    emu.reset()
    syscalls = (
        "open,openat,close,read,pread64,readv,preadv,preadv2,sendfile,copy_file_range,splice,"
        "mmap,dup,dup2,dup3,fcntl"
    )
    command = ["strace", "-f", "-qq", "-s", "0", "-e", f"trace={syscalls}", "-o", str(trace)]
    run_child([*command, *storepush_publish(ctx, emu, apk)], env=storepush_env()).check()
    try:
        return count_file_io(trace.read_text(errors="replace").splitlines(), apk)
    finally:
        trace.unlink(missing_ok=True)


_DONE = re.compile(r"^(\d+)\s+(\w+)\((.*)\)\s+=\s+(-?\d+|0x[0-9a-f]+)")
_UNFINISHED = re.compile(r"^(\d+)\s+(\w+)\((.*)\s*<unfinished \.\.\.>$")
_RESUMED = re.compile(r"^(\d+)\s+<\.\.\. (\w+) resumed>(.*)\)\s+=\s+(-?\d+|0x[0-9a-f]+)")


def count_file_io(lines: Sequence[str], path: Path) -> FileReads:
    """Sum what a traced process did with `path`'s descriptors, from `strace -f` lines."""
    wanted = {str(path), os.path.realpath(path)}
    open_fds: set[int] = set()
    pending: dict[str, tuple[str, str]] = {}
    read = sent = mapped = opens = 0

    def first_int(args: str, index: int = 0) -> int | None:
        parts = [p.strip() for p in args.split(",")]
        try:
            return int(parts[index])
        except (IndexError, ValueError):
            return None

    for line in lines:
        m = _DONE.match(line)
        if m:
            _, name, args, ret = m.groups()
        else:
            u = _UNFINISHED.match(line)
            if u:
                pending[u.group(1)] = (u.group(2), u.group(3))
                continue
            r = _RESUMED.match(line)
            if not r or r.group(1) not in pending:
                continue
            name, head = pending.pop(r.group(1))
            args, ret = head + r.group(3), r.group(4)
        value = int(ret, 16) if ret.startswith("0x") else int(ret)
        if name in ("open", "openat"):
            quoted = re.search(r'"((?:[^"\\]|\\.)*)"', args)
            if quoted and quoted.group(1) in wanted and value >= 0:
                open_fds.add(value)
                opens += 1
        elif name == "close":
            fd = first_int(args)
            if fd is not None:
                open_fds.discard(fd)
        elif name in ("dup", "dup2", "dup3") or (name == "fcntl" and "F_DUPFD" in args):
            fd = first_int(args)
            if fd in open_fds and value >= 0:
                open_fds.add(value)
        elif name in ("read", "pread64", "readv", "preadv", "preadv2"):
            if first_int(args) in open_fds and value > 0:
                read += value
        elif name in ("sendfile", "copy_file_range", "splice"):
            source = first_int(args, 1 if name == "sendfile" else 0)
            if source in open_fds and value > 0:
                sent += value
        elif name == "mmap":
            fd = first_int(args, 4)
            length = first_int(args, 1)
            if fd in open_fds and length:
                mapped += length
    return FileReads(path.stat().st_size, read, sent, mapped, opens)


def throughput_plot(ctx: Context, rows: list[SizeRow]) -> str | None:
    plt = pyplot()
    if plt is None:
        return None
    fig, ax = plt.subplots(figsize=(7, 3.5))
    sizes = [r.size / MIB for r in rows]
    for label, spreads in (
        ("storepush bazaar publish", [r.mbps(r.storepush_seconds) for r in rows]),
        ("curl: create, upload, commit", [r.mbps(r.curl_seconds) for r in rows]),
    ):
        med = [s.median for s in spreads]
        ax.errorbar(
            sizes,
            med,
            yerr=[[m - s.low for m, s in zip(med, spreads, strict=True)],
                  [s.high - m for m, s in zip(med, spreads, strict=True)]],
            marker="o",
            capsize=3,
            label=label,
        )  # fmt: skip
    ax.set_xscale("log", base=2)
    ax.set_xticks(sizes, [f"{s:g}" for s in sizes])
    ax.set_xlabel("APK size (MiB)")
    ax.set_ylabel("MB/s (start-up excluded)")
    ax.set_ylim(bottom=0)
    ax.set_title("Whole publish to the local emulator: throughput against file size")
    ax.legend()
    fig.tight_layout()
    name = "publish-throughput.png"
    fig.savefig(ctx.out_dir / name, dpi=100)
    plt.close(fig)
    return name


def run(ctx: Context) -> PublishBench:
    if not have("curl"):
        raise RuntimeError("curl is not installed: nothing to compare with")
    sizes = [4 * MIB, 16 * MIB, 64 * MIB] if ctx.quick else [16 * MIB, 64 * MIB, 256 * MIB, GIB]
    repeats = 3
    notes: list[str] = []
    apks = {
        size: sample_apk(ctx, "publish", package=PACKAGE, version_code=2, size=size, seed=size)
        for size in sizes
    }
    not_apk = ctx.scratch("publish") / "not-an-apk.apk"
    not_apk.write_bytes(b"this is not a zip archive\n")
    with emulator_process(ctx, {TOKEN: PACKAGE}) as emu:
        startups = [startup_run(ctx, emu, not_apk) for _ in range(5)]
        curl_startup = Spread.of(
            [run_child(["curl", "--version"], sample=False).wall for _ in range(5)]
        )
        measured: dict[int, tuple[_Runs, _Runs]] = {}
        for size, apk in apks.items():
            sp, cu = measured.setdefault(size, (_Runs(), _Runs()))
            for _ in range(repeats):
                run, emu_cpu, began = _one_storepush(ctx, emu, apk)
                sp.seconds.append(run.ended_at - began)
                sp.startup.append(began - run.started_at)
                sp.cpu.append(run.cpu)
                sp.rss.append(run.peak_rss_mib)
                sp.rchar.append(run.rchar)
                sp.emulator_cpu.append(emu_cpu)
                runs, emu_cpu = _one_curl(emu, apk)
                cu.seconds.append(max(1e-6, sum(r.wall for r in runs) - 3 * curl_startup.median))
                cu.cpu.append(sum(r.cpu for r in runs))
                cu.rss.append(max(r.peak_rss_mib for r in runs))
                cu.emulator_cpu.append(emu_cpu)
        codes = {r.returncode for r in startups}
        if codes != {2}:
            notes.append(f"The start-up command exited with {sorted(codes)} (expected 2).")
        startup = Spread.of([t for sp, _ in measured.values() for t in sp.startup])
        startup_reference = Spread.of([r.wall for r in startups])
        startup_cpu = Spread.of([r.cpu for r in startups])
        startup_rchar = statistics.median(r.rchar for r in startups)
        rows = [
            SizeRow(
                size,
                Spread.of(sp.seconds),
                Spread.of(cu.seconds),
                Spread.of([c - startup_cpu.median for c in sp.cpu]),
                Spread.of(cu.cpu),
                max(sp.rss),
                max(cu.rss),
                Spread.of([(r - startup_rchar) / size for r in sp.rchar]),
                Spread.of(sp.emulator_cpu),
                Spread.of(cu.emulator_cpu),
            )
            for size, (sp, cu) in measured.items()
        ]
        reads: FileReads | None = None
        reads_note = ""
        traced = apks[sizes[-2]] if len(sizes) > 1 else apks[sizes[0]]
        if have("strace"):
            try:
                reads = trace_reads(ctx, emu, traced)
            except RuntimeError as exc:
                reads_note = f"strace could not trace the publish ({exc}); reads are from rchar."
        else:
            reads_note = "strace is not installed: reads of the file are estimated from rchar."
    return PublishBench(
        rows,
        repeats,
        startup,
        startup_reference,
        startup_cpu,
        curl_startup,
        reads,
        reads_note,
        throughput_plot(ctx, rows),
        notes,
    )
