"""A link-shaping TCP proxy in user space (the kernel here has no netem), on loopback.

Each direction of the link is one byte-rate token bucket shared by every connection, as one
physical link is: a chunk departs when the bucket has paid for it (first come, first served),
then arrives `rtt / 2` later (propagation delay; so a request and its answer cost one RTT on
top of their transmission time). A new connection waits one RTT before its first byte moves,
as a TCP handshake would (`handshake=False` turns that off). Optionally, connections are lost
at a set rate: each new connection is drawn (seeded, in order of arrival) to be cut after a
random number of bytes, both ends reset.

Everything is bounded: the number of connections, each direction's bytes in flight (twice the
bandwidth-delay product `rate × rtt / 2`, plus two chunks), and reads (one chunk).

As a library: `Shaper(upstream_port, LinkSpec(...))`, started inside a running loop, or
`ShaperThread` from synchronous code. From the shell:

    python benchmarks/shaper.py --upstream 127.0.0.1:8080 --listen 9090 --mbit 200 --rtt-ms 60
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import random
import threading
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

__all__ = ["Link", "LinkSpec", "LinkStats", "Shaper", "ShaperThread"]

CHUNK = 64 * 1024
T = TypeVar("T")


@dataclass(frozen=True)
class LinkSpec:
    """A link: rate per direction (bits per second; None: unlimited), round trip, losses."""

    rate_bps: float | None = 200e6
    rtt: float = 0.060
    loss_rate: float = 0.0  #: probability that a new connection is lost
    loss_within: int = 1024 * 1024  #: a lost connection is cut within this many bytes
    seed: int = 0
    handshake: bool = True
    chunk: int = CHUNK
    #: what an idle link may send at once: a few chunks, so that a late wake-up of the event
    #: loop (a ms or two on a busy machine) is made up and the mean rate stays the set one
    burst: int = 4 * CHUNK
    max_connections: int = 2048

    def __post_init__(self) -> None:
        if self.rate_bps is not None and not self.rate_bps > 0:
            raise ValueError("rate_bps must be positive (or None for unlimited)")
        if not (self.rtt >= 0 and math.isfinite(self.rtt)):
            raise ValueError("rtt must be a finite number of seconds >= 0")
        if not 0.0 <= self.loss_rate <= 1.0:
            raise ValueError("loss_rate is a probability")
        if min(self.chunk, self.burst, self.max_connections, self.loss_within) < 1:
            raise ValueError("chunk, burst, max_connections and loss_within must be positive")

    @property
    def one_way(self) -> float:
        return self.rtt / 2

    @property
    def bytes_per_second(self) -> float | None:
        return None if self.rate_bps is None else self.rate_bps / 8

    def describe(self) -> str:
        rate = "unlimited" if self.rate_bps is None else f"{self.rate_bps / 1e6:g} Mbit/s"
        loss = f", {self.loss_rate:.1%} of connections lost" if self.loss_rate else ""
        return f"{rate} each way, {self.rtt * 1000:g} ms RTT{loss}"


class Link:
    """One direction: a byte-rate token bucket that may go into debt.

    `reserve(n, now)` returns when `n` bytes depart: now, if the bucket holds `n` tokens, else
    once the debt is paid back at `rate`. Callers are served in the order they reserve.
    """

    def __init__(self, rate: float | None, burst: int, now: float) -> None:
        self.rate = rate
        self.burst = float(burst)
        self._tokens = float(burst)
        self._stamp = now

    def reserve(self, n: int, now: float) -> float:
        if self.rate is None:
            return now
        self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now
        self._tokens -= n
        return now if self._tokens >= 0 else now + -self._tokens / self.rate


@dataclass
class LinkStats:
    """What crossed the link: bytes per direction, in `bin` second bins from the start."""

    bin: float = 0.1
    up_bytes: int = 0
    down_bytes: int = 0
    connections: int = 0
    lost: int = 0
    peak_connections: int = 0
    up_bins: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    down_bins: dict[int, int] = field(default_factory=lambda: defaultdict(int))

    def copy(self) -> LinkStats:
        return LinkStats(
            self.bin,
            self.up_bytes,
            self.down_bytes,
            self.connections,
            self.lost,
            self.peak_connections,
            dict(self.up_bins),
            dict(self.down_bins),
        )

    def peak_rate(self, start: float, end: float, window: float = 1.0) -> float:
        """The most bytes per second sent up in any `window` seconds between `start` and `end`."""
        per = max(1, round(window / self.bin))
        first, last = int(start / self.bin), int(end / self.bin) + 1
        sums = [sum(self.up_bins.get(b, 0) for b in range(i, i + per)) for i in range(first, last)]
        return max(sums, default=0) / (per * self.bin)

    def busy_fraction(self, rate: float, start: float, end: float) -> float:
        """How full the up link was between `start` and `end` (seconds since the shaper
        started), from the bins: bytes sent ÷ what the rate allows."""
        if end <= start:
            return float("nan")
        sent = sum(n for b, n in self.up_bins.items() if start <= b * self.bin < end)
        return sent / (rate * (end - start))


class _Cut(Exception):
    pass


class _Window:
    """Bytes in flight on one direction of one connection: at most `limit` (or one chunk).

    One pump adds (waiting for room), one delivery task removes; `close` (the far side is
    gone) wakes the pump, whose next `add` raises.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.bytes = 0
        self.closed = False
        self._room = asyncio.Event()

    async def add(self, n: int) -> None:
        while not (self.closed or self.bytes == 0 or self.bytes + n <= self.limit):
            self._room.clear()
            await self._room.wait()
        if self.closed:
            raise ConnectionResetError("the receiving end of the link is gone")
        self.bytes += n

    def remove(self, n: int) -> None:
        self.bytes -= n
        self._room.set()

    def close(self) -> None:
        self.closed = True
        self._room.set()


