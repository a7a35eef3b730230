"""The benchmarks' harness: child processes and what they cost, statistics, the emulator and curl.

Every contender runs as its own process, started and measured here the same way:

- wall time from just before the process starts to the moment it exits (a pidfd tells us at
  once, so the figure is not rounded to a sampling interval);
- CPU seconds (user + system) of that child alone, from `os.wait4`;
- peak RSS as the program's own `VmHWM` from `/proc/<pid>/status`, sampled every few ms while
  it runs (`ru_maxrss` would count the parent's pages: the child starts as a copy of this
  process). `VmHWM` is a high-water mark, so only growth in the last interval can be missed;
- bytes read through system calls, `rchar` from `/proc/<pid>/io`, read once the child has
  exited but before it is reaped (a zombie keeps its I/O counters).

Nothing here asserts a timing: the benchmarks report ratios measured within one run.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import inspect
import json
import os
import platform
import select
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
MIB = 1024 * 1024
GIB = 1024 * MIB
#: The emulator's Pishkhan header, restated here as any client of the wire would.
SECRET_HEADER = "CAFEBAZAAR-PISHKHAN-API-SECRET"


# -- context -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Context:
    """What every benchmark gets: the mode, a cache for sample files, where plots go."""

    quick: bool
    work: Path  #: sample files (cached across runs) and scratch files
    out_dir: Path  #: where RESULTS.md and the PNGs are written
    python: str = sys.executable

    @property
    def storepush(self) -> str:
        """The `storepush` console script of this interpreter's environment."""
        beside = Path(self.python).parent / "storepush"
        return str(beside) if beside.exists() else (shutil.which("storepush") or "storepush")

    def scratch(self, name: str) -> Path:
        path = self.work / "scratch" / name
        path.mkdir(parents=True, exist_ok=True)
        return path


# -- statistics --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Spread:
    """Median and range of repeated measurements."""

    values: tuple[float, ...]

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread:
        if not values:
            raise ValueError("no measurement")
        return cls(tuple(values))

    @property
    def median(self) -> float:
        return float(statistics.median(self.values))

    @property
    def low(self) -> float:
        return min(self.values)

    @property
    def high(self) -> float:
        return max(self.values)

    def show(self, fmt: str = "{:.0f}") -> str:
        """``median (min–max)``."""
        if len(self.values) == 1:
            return fmt.format(self.median)
        return f"{fmt.format(self.median)} ({fmt.format(self.low)}–{fmt.format(self.high)})"


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0..1) by linear interpolation; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


# -- child processes ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ChildRun:
    """One finished child process and what it cost."""

    command: tuple[str, ...]
    returncode: int
    wall: float  #: seconds, start to exit
    user: float  #: CPU seconds in user mode
    system: float  #: CPU seconds in the kernel
    peak_rss_mib: float  #: VmHWM, sampled (0 when not sampled)
    rchar: int  #: bytes read through system calls (files, sockets, pipes)
    stdout: str
    stderr: str
    started_at: float = 0.0  #: `time.monotonic()` just before the process started
    ended_at: float = 0.0  #: `time.monotonic()` when it exited (the emulator's log clock too)

    @property
    def cpu(self) -> float:
        return self.user + self.system

    def check(self, *, expect: int = 0) -> ChildRun:
        if self.returncode != expect:
            name = " ".join([Path(self.command[0]).name, *self.command[1:3]])
            tail = (self.stderr or self.stdout)[-800:]
            raise RuntimeError(f"{name} exited with {self.returncode}: {tail}")
        return self


