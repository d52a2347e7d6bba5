"""An app served for real on 127.0.0.1, and Debian's Chromium to drive it: the set-up every
browser test shares.

The app runs under uvicorn in a background thread on a socket bound to a free port (never a fixed
one), so a browser reaches it as a consumer's would; Playwright drives /usr/bin/chromium and never
downloads a browser of its own.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

import uvicorn
from starlette.types import ASGIApp

CHROMIUM = Path("/usr/bin/chromium")
# Headless as root in a sandbox with no network but loopback: without the background-networking
# flags Chromium keeps trying hosts it cannot reach.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def free_socket() -> tuple[socket.socket, int]:
    """A socket bound to a free port of 127.0.0.1, and that port (so the issuer can name it
    before the server starts)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    return sock, sock.getsockname()[1]


@contextmanager
def serving(
    app: ASGIApp, sock: socket.socket, *, lifespan: Literal["on", "off"] = "off"
) -> Iterator[None]:
    """``app`` served on ``sock`` until the block ends; the socket is closed afterwards."""
    config = uvicorn.Config(app, log_level="warning", lifespan=lifespan, ws="none")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        assert server.started, "uvicorn did not start"
        yield
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