class _Connection:
    def __init__(self, shaper: Shaper, lost_after: int | None) -> None:
        self.shaper = shaper
        self.lost_after = lost_after
        self.moved = 0
        self.transports: list[asyncio.WriteTransport] = []

    def count(self, n: int) -> None:
        self.moved += n
        if self.lost_after is not None and self.moved >= self.lost_after:
            self.shaper.stats.lost += 1
            for transport in self.transports:
                transport.abort()
            raise _Cut


class Shaper:
    """The proxy: listens on `host:port` (0: a free port), forwards to `upstream`."""

    def __init__(
        self,
        upstream_port: int,
        spec: LinkSpec,
        *,
        upstream_host: str = "127.0.0.1",
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.spec = spec
        self.upstream = (upstream_host, upstream_port)
        self.host = host
        self.port = port
        self.stats = LinkStats()
        self._rng = random.Random(spec.seed)
        self._server: asyncio.Server | None = None
        self._slots = asyncio.Semaphore(spec.max_connections)
        self._tasks: set[asyncio.Task[None]] = set()
        self._open = 0
        self._stopping = False
        self._start = 0.0
        self._up: Link | None = None
        self._down: Link | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def elapsed(self) -> float:
        return asyncio.get_running_loop().time() - self._start

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._start = loop.time()
        rate = self.spec.bytes_per_second
        self._up = Link(rate, self.spec.burst, self._start)
        self._down = Link(rate, self.spec.burst, self._start)
        self._server = await asyncio.start_server(self._accept, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._stopping = True
            self._server.close()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> Shaper:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def _draw_loss(self) -> int | None:
        if self.spec.loss_rate and self._rng.random() < self.spec.loss_rate:
            return self._rng.randrange(self.spec.loss_within)
        return None

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        conn = _Connection(self, self._draw_loss())  # drawn in order of arrival: repeatable
        self.stats.connections += 1
        try:
            async with self._slots:
                self._open += 1
                self.stats.peak_connections = max(self.stats.peak_connections, self._open)
                try:
                    await self._serve(conn, reader, writer)
                finally:
                    self._open -= 1
        except (ConnectionError, _Cut, OSError):
            pass
        except asyncio.CancelledError:
            if not self._stopping:
                raise
            # stopping: end quietly (asyncio's stream callback reads the task's exception)
        finally:
            writer.close()
            self._tasks.discard(task)

    async def _serve(
        self, conn: _Connection, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        if self.spec.handshake and self.spec.rtt:
            await asyncio.sleep(self.spec.rtt)  # SYN, SYN-ACK: the first byte waits one RTT
        up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        conn.transports = [writer.transport, up_writer.transport]
        assert self._up is not None
        assert self._down is not None
        try:
            pumps = [
                asyncio.create_task(self._pump(conn, reader, up_writer, self._up, up=True)),
                asyncio.create_task(self._pump(conn, up_reader, writer, self._down, up=False)),
            ]
            try:
                done, pending = await asyncio.wait(pumps, return_when=asyncio.FIRST_EXCEPTION)
                for task in done:
                    task.result()  # re-raise a cut or a reset
                await asyncio.gather(*pending)
            finally:
                for task in pumps:
                    task.cancel()
                await asyncio.gather(*pumps, return_exceptions=True)
        finally:
            up_writer.close()

    async def _pump(
        self,
        conn: _Connection,
        source: asyncio.StreamReader,
        sink: asyncio.StreamWriter,
        link: Link,
        *,
        up: bool,
    ) -> None:
        """Read a chunk, wait for the link, hand it to the delivery task for `one_way` later.

        What is in flight (departed, not yet delivered) is bounded in bytes, at twice the
        bandwidth-delay product plus two chunks: enough never to slow the link, and a bound
        however small the reads are.
        """
        loop = asyncio.get_running_loop()
        rate = self.spec.bytes_per_second
        bdp = 16 * self.spec.chunk if rate is None else rate * self.spec.one_way
        window = _Window(int(2 * bdp) + 2 * self.spec.chunk)
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()
        deliver = asyncio.create_task(self._deliver(queue, sink, window))
        try:
            while True:
                data = await source.read(self.spec.chunk)
                now = loop.time()
                if not data:
                    queue.put_nowait((now + self.spec.one_way, b""))
                    break
                departure = link.reserve(len(data), now)
                if departure > now:
                    await asyncio.sleep(departure - now)
                self._account(len(data), departure, up=up)
                conn.count(len(data))
                await window.add(len(data))
                queue.put_nowait((departure + self.spec.one_way, data))
            await deliver
        finally:
            if not deliver.done():
                deliver.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await deliver
            elif not deliver.cancelled():
                deliver.exception()  # seen: the pump's own error (a reset) says what happened

    async def _deliver(
        self,
        queue: asyncio.Queue[tuple[float, bytes]],
        sink: asyncio.StreamWriter,
        window: _Window,
    ) -> None:
        loop = asyncio.get_running_loop()
        try:
            while True:
                arrival, data = await queue.get()
                wait = arrival - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                if not data:
                    if sink.can_write_eof():
                        sink.write_eof()
                    return
                sink.write(data)
                await sink.drain()
                window.remove(len(data))
        except BaseException:
            window.close()  # the pump must not wait for room forever
            raise

    def _account(self, n: int, departure: float, *, up: bool) -> None:
        index = int((departure - self._start) / self.stats.bin)
        if up:
            self.stats.up_bytes += n
            self.stats.up_bins[index] += n
        else:
            self.stats.down_bytes += n
            self.stats.down_bins[index] += n


class ShaperThread:
    """A `Shaper` served from a background thread with its own loop (for synchronous code).

    `with ShaperThread(upstream_port, spec) as shaper:` starts it and stops it; read
    `snapshot()` for a consistent copy of its statistics and `elapsed()` for its clock.
    """

    def __init__(self, upstream_port: int, spec: LinkSpec, *, timeout: float = 10.0) -> None:
        self._args = (upstream_port, spec)
        self._timeout = timeout
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self.shaper: Shaper | None = None

    def _serve(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop

        async def make() -> Shaper:
            shaper = Shaper(*self._args)
            await shaper.start()
            return shaper

        try:
            self.shaper = loop.run_until_complete(make())
        except BaseException as exc:  # surfaced in __enter__
            self._error = exc
            self._ready.set()
            loop.close()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(self.shaper.stop())
            loop.close()

    def _in_loop(self, fn: Callable[[Shaper], T]) -> T:
        """`fn(shaper)` run on the shaper's own loop, so it sees a consistent state."""
        assert self._loop is not None
        assert self.shaper is not None
        shaper = self.shaper

        async def call() -> T:
            return fn(shaper)

        return asyncio.run_coroutine_threadsafe(call(), self._loop).result(self._timeout)

    def snapshot(self) -> LinkStats:
        return self._in_loop(lambda shaper: shaper.stats.copy())

    def elapsed(self) -> float:
        return self._in_loop(lambda shaper: shaper.elapsed())

    def __enter__(self) -> Shaper:
        self._thread = threading.Thread(target=self._serve, name="shaper", daemon=True)
        self._thread.start()
        if not self._ready.wait(self._timeout) or self.shaper is None:
            raise RuntimeError("the shaper did not start") from self._error
        return self.shaper

    def __exit__(self, *exc: object) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(self._timeout)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--upstream", required=True, metavar="HOST:PORT")
    p.add_argument("--listen", type=int, default=0, metavar="PORT")
    p.add_argument("--mbit", type=float, default=200.0, help="rate each way; 0: unlimited")
    p.add_argument("--rtt-ms", type=float, default=60.0)
    p.add_argument("--loss", type=float, default=0.0, help="fraction of connections lost")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    host, _, port = args.upstream.rpartition(":")
    spec = LinkSpec(
        rate_bps=args.mbit * 1e6 or None,
        rtt=args.rtt_ms / 1000,
        loss_rate=args.loss,
        seed=args.seed,
    )

    async def serve() -> None:
        async with Shaper(
            int(port), spec, upstream_host=host or "127.0.0.1", port=args.listen
        ) as s:
            print(f"shaping {s.url} -> {args.upstream}: {spec.describe()}", flush=True)
            await asyncio.Event().wait()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())


if __name__ == "__main__":
    main()
