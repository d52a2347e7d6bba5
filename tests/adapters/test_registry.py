"""Adapters found by name: built-ins, installed packages' entry points, composites, options."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters import ENTRY_POINT_GROUP, AdapterConfigError, CompositeBank, load_adapter
from adapters.http import HttpBank
from adapters.registry import Member, parse_spec, read_options
from adapters.sandbox import SandboxBank
from adapters.sandbox.faults import FaultyBank
from config.settings import Settings, SettingsError

PLUGIN = """
from adapters.sandbox import SandboxBank

class AcmeBank(SandboxBank):
    name = "acme"

def create(options):
    return AcmeBank(seed=int(options.get("seed", 7)))

def not_an_adapter(options):
    return object()
"""


@pytest.fixture
def installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A package ``acme_bank`` installed with entry points, the way pip would leave it."""
    (tmp_path / "acme_bank.py").write_text(PLUGIN, encoding="utf-8")
    info = tmp_path / "acme_bank-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-bank\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        f"[{ENTRY_POINT_GROUP}]\nacme = acme_bank:create\nbroken = acme_bank:not_an_adapter\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    sys.modules.pop("acme_bank", None)


def test_the_sandbox_is_built_in() -> None:
    """ "sandbox" needs no package and takes its options from its table."""
    bank = load_adapter("sandbox", {"sandbox": {"seed": 11}})

    assert isinstance(bank, SandboxBank)
    assert bank.seed == 11


def test_the_http_adapter_is_built_in() -> None:
    """ "http" is built from its [http] table."""
    bank = load_adapter("http", {"http": {"base_url": "https://core.bank.example"}})

    assert isinstance(bank, HttpBank)
    assert bank.config.base_url == "https://core.bank.example"


def test_an_installed_package_provides_an_adapter_by_entry_point(installed: Path) -> None:
    """A bank ships its adapter as its own package: found through fdx_gateway.adapters."""
    bank = load_adapter("acme", {"acme": {"seed": 3}})

    assert bank.name == "acme"
    assert isinstance(bank, SandboxBank)
    assert bank.seed == 3


def test_an_entry_point_that_is_not_an_adapter_is_refused(installed: Path) -> None:
    """What the entry point builds must be a BankAdapter."""
    with pytest.raises(AdapterConfigError, match="not a BankAdapter"):
        load_adapter("broken")


def test_an_unknown_adapter_names_the_known_ones(installed: Path) -> None:
    """The message lists what could have been meant."""
    with pytest.raises(AdapterConfigError, match=r"unknown bank adapter 'acne'.*acme.*sandbox"):
        load_adapter("acne")


def test_a_comma_list_builds_a_composite_with_the_first_as_primary() -> None:
    """ "deposits:sandbox,cards:sandbox" is one CompositeBank over two labelled members."""
    bank = load_adapter("deposits:sandbox,cards:sandbox", {"cards": {"seed": 5}})

    assert isinstance(bank, CompositeBank)
    assert (list(bank.members), bank.primary) == (["deposits", "cards"], "deposits")
    cards = bank.members["cards"]
    assert isinstance(cards, SandboxBank)
    assert cards.seed == 5


@pytest.mark.parametrize(
    "spec",
    ["", "Sandbox", "a:b:c", "x:sandbox,x:sandbox", "composite:sandbox", "sandbox,"],
    ids=["empty", "upper-case", "two-colons", "same-label", "reserved-label", "trailing-comma"],
)
def test_malformed_specs_are_refused(spec: str) -> None:
    """Names are lower-case, labels unique and not reserved."""
    with pytest.raises(AdapterConfigError):
        parse_spec(spec)


def test_a_plain_name_is_its_own_label() -> None:
    """ "http" is the member http:http."""
    assert parse_spec("http") == (Member("http", "http"),)


def test_options_come_from_a_toml_or_json_file(tmp_path: Path) -> None:
    """The adapter configuration is one table per label, in TOML or JSON."""
    (tmp_path / "a.toml").write_text('[sandbox]\nseed = 9\n[composite]\nid_key = "k"\n')
    (tmp_path / "a.json").write_text('{"sandbox": {"seed": 9}}')

    assert read_options(tmp_path / "a.toml")["sandbox"] == {"seed": 9}
    assert read_options(tmp_path / "a.json") == {"sandbox": {"seed": 9}}
    bank = load_adapter("sandbox", tmp_path / "a.toml")
    assert isinstance(bank, SandboxBank)
    assert bank.seed == 9


def test_a_bad_options_file_or_option_is_a_config_error(tmp_path: Path) -> None:
    """Unreadable files, non-table content and unknown options stop start-up with a message."""
    (tmp_path / "bad.toml").write_text("sandbox = 3\n")

    with pytest.raises(AdapterConfigError, match="one table per adapter label"):
        read_options(tmp_path / "bad.toml")
    with pytest.raises(AdapterConfigError, match="cannot read"):
        read_options(tmp_path / "missing.toml")
    with pytest.raises(AdapterConfigError, match="unknown option"):
        load_adapter("sandbox", {"sandbox": {"colour": "blue"}})


def test_the_sandbox_wraps_itself_in_faults_when_a_plan_is_given() -> None:
    """[sandbox] faults = FILE gives a FaultyBank; the demo plan resolves against the demo bank."""
    bank = load_adapter("sandbox", {"sandbox": {"faults": "config/demo/faults.toml"}})

    assert isinstance(bank, FaultyBank)
    assert bank.name == "sandbox"


@pytest.mark.parametrize(
    ("adapter", "ok"),
    [("sandbox", True), ("deposits:http,cards:sandbox", True), ("x y", False), ("A", False)],
)
def test_settings_check_the_adapter_spec(adapter: str, ok: bool) -> None:
    """Settings refuse a malformed adapter spec at start-up and accept composites."""
    if ok:
        assert Settings(adapter=adapter).adapter == adapter
    else:
        with pytest.raises(SettingsError, match="adapter"):
            Settings(adapter=adapter)
