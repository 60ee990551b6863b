"""Start `build.py serve` on a free port for a test, and talk to it like a browser would."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from conftest import ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (localhost only)
        return str(response.read().decode("utf-8"))


@contextmanager
def preview(root: Path) -> Iterator[str]:
    """`python build.py serve` on `root`; yields its base URL and stops it afterwards."""
    port = free_port()
    log_path = root.parent / f"serve-{port}.log"  # a file, not a pipe: the server logs a lot
    log = open(log_path, "w", encoding="utf-8")  # noqa: SIM115 (closed in finally)
    proc = subprocess.Popen([sys.executable, str(ROOT / "build.py"), "serve", "--port", str(port),
                             "--root", str(root)], stdout=log, stderr=subprocess.STDOUT,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    base = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                get(base + "fi/index.html")
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"the preview server did not start: {log_path.read_text()}") from None
                time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


class ReloadListener:
    """A livereload client: the handshake a browser's livereload.js makes, then wait for 'reload'.

    Its event loop runs in a thread of its own, so it works beside Playwright's.
    """

    def __init__(self, base: str) -> None:
        self.url = base.replace("http://", "ws://") + "livereload"
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.conn = self._run(self._connect(), 20)

    def _run(self, coro: Any, timeout: float) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    async def _connect(self) -> Any:
        from tornado.websocket import websocket_connect

        conn = await websocket_connect(self.url)
        await conn.write_message(json.dumps({"command": "hello", "protocols": [
            "http://livereload.com/protocols/official-7"]}))
        hello = json.loads(await conn.read_message())
        assert hello["command"] == "hello"
        await conn.write_message(json.dumps({"command": "info", "url": self.url}))
        return conn

    def wait_for_reload(self, timeout: float = 20) -> dict[str, Any]:
        async def read() -> dict[str, Any]:
            while True:
                message = json.loads(await self.conn.read_message())
                if message.get("command") == "reload":
                    return dict(message)
        return dict(self._run(asyncio.wait_for(read(), timeout), timeout + 5))

    def close(self) -> None:
        async def shut() -> None:
            self.conn.close()
            await asyncio.sleep(0.05)
        self._run(shut(), 10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()
