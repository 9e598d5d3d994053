"""A loopback TCP proxy that can cut every connection through it for a while.

The soak points the services' AMQP URL at it, so "the broker connection cut for a few seconds"
is what a network failure looks like to them: open connections die without a goodbye, and new
ones are refused (accepted and closed at once) until the cut ends.

    proxy = TcpProxy("127.0.0.1", 5672)
    port = await proxy.start()
    await proxy.cut(3.0)
    await proxy.close()
"""

from __future__ import annotations

import asyncio
import contextlib


class TcpProxy:
    def __init__(self, target_host: str, target_port: int, *, listen_host: str = "127.0.0.1"):
        self.target = (target_host, target_port)
        self.listen_host = listen_host
        self.port = 0
        self.cuts = 0
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()
        self._refusing = False
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._accept, self.listen_host, 0)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self.port

    @property
    def connections(self) -> int:
        return len(self._open) // 2

    def refusing(self) -> bool:
        return self._refusing

    async def cut(self, seconds: float) -> None:
        """Drop every connection now and refuse new ones for `seconds`."""
        self.cuts += 1
        self._refusing = True
        self._drop_all()
        try:
            await asyncio.sleep(seconds)
        finally:
            self._refusing = False

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        self._drop_all()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _drop_all(self) -> None:
        for writer in list(self._open):
            writer.transport.abort()  # a reset, not a FIN: what a dead link looks like
        self._open.clear()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.refusing():
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        if self.refusing():  # a cut began while we connected
            writer.transport.abort()
            up_writer.transport.abort()
            return
        self._open.update((writer, up_writer))
        for src, dst in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(self._pump(src, dst, (writer, up_writer)))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pump(
        self,
        src: asyncio.StreamReader,
        dst: asyncio.StreamWriter,
        pair: tuple[asyncio.StreamWriter, asyncio.StreamWriter],
    ) -> None:
        try:
            while data := await src.read(65536):
                dst.write(data)
                await dst.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            # One side gone: the other goes too (AMQP has no half-open use).
            for w in pair:
                self._open.discard(w)
                with contextlib.suppress(Exception):
                    w.transport.abort()
