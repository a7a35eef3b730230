"""A quick check of the shaper against a local sink: `python benchmarks/shaper_check.py`.

Not a test (timings vary with the machine's load; nothing here belongs in CI): it prints what
the shaper did next to what its settings ask for, and checks the two invariants that do not
depend on timing: every byte arrives, and the same seed loses the same connections.
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from shaper import Link, LinkSpec, Shaper

MB = 1_000_000


async def sink() -> asyncio.Server:
    """A line protocol: `PING` -> `PONG`; `SEND n` then n bytes -> `GOT n`; `GET n` -> n bytes;
    `DROP`: reads a little and resets the connection."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while line := await reader.readline():
            word, _, arg = line.strip().partition(b" ")
            if word == b"PING":
                writer.write(b"PONG\n")
            elif word == b"SEND":
                got, want = 0, int(arg)
                while got < want and (data := await reader.read(1 << 20)):
                    got += len(data)
                writer.write(b"GOT %d\n" % got)
            elif word == b"GET":
                writer.write(b"x" * int(arg))
            elif word == b"DROP":  # read a little, then reset the connection
                await reader.read(1000)
                writer.transport.abort()
                return
            await writer.drain()
        writer.close()

    return await asyncio.start_server(handle, "127.0.0.1", 0)


async def send(port: int, n: int) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"SEND %d\n" % n)
    left = n
    while left:
        k = min(left, 1 << 20)
        writer.write(b"y" * k)
        await writer.drain()
        left -= k
    answer = await reader.readline()
    writer.close()
    return int(answer.split()[1])


async def lossy_run(port: int, spec: LinkSpec) -> list[bool]:
    outcomes = []
    async with Shaper(port, spec) as shaper:
        for _ in range(20):
            try:
                outcomes.append(await asyncio.wait_for(send(shaper.port, 5000), 5) == 5000)
            except (ConnectionError, TimeoutError, IndexError, ValueError):
                outcomes.append(False)
    return outcomes


async def main() -> None:
    link = Link(1000.0, 100, 0.0)  # 1000 B/s, burst 100: the bucket's arithmetic
    assert link.reserve(100, 0.0) == 0.0
    assert abs(link.reserve(100, 0.0) - 0.1) < 1e-9
    assert abs(link.reserve(50, 0.05) - 0.15) < 1e-9

    server = await sink()
    port = server.sockets[0].getsockname()[1]
    spec = LinkSpec(rate_bps=200e6, rtt=0.060)
    print(f"settings: {spec.describe()}")
    async with Shaper(port, spec) as shaper:
        reader, writer = await asyncio.open_connection("127.0.0.1", shaper.port)
        started = time.perf_counter()
        writer.write(b"PING\n")
        await reader.readline()
        print(f"first round trip (handshake + RTT): {time.perf_counter() - started:.3f} s")
        rtts = []
        for _ in range(5):
            started = time.perf_counter()
            writer.write(b"PING\n")
            await reader.readline()
            rtts.append(time.perf_counter() - started)
        print(f"round trips: {', '.join(f'{r * 1000:.1f}' for r in rtts)} ms (expect ~60)")
        started = time.perf_counter()
        writer.write(b"GET %d\n" % (25 * MB))
        got = 0
        while got < 25 * MB:
            got += len(await reader.read(1 << 20))
        took = time.perf_counter() - started
        print(f"25 MB down: {took:.2f} s, {25 * 8 / took:.0f} Mbit/s (expect ~1.06 s with the RTT)")
        writer.close()
        started = time.perf_counter()
        arrived = await send(shaper.port, 25 * MB)
        took = time.perf_counter() - started
        assert arrived == 25 * MB, arrived
        print(
            f"25 MB up: {took:.2f} s, {25 * 8 / took:.0f} Mbit/s (expect ~1.12 s: handshake and a round trip on top)"
        )
        started = time.perf_counter()
        parts = await asyncio.gather(*(send(shaper.port, 25 * MB // 4) for _ in range(4)))
        assert sum(parts) == 25 * MB, parts
        print(f"4 connections x 6.25 MB up at once: {time.perf_counter() - started:.2f} s "
              "(expect ~1.2 s: they share the link)")  # fmt: skip
        reader, writer = await asyncio.open_connection("127.0.0.1", shaper.port)
        writer.write(b"DROP\n")
        try:
            for _ in range(40):  # keeps sending into a connection the server reset
                writer.write(b"z" * 65536)
                await writer.drain()
            await asyncio.wait_for(reader.read(), 5)
        except (ConnectionError, TimeoutError):
            pass
        writer.close()
        for _ in range(50):
            if shaper.stats.connections and not shaper._tasks:
                break
            await asyncio.sleep(0.1)
        print(
            f"a reset by the server reaches the client; connections left open: {len(shaper._tasks)}"
        )
        assert not shaper._tasks
        print(f"counted: {shaper.stats.up_bytes} bytes up, {shaper.stats.down_bytes} down, "
              f"{shaper.stats.connections} connections")  # fmt: skip
    lossy = LinkSpec(rate_bps=None, rtt=0.0, loss_rate=0.5, loss_within=1000, seed=3)
    first, second = await lossy_run(port, lossy), await lossy_run(port, lossy)
    print(f"loss 50 %: {first.count(False)} of 20 connections lost; same seed, same losses: "
          f"{first == second}")  # fmt: skip
    assert first == second
    server.close()


if __name__ == "__main__":
    asyncio.run(main())
