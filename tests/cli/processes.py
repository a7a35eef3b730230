"""Helpers for tests of the real `storepush` command in a subprocess.

- [`SlowLink`][tests.cli.processes.SlowLink]: a TCP forwarder on loopback that holds the
  client-to-server bytes to a rate (changeable while it runs), so that an upload takes as long
  as a test needs: long enough to see its progress lines, or to signal it half-way.
- [`Command`][tests.cli.processes.Command]: the `storepush` command started with `Popen`, its
  stderr read line by line while it runs, with bounded waits.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import queue
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path

#: Upper bound of any wait in these tests (a guard against a hang, never a timing assertion).
GUARD = 60.0


def storepush_command() -> list[str]:
    """The installed console script beside this interpreter, else `python -m storepush`."""
    script = Path(sys.executable).with_name("storepush")
    return [str(script)] if script.exists() else [sys.executable, "-m", "storepush"]


class SlowLink:
    """`with SlowLink(port) as link:` forwards `127.0.0.1:link.port` to `127.0.0.1:port`."""

    def __init__(self, upstream: int, *, rate: float | None = None, chunk: int = 16 * 1024) -> None:
        self.upstream = upstream
        self.rate = rate  #: bytes a second from client to server (None: unlimited)
        self.chunk = chunk
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def _pump(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, slow: bool
    ) -> None:
        try:
            while data := await reader.read(self.chunk):
                writer.write(data)
                await writer.drain()
                rate = self.rate
                if slow and rate:
                    await asyncio.sleep(len(data) / rate)
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.transport.abort()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await self._forward(reader, writer)
        finally:
            self._tasks.discard(task)

    async def _forward(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        if sock is not None:
            import socket

            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32 * 1024)
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream)
        except OSError:
            writer.close()
            return
        await asyncio.gather(
            self._pump(reader, up_writer, True), self._pump(up_reader, writer, False)
        )

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        async with server:
            await self._stop.wait()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            await asyncio.sleep(0.05)  # let the closed transports finish closing

    def _run(self) -> None:
        self._loop = asyncio.new_event_loop()
        try:
            self._loop.run_until_complete(self._serve())
        finally:
            self._loop.close()

    def __enter__(self) -> SlowLink:
        self._thread = threading.Thread(target=self._run, name="slowlink", daemon=True)
        self._thread.start()
        if not self._ready.wait(GUARD):
            raise RuntimeError("the slow link did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(GUARD)


class Command:
    """The `storepush` command in a subprocess; `wait_for(pattern)` reads stderr as it comes."""

    def __init__(self, args: Sequence[str], *, env: Mapping[str, str], cwd: Path) -> None:
        self.process = subprocess.Popen(
            [*storepush_command(), *args],
            env={**os.environ, "PYTHONWARNINGS": "default::ResourceWarning", **env},
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for(self, pattern: str) -> str:
        """The first stderr line matching `pattern` (fails if the command ends first)."""
        compiled = re.compile(pattern)
        while True:
            try:
                line = self._queue.get(timeout=GUARD)
            except queue.Empty:
                raise AssertionError(f"no line matching {pattern!r}: {self.lines}") from None
            if line is None:
                raise AssertionError(f"ended before {pattern!r}: {self.lines}")
            self.lines.append(line)
            if compiled.search(line):
                return line

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def signal(self, sig: signal.Signals) -> None:
        self.process.send_signal(sig)

    def finish(self) -> tuple[int, str, str]:
        """Wait for the end: exit code, stdout, and all of stderr."""
        assert self.process.stdout is not None
        stdout = self.process.stdout.read()
        self.process.wait(GUARD)
        self.process.stdout.close()
        self._reader.join(GUARD)
        assert self.process.stderr is not None
        self.process.stderr.close()
        while True:
            try:
                line = self._queue.get_nowait()
            except queue.Empty:
                break
            if line is not None:
                self.lines.append(line)
        return self.process.returncode, stdout, "\n".join(self.lines)


def run(args: Sequence[str], *, env: Mapping[str, str], cwd: Path) -> tuple[int, str, str]:
    """Run the command to its end."""
    return Command(args, env=env, cwd=cwd).finish()
