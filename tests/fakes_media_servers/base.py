"""The thread an aiohttp fake server runs in, and what every fake records."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Self

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class Seen:
    method: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]


@dataclass
class FakeServer:
    """Serves `routes` on 127.0.0.1 from a thread; `url` once started. `delay` makes every
    answer wait (a server that times out); `unanswered` lists requests no route knew."""

    token: str
    requests: list[Seen] = field(default_factory=list)
    unanswered: list[str] = field(default_factory=list)
    delay: float = 0.0
    url: str = ""
    _loop: asyncio.AbstractEventLoop | None = None
    _thread: threading.Thread | None = None
    _runner: web.AppRunner | None = None

    def routes(self) -> list[web.RouteDef]:
        raise NotImplementedError

    def authorized(self, request: web.Request) -> bool:
        raise NotImplementedError

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        self.requests.append(
            Seen(request.method, request.path, list(request.query.items()), dict(request.headers))
        )
        if self.delay:
            await asyncio.sleep(self.delay)
        if not self.authorized(request):
            return web.Response(status=401, text="Unauthorized")
        try:
            return await handler(request)
        except web.HTTPNotFound:
            self.unanswered.append(f"{request.method} {request.path_qs}")
            raise

    def start(self) -> Self:
        ready = threading.Event()

        def serve() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            app = web.Application(middlewares=[self._middleware])
            app.add_routes(self.routes())
            self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
            loop.run_until_complete(self._runner.setup())
            site = web.TCPSite(self._runner, "127.0.0.1", 0)
            loop.run_until_complete(site.start())
            host, port = self._runner.addresses[0][:2]
            self.url = f"http://{host}:{port}"
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._runner.cleanup())
            loop.close()

        self._thread = threading.Thread(target=serve, name="fake-media-server", daemon=True)
        self._thread.start()
        ready.wait(10)
        return self

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)

    def paths(self) -> list[str]:
        return [r.path for r in self.requests]
