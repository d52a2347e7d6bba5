"""Debian's nginx on 127.0.0.1 with the site configuration of docs/deployment/nginx.conf.

The site file is used as written, with only its addresses, port and certificate paths replaced
(each replacement must match exactly once, so the documented file cannot drift from the tested
one); a minimal main configuration keeps every file nginx writes in the test's folder.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
from collections.abc import Mapping
from pathlib import Path

from tests.faults.servers import ServerMissing, wait_for

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "docs" / "deployment" / "nginx.conf"
DOCUMENTED_UPSTREAMS = ("10.0.1.11:8000", "10.0.1.12:8000")


def nginx_binary() -> str:
    found = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    if found is None:
        raise ServerMissing("nginx is not installed (apt-get install nginx; .ci/run does)")
    return found


def site(upstreams: tuple[str, str], port: int, certificate: Path, key: Path) -> str:
    """docs/deployment/nginx.conf for this machine."""
    text = SITE.read_text(encoding="utf-8")
    swaps: Mapping[str, str] = {
        f"server {DOCUMENTED_UPSTREAMS[0]} ": f"server {upstreams[0]} ",
        f"server {DOCUMENTED_UPSTREAMS[1]} ": f"server {upstreams[1]} ",
        "listen 443 ssl;": f"listen 127.0.0.1:{port} ssl;",
        "/etc/fdxgw/tls/server.pem": str(certificate),
        "/etc/fdxgw/tls/server.key": str(key),
    }
    for old, new in swaps.items():
        assert 1 == text.count(old), f"docs/deployment/nginx.conf: {old!r} is not there once"
        text = text.replace(old, new)
    return text


class Nginx:
    def __init__(self, folder: Path, site_text: str, port: int) -> None:
        self.folder = folder
        self.port = port
        self.process: subprocess.Popen[bytes] | None = None
        (folder / "tmp").mkdir(exist_ok=True)
        (folder / "fdxgw.conf").write_text(site_text, encoding="utf-8")
        # As root, nginx's workers would switch to "nobody", who cannot read this folder.
        user = "user root;\n" if os.geteuid() == 0 else ""
        temp = "\n".join(
            f"    {kind}_temp_path {folder / 'tmp' / kind};"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        (folder / "nginx.conf").write_text(
            f"{user}worker_processes 1;\npid {folder / 'nginx.pid'};\n"
            f"events {{ worker_connections 256; }}\n"
            f"http {{\n    access_log off;\n{temp}\n    include {folder / 'fdxgw.conf'};\n}}\n",
            encoding="utf-8",
        )

    def start(self) -> None:
        log = (self.folder / "nginx.out").open("ab")
        with log:
            self.process = subprocess.Popen(
                [
                    nginx_binary(), "-p", str(self.folder), "-c", str(self.folder / "nginx.conf"),
                    "-e", str(self.folder / "error.log"), "-g", "daemon off;",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        wait_for(self._listening, f"nginx on port {self.port}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGQUIT)  # graceful
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
            self.process = None

    def errors(self) -> str:
        path = self.folder / "error.log"
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""

    def _listening(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError(f"nginx exited:\n{self.errors()[-2000:]}")
        with socket.create_connection(("127.0.0.1", self.port), timeout=1):
            return True