def proc_status_kib(pid: int, key: str) -> int | None:
    """A ``kB`` line of ``/proc/<pid>/status`` (``VmHWM``, ``VmRSS``), or None."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return None


def proc_io(pid: int) -> dict[str, int]:
    try:
        with open(f"/proc/{pid}/io") as io:
            return {k: int(v) for k, v in (line.split(":") for line in io if ":" in line)}
    except (OSError, ValueError):
        return {}


def proc_cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds a running process has used so far (all its threads)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def run_child(
    command: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    sample: bool = True,
    interval: float = 0.003,
    timeout: float = 3600.0,
    watch: Callable[[int], None] | None = None,
) -> ChildRun:
    """Run ``command`` to completion as its own process and measure it (see the module doc).

    ``sample=False`` skips the RSS sampling (for start-up timings, where even reading `/proc`
    every few ms is noise). ``watch(pid)`` is called at every sample, to observe the child
    from outside. Output goes to temporary files, so a chatty child never blocks. Times are
    on `time.monotonic()`, the clock the emulator's log uses (CLOCK_MONOTONIC is system-wide).
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.monotonic()
        proc = subprocess.Popen(
            list(command),
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
            env=None if env is None else dict(env),
            cwd=cwd,
        )
        peak = 0
        pidfd = os.pidfd_open(proc.pid)
        try:
            poller = select.poll()
            poller.register(pidfd, select.POLLIN)
            deadline = started + timeout
            while not poller.poll(int(interval * 1000) if sample else 1000):
                if sample:
                    peak = max(peak, proc_status_kib(proc.pid, "VmHWM") or 0)
                    if watch is not None:
                        watch(proc.pid)
                if time.monotonic() > deadline:
                    proc.kill()
            ended = time.monotonic()
        finally:
            os.close(pidfd)
        rchar = proc_io(proc.pid).get("rchar", 0)  # a zombie still has its counters
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return ChildRun(
            tuple(command),
            proc.returncode,
            ended - started,
            usage.ru_utime,
            usage.ru_stime,
            peak / 1024,
            rchar,
            out.read().decode(errors="replace"),
            err.read().decode(errors="replace"),
            started,
            ended,
        )


class FirstOpen:
    """A `run_child` watcher: when the child first holds `path` open (`/proc/<pid>/fd`)."""

    def __init__(self, path: Path) -> None:
        self.paths = {str(path), os.path.realpath(path)}
        self.at: float | None = None

    def __call__(self, pid: int) -> None:
        if self.at is not None:
            return
        folder = f"/proc/{pid}/fd"
        try:
            for fd in os.listdir(folder):
                with contextlib.suppress(OSError):
                    if os.readlink(f"{folder}/{fd}") in self.paths:
                        self.at = time.monotonic()
                        return
        except OSError:
            pass


# -- ports and servers -------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(
    port: int, timeout: float = 30.0, proc: subprocess.Popen[bytes] | None = None
) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode} before listening")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.02)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


@dataclass
class EmulatorProcess:
    """``python -m storepush.emulator`` in its own process, and its admin API."""

    proc: subprocess.Popen[bytes]
    port: int

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def bazaar_url(self) -> str:
        return self.url + "/v1"

    def admin(self, method: str, path: str, body: object = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.url}/_emulator/{path}",
            method=method,
            data=data,
            headers={"Content-Type": "application/json"} if data else {},
        )
        with urllib.request.urlopen(request, timeout=60) as answer:
            return json.loads(answer.read() or b"null")

    def reset(self) -> None:
        self.admin("POST", "reset")

    def log(self) -> list[dict[str, Any]]:
        entries = self.admin("GET", "log")
        return entries if isinstance(entries, list) else []

    def peak_rss_mib(self) -> float:
        return (proc_status_kib(self.pid, "VmHWM") or 0) / 1024

    def cpu_seconds(self) -> float:
        return proc_cpu_seconds(self.pid) or 0.0


def quota_arg(rate: float, burst: int) -> str:
    return f"{rate:g}/{burst}"


@contextlib.contextmanager
def emulator_process(
    ctx: Context, apps: Mapping[str, str], *extra: str
) -> Iterator[EmulatorProcess]:
    """The emulator with ``apps`` (token -> package), on a free port, stopped afterwards.

    Many apps go in through the admin API rather than the command line (which has a length
    limit); the emulator's own arguments (``--quota``, ``--latency``...) come in ``extra``.
    """
    port = free_port()
    inline = list(apps.items())[:20]
    command = [ctx.python, "-m", "storepush.emulator", "--port", str(port), *extra]
    for token, package in inline:
        command += ["--app", f"{token}={package}"]
    log = ctx.work / "scratch" / f"emulator-{port}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as stderr:
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=stderr)
    emu = EmulatorProcess(proc, port)
    try:
        try:
            wait_port(port, proc=proc)
        except RuntimeError as exc:
            raise RuntimeError(f"{exc}: {log.read_text(errors='replace')[-800:]}") from None
        for token, package in list(apps.items())[20:]:
            emu.admin("POST", "apps", {"token": token, "package": package})
        yield emu
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        with contextlib.suppress(OSError):
            log.unlink()


