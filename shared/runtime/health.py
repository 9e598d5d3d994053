"""The services' HTTP side: /healthz (alive), /readyz (able to do its job), /metrics (Prometheus).

Liveness is measured, not assumed: a heartbeat task ticks on the event loop, and /healthz fails
when the last tick is older than `stall_after` seconds, i.e. when something blocks the loop.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import time
from collections.abc import Awaitable, Callable, Mapping

from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Gauge,
    generate_latest,
)

from shared.runtime.log import get_logger

log = get_logger(__name__)

ReadyCheck = Callable[[], bool | Awaitable[bool]]

# Readiness as a metric too, so Prometheus can alert on it (it scrapes /metrics, not /readyz).
READY = Gauge("apollonia_ready", "1 while the service's readiness checks pass.", ["service"])
READINESS_INTERVAL = 5.0


class HealthServer:
    def __init__(
        self,
        host: str,
        port: int,
        *,
        service: str,
        ready_checks: Mapping[str, ReadyCheck],
        registry: CollectorRegistry = REGISTRY,
        heartbeat_interval: float = 0.5,
        stall_after: float = 10.0,
    ) -> None:
        self.host = host
        self.port = port
        self.service = service
        self._checks = dict(ready_checks)
        self._registry = registry
        self._interval = heartbeat_interval
        self._stall_after = stall_after
        self._last_beat = time.monotonic()
        self._beat_task: asyncio.Task[None] | None = None
        self._ready_task: asyncio.Task[None] | None = None
        self._runner: web.AppRunner | None = None
        self.bound_port: int | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/readyz", self._readyz)
        app.router.add_get("/metrics", self._metrics)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        self.bound_port = sockets[0].getsockname()[1] if sockets else self.port
        self._beat_task = asyncio.create_task(self._heartbeat(), name=f"{self.service}-heartbeat")
        self._ready_task = asyncio.create_task(self._readiness(), name=f"{self.service}-ready")
        log.info(
            "http server listening", service=self.service, host=self.host, port=self.bound_port
        )

    async def stop(self) -> None:
        for task in (self._beat_task, self._ready_task):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        self._beat_task = self._ready_task = None
        READY.labels(self.service).set(0)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _heartbeat(self) -> None:
        while True:
            self._last_beat = time.monotonic()
            await asyncio.sleep(self._interval)

    async def _readiness(self) -> None:
        while True:
            await self.check_ready()
            await asyncio.sleep(READINESS_INTERVAL)

    async def check_ready(self) -> dict[str, bool]:
        results: dict[str, bool] = {}
        for name, check in self._checks.items():
            try:
                value = check()
                if inspect.isawaitable(value):
                    value = await value
                results[name] = bool(value)
            except Exception as exc:  # a failing check means not ready, not a crashed server
                log.debug("readiness check failed", check=name, error=str(exc))
                results[name] = False
        READY.labels(self.service).set(1 if all(results.values()) else 0)
        return results

    def loop_lag(self) -> float:
        return time.monotonic() - self._last_beat

    async def _healthz(self, _request: web.Request) -> web.Response:
        lag = self.loop_lag()
        ok = lag < self._stall_after
        body = {
            "status": "ok" if ok else "stalled",
            "service": self.service,
            "heartbeat_age_seconds": round(lag, 3),
        }
        return web.json_response(body, status=200 if ok else 503)

    async def _readyz(self, _request: web.Request) -> web.Response:
        results = await self.check_ready()
        ok = all(results.values())
        body = {
            "status": "ready" if ok else "not ready",
            "service": self.service,
            "checks": results,
        }
        return web.Response(
            text=json.dumps(body), status=200 if ok else 503, content_type="application/json"
        )

    async def _metrics(self, _request: web.Request) -> web.Response:
        payload = generate_latest(self._registry)
        return web.Response(body=payload, headers={"Content-Type": CONTENT_TYPE_LATEST})
