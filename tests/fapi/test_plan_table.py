"""tests/fapi/README.md names real tests: every ``path::name`` in its table exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TABLE = Path(__file__).with_name("README.md")


def references() -> list[tuple[str, str]]:
    """(path, test name) for every reference; ``::name`` alone continues the previous path."""
    out: list[tuple[str, str]] = []
    path = ""
    for match in re.finditer(
        r"`(tests/[\w/]+\.py)?(?:::(test_\w+))?(?:\[[^\]]*\])?`", TABLE.read_text()
    ):
        path = match.group(1) or path
        if match.group(2):
            out.append((path, match.group(2)))
    return out


def test_every_test_the_fapi_table_names_exists():
    """A renamed or deleted test shows up here, not as a silent gap in the mapping."""
    refs = references()
    missing = [
        f"{path}::{name}"
        for path, name in refs
        if not (ROOT / path).is_file()
        or not re.search(rf"def {name}\(", (ROOT / path).read_text(encoding="utf-8"))
    ]

    assert len(refs) > 40
    assert [] == missing