# -- curl --------------------------------------------------------------------------------------


def have(program: str) -> bool:
    return shutil.which(program) is not None


def curl(*args: str) -> list[str]:
    """curl, silent but for errors, failing on HTTP errors, printing its own transfer time."""
    return ["curl", "-sS", "--fail-with-body", "-o", "/dev/null", "-w", "%{time_total}\n", *args]


def curl_upload(apk: Path, url: str, token: str, architecture: str = "all") -> list[str]:
    """curl's own multipart upload of ``apk`` to Pishkhan's upload endpoint."""
    return curl(
        "-H", f"{SECRET_HEADER}: {token}",
        "-F", f"apk=@{apk};type=application/vnd.android.package-archive",
        "-F", f"architecture={architecture}",
        url,
    )  # fmt: skip


# -- sample files ------------------------------------------------------------------------------


def _sample_makers() -> Any:
    """The sample makers storepush ships (`storepush.testing`, which may need pytest, or the
    module it re-exports them from)."""
    try:
        from storepush import testing

        return testing
    except ImportError:
        from storepush import _samples

        return _samples


def _makers_digest() -> str:
    """Changes when the sample makers change, so cached files are never stale."""
    module = sys.modules.get(_sample_makers().make_apk.__module__)
    try:
        source = inspect.getsource(module) if module else ""
    except (OSError, TypeError):
        source = ""
    return hashlib.sha256(source.encode()).hexdigest()[:10]


def supports_abis() -> bool:
    return "abis" in inspect.signature(_sample_makers().make_apk).parameters


def sample_apk(
    ctx: Context,
    name: str,
    *,
    package: str,
    version_code: int,
    size: int,
    seed: int,
    abis: tuple[str, ...] = (),
) -> Path:
    """An APK from storepush's sample maker, cached under ``ctx.work`` across runs."""
    folder = ctx.work / f"samples-{_makers_digest()}"
    folder.mkdir(parents=True, exist_ok=True)
    key = f"{package}-{version_code}-{size}-{seed}-{'+'.join(abis)}"
    path = folder / f"{name}-{hashlib.sha256(key.encode()).hexdigest()[:12]}.apk"
    if not path.exists():
        partial = path.with_suffix(".partial")
        kwargs: dict[str, Any] = {"abis": abis} if abis and supports_abis() else {}
        _sample_makers().make_apk(
            partial, package=package, version_code=version_code, size=size, seed=seed, **kwargs
        )
        partial.rename(path)
    return path


# -- environment -------------------------------------------------------------------------------


def versions() -> str:
    found = []
    for name in ("storepush", "aiohttp", "tenacity", "msgspec", "aiofiles"):
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            found.append(f"{name} {importlib.metadata.version(name)}")
    for program in ("curl", "strace"):
        if have(program):
            first = subprocess.run(
                [program, "--version" if program == "curl" else "-V"],
                capture_output=True,
                text=True,
                check=False,
            ).stdout.split()
            found.append(" ".join(first[:2]) if program == "curl" else " ".join(first[:4:3]))
        else:
            found.append(f"{program} missing")
    return ", ".join(found)


def git_revision() -> str | None:
    if not have("git"):
        return None
    done = subprocess.run(
        ["git", "-C", str(HERE), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    )
    dirty = subprocess.run(
        ["git", "-C", str(HERE.parent), "status", "--porcelain", "--", "src"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return (done.stdout.strip() + (" with local changes in src/" if dirty else "")) or None


def machine() -> str:
    return (
        f"{platform.machine()}, {os.cpu_count()} cores, Linux {platform.release()}, "
        f"Python {platform.python_version()}"
    )


# -- plots -------------------------------------------------------------------------------------


def pyplot() -> Any | None:
    """matplotlib's pyplot on the Agg backend, or None when matplotlib is not installed."""
    try:
        import matplotlib
    except ImportError:
        return None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


@dataclass
class Notes:
    """Lines a benchmark wants to say about how it ran (skips, fallbacks)."""

    lines: list[str] = field(default_factory=list)

    def add(self, line: str) -> None:
        self.lines.append(line)
