"""The gateway installed as a bank installs it: a wheel (``pip install .``, not editable) in a
fresh virtual environment, started from an empty folder holding only the operator's file.

The wheel is built once, from a copy of the files git would commit, and installed once per run
(pip's cache keeps that under a minute); the commands then run from the installed ``fdxgw``
with no path to this checkout, so a missing dependency, a data file left out of the package or
a path resolved against the checkout fails here.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import venv
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from gateway import __version__
from tests.faults.servers import free_port
from tests.multi.driver import Driver
from tests.serving.operator import ROOT, Fdxgw, clean_environment, write_config

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ``fdxgw`` of a fresh virtual environment holding only the built wheel and its
    dependencies."""
    build = tmp_path_factory.mktemp("wheel")
    source = _copy_of_the_tree(tmp_path_factory.mktemp("source"))
    env = clean_environment(PIP_DISABLE_PIP_VERSION_CHECK="1")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(build), str(source)],
        check=True,
        capture_output=True,
        env=env,
        timeout=600,
    )
    wheel = next(build.glob("fdx_gateway-*.whl"))
    target = tmp_path_factory.mktemp("venv")
    venv.create(target, with_pip=True)
    subprocess.run(
        [str(target / "bin" / "python"), "-m", "pip", "install", "-q", "--no-compile", str(wheel)],
        check=True,
        capture_output=True,
        env=env,
        timeout=900,
    )
    return target / "bin" / "fdxgw"


def _copy_of_the_tree(target: Path) -> Path:
    """The files git would commit (tracked, or new and not ignored), as a clean checkout has
    them: the wheel is built from what ships, and the build leaves nothing in the checkout."""
    listed = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "-co", "--exclude-standard", "-z"],
        check=True,
        capture_output=True,
        timeout=60,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


@pytest.fixture(scope="module")
def operator(installed: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fdxgw]:
    folder = tmp_path_factory.mktemp("empty")
    port = free_port()
    write_config(
        folder,
        {
            "issuer": f"http://127.0.0.1:{port}",
            "port": port,
            "database_url": "sqlite:///var/gateway.db",
            "var_dir": "var",
            "notification_sweep_interval": 0,
        },
    )
    fdxgw = Fdxgw(folder, [str(installed)], env=clean_environment(PYTHONPATH=""))
    yield fdxgw
    fdxgw.kill()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=30) as client:
        yield client


def test_the_installed_command_reports_its_version(operator: Fdxgw):
    """``fdxgw --version`` is the package's version."""
    answer = operator.run("--version")

    assert (0, f"fdxgw {__version__}") == (answer.returncode, answer.stdout.strip())


def test_init_from_an_empty_folder_seeds_the_demo_from_the_package(operator: Fdxgw):
    """The operator file alone: storage beside it, the demo recipient found in the package."""
    answer = operator.run("--config", "op.toml", "init")

    assert 0 == answer.returncode, answer.stderr
    assert "demo recipient" in answer.stdout
    assert (operator.folder / "var" / "gateway.db").is_file()
    assert not (Path.cwd() / "op.toml").exists()


async def test_serve_answers_a_whole_grant_then_stops_cleanly(operator: Fdxgw, http):
    """The installed gateway runs the flow (PAR, sign-in, consent, token, a read) for the demo
    recipient, and exits 0 on SIGTERM."""
    issuer = f"http://127.0.0.1:{_port(operator)}"
    operator.start("--config", "op.toml", "serve", ready=issuer + "/healthz")
    driver = Driver(http, issuer)

    pushed = await driver.par()
    tokens = await driver.token(await driver.authorize(pushed), pushed)
    accounts = await driver.fdx(tokens)
    health = (await http.get(issuer + "/healthz")).json()

    assert 200 == accounts.status_code
    assert __version__ == health["version"]
    assert 0 == operator.terminate()


def test_what_the_gateway_imports_late_is_installed_with_it(installed: Path):
    """``fdxgw adapter check`` imports its schema validator only when it runs, and the HTTP
    adapter yarl: each came with the package, not with a developer's environment."""
    late = (
        "import openapi_schema_validator, yarl, anyio, cryptography, adapters.conformance.schemas"
    )
    answer = subprocess.run(
        [str(installed.parent / "python"), "-c", late],
        capture_output=True,
        text=True,
        env=clean_environment(),
        cwd=installed.parent,
        timeout=60,
    )

    assert 0 == answer.returncode, answer.stderr


def _port(operator: Fdxgw) -> int:
    text = (operator.folder / "op.toml").read_text(encoding="utf-8")
    return int(text.split("port = ", 1)[1].split("\n", 1)[0])
