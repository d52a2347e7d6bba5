"""``fdxgw serve`` with a clock a test can move: ``python -m tests.multi.serve``.

The clock is the real one plus the number of seconds written in the file named by
``FDXGW_TEST_CLOCK_FILE`` (none or empty: 0), re-read when the file changes. A test moves one
instance's time forward to make a consent's expiry happen there, and checks that every other
instance, on the real clock, refuses the consent too. Tests only: nothing else reads the variable.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import uvicorn

from config.settings import Settings
from gateway.app import create_app
from gateway.services import build_services


class FileClock:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._seen: int | None = None
        self._offset = 0.0

    def __call__(self) -> float:
        try:
            stamp = self.path.stat().st_mtime_ns
        except OSError:
            return time.time()
        if stamp != self._seen:
            self._seen = stamp
            text = self.path.read_text(encoding="ascii").strip()
            self._offset = float(text) if text else 0.0
        return time.time() + self._offset


def main() -> None:
    settings = Settings.load()
    clock = FileClock(Path(os.environ["FDXGW_TEST_CLOCK_FILE"]))
    app = create_app(settings, services=build_services(settings, clock=clock))
    uvicorn.run(
        app, host=settings.host, port=settings.port, access_log=False, log_level="warning",
        server_header=False,
    )  # fmt: skip


if __name__ == "__main__":
    main()
