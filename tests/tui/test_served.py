"""`apollonia tui --serve` in a real browser: Debian's headless Chromium loads the page, its
script opens the websocket, the server starts the app, and the landing's text reaches the page's
terminal. xterm.js paints on a canvas, so the text is read where it enters the page: a wrapper
around `WebSocket`, installed before the page's own script runs (Chrome DevTools Protocol),
keeps what the terminal was given to draw.

Chromium is the apt package `chromium` (.ci/run installs it): missing, this test skips on a
developer's machine and fails in CI."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.wait import until

pytestmark = pytest.mark.integration

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
MISSING = "chromium is not installed (Debian: apt-get install chromium)"

# Keeps the bytes the terminal receives, as text, in window.__apollonia.
CAPTURE = """
(() => {
  const Native = window.WebSocket;
  const decoder = new TextDecoder();
  window.__apollonia = "";
  function Capturing(url, protocols) {
    const ws = protocols === undefined ? new Native(url) : new Native(url, protocols);
    ws.addEventListener("message", (event) => {
      if (typeof event.data !== "string") {
        window.__apollonia += decoder.decode(new Uint8Array(event.data), {stream: true});
      }
    });
    return ws;
  }
  Capturing.prototype = Native.prototype;
  for (const name of ["CONNECTING", "OPEN", "CLOSING", "CLOSED"]) Capturing[name] = Native[name];
  window.WebSocket = Capturing;
})();
"""
ANSI = re.compile(r"\x1b\[[0-9;?<=>]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>]")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


@pytest.fixture
def served(config_dir: Path) -> Iterator[int]:
    """`apollonia tui --serve 127.0.0.1:PORT` on an empty catalog; its port."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "apollonia", "tui", "--serve", f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # the server and the apps it starts stop together
    )
    try:
        asyncio.run(until(lambda: answers(port), what="the tui server"))
        yield port
    finally:
        stop(proc)


@pytest.fixture
def chromium(tmp_path: Path) -> Iterator[int]:
    """Headless Chromium with the DevTools protocol on a free port; that port."""
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail(f"{MISSING}: .ci/run installs it", pytrace=False)
        pytest.skip(MISSING)
    port = free_port()
    proc = subprocess.Popen(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",  # CI runs as root
            "--disable-gpu",
            "--no-first-run",
            f"--remote-debugging-port={port}",
            f"--user-data-dir={tmp_path / 'chromium'}",
            "--window-size=1280,800",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        asyncio.run(until(lambda: answers(port), what="chromium's DevTools port"))
        yield port
    finally:
        stop(proc)


class Page:
    """One page of the browser, spoken to over the DevTools protocol."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.next_id = 0

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        await self.ws.send_str(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(await self.ws.receive_str())
            if message.get("id") == self.next_id:
                assert "error" not in message, message
                result: dict[str, Any] = message.get("result", {})
                return result

    async def evaluate(self, expression: str) -> Any:
        found = await self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        return found["result"].get("value")


@asynccontextmanager
async def page_of(session: aiohttp.ClientSession, devtools: int) -> AsyncIterator[Page]:
    async with session.get(f"http://127.0.0.1:{devtools}/json/list") as response:
        targets = await response.json(content_type=None)
    url = next(t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page")
    async with session.ws_connect(url, max_msg_size=0) as ws:
        yield Page(ws)


def test_the_served_page_renders_the_landing(served: int, chromium: int) -> None:
    async def check() -> tuple[str, str]:
        async with aiohttp.ClientSession() as session, page_of(session, chromium) as page:
            await page.send("Page.enable")
            await page.send("Page.addScriptToEvaluateOnNewDocument", source=CAPTURE)
            await page.send("Page.navigate", url=f"http://127.0.0.1:{served}/")

            async def landing_shown() -> bool:
                text = ANSI.sub("", await page.evaluate("window.__apollonia || ''") or "")
                return "Active items: 0" in text

            await until(landing_shown, what="the landing in the page")
            text = ANSI.sub("", await page.evaluate("window.__apollonia"))
            classes = await page.evaluate("document.body.className")
            return text, classes

    text, classes = asyncio.run(check())
    assert "Active items: 0" in text and "Apollonia" in text
    # The page's own script took the bytes to its terminal (it marks the body on the first).
    assert "-first-byte" in classes.split()
