"""A TCP relay in front of a real Redis: TLS on its side (for `rediss://`), and a stall switch.

`stalled = True` holds every byte in both directions (new connections are accepted but nothing
passes) until it is set back: a Redis that has stopped answering without closing anything, the
worst case for a client. It runs in the test's own event loop on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl

__all__ = ["Relay"]


class Relay:
    def __init__(self, upstream_port: int, *, tls: ssl.SSLContext | None = None) -> None:
        self.upstream_port = upstream_port
        self.tls = tls
        self.port = 0
        self._open = asyncio.Event()
        self._open.set()
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.connections = 0

    @property
    def stalled(self) -> bool:
        return not self._open.is_set()

    @stalled.setter
    def stalled(self, value: bool) -> None:
        if value:
            self._open.clear()
        else:
            self._open.set()

    async def __aenter__(self) -> Relay:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self.tls)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.stalled = False
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self._server.wait_closed()

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                await self._open.wait()
                writer.write(data)
                await writer.drain()
        except (ConnectionError, ssl.SSLError):
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:
            writer.close()
            return
        for task in (
            asyncio.create_task(self._pump(reader, up_writer)),
            asyncio.create_task(self._pump(up_reader, writer)),
        ):
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
