"""The package declares what it imports, the lock pins what it declares, and the version is
written once."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

from gateway import __version__

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("gateway", "authz", "adapters", "config")
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
# Imported only by the adapter kit's pytest plugin (adapters/conformance/suite.py), which runs
# under a developer's pytest, never under `fdxgw`.
DEVELOPMENT_ONLY = {"pytest"}


def _name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def _imported_modules() -> set[str]:
    found: set[str] = set()
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    found.update(alias.name.split(".")[0] for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    found.add(node.module.split(".")[0])
    return found - set(sys.stdlib_module_names) - set(PACKAGES) - {"__future__"}


def test_every_imported_distribution_is_a_declared_dependency():
    """Whatever gateway, authz, adapters and config import is in [project] dependencies."""
    declared = {_name(r) for r in PROJECT["dependencies"]}
    distributions = packages_distributions()
    missing = {
        module: distributions.get(module, [module])
        for module in _imported_modules() - DEVELOPMENT_ONLY
        if not any(_name(d) in declared for d in distributions.get(module, [module]))
    }

    assert {} == missing


def test_the_lock_pins_every_runtime_dependency_with_hashes():
    """requirements.lock (make lock) has each declared dependency at one version, hashed."""
    lock = (ROOT / "requirements.lock").read_text(encoding="utf-8")
    pinned = {_name(m) for m in re.findall(r"^([A-Za-z0-9_.-]+)==", lock, re.MULTILINE)}

    assert set() == {_name(r) for r in PROJECT["dependencies"]} - pinned
    assert "--hash=sha256:" in lock


def test_the_version_is_read_from_the_package():
    """pyproject.toml takes the version from gateway/__init__.py, and CHANGELOG.md names it."""
    dynamic = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")

    assert "version" in PROJECT["dynamic"]
    assert "gateway.__version__" == dynamic["tool"]["setuptools"]["dynamic"]["version"]["attr"]
    assert f"## [{__version__}]" in changelog
    assert (ROOT / "LICENSE").is_file()
