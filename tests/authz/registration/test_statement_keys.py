"""The registry_jwks and jwks_fetch_allow_private settings, and the demo registry's key pair."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest
from joserfc.jwk import ECKey

from authz.registration.statement import load_registry_keys, verify_statement
from config.settings import Settings, SettingsError
from tests.authz.oauth.conftest import new_key
from tests.authz.registration.conftest import sign_statement

DEMO = Path(__file__).resolve().parents[3] / "config" / "demo"


def test_the_sandbox_trusts_the_demo_registry():
    """A statement signed with the published demo registry key verifies against the default
    registry_jwks, so the sandbox can onboard recipients by DCR."""
    private = json.loads((DEMO / "registry-private-jwks.json").read_text())["keys"][0]
    key = ECKey.import_key(private)
    statement = sign_statement(key, {"iss": "https://registry.sandbox.example", "iat": 100})

    claims = verify_statement(
        statement, load_registry_keys(str(DEMO / "registry-jwks.json")), now=200, leeway=30
    )

    assert claims["iss"] == "https://registry.sandbox.example"
    assert Settings().registry_jwks == "config/demo/registry-jwks.json"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read"),
        (b"not json", "cannot read"),
        (b'{"keys": []}', "no EC or RSA public key"),
        (b'{"keys": [{"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"}]}', "malformed"),
    ],
    ids=["missing", "not-json", "empty", "malformed"],
)
def test_a_bad_registry_file_stops_start_up_naming_the_key(tmp_path, content, message):
    """registry_jwks problems are SettingsErrors that name the setting."""
    path = tmp_path / "registry.json"
    if content is not None:
        path.write_bytes(content)

    with pytest.raises(SettingsError, match=f"registry_jwks: .*{message}"):
        load_registry_keys(str(path))


def test_a_private_registry_key_is_refused(tmp_path):
    """The bank configures the registry's public keys; a private one is a mistake to stop on."""
    path = tmp_path / "registry.json"
    path.write_bytes(orjson.dumps({"keys": [new_key("r").as_dict(private=True)]}))

    with pytest.raises(SettingsError, match="private key"):
        load_registry_keys(str(path))


def test_registry_jwks_must_name_a_json_file():
    """A value that cannot be a JWK Set file is refused when the settings are built."""
    with pytest.raises(SettingsError, match="registry_jwks"):
        Settings(registry_jwks="/etc/passwd")
    assert Settings(registry_jwks="").registry_jwks == ""


@pytest.mark.parametrize(
    ("raw", "expected"), [("true", True), ("0", False), ("off", False), ("YES", True)]
)
def test_jwks_fetch_allow_private_reads_booleans(tmp_path, raw, expected):
    """FDX_JWKS_FETCH_ALLOW_PRIVATE accepts the usual spellings; the default is false."""
    defaults = tmp_path / "gateway.toml"
    defaults.write_text("")

    loaded = Settings.load({"FDX_JWKS_FETCH_ALLOW_PRIVATE": raw}, defaults_file=defaults)

    assert loaded.jwks_fetch_allow_private is expected
    assert Settings().jwks_fetch_allow_private is False


def test_a_bad_boolean_names_the_key(tmp_path):
    """A value that is not a boolean stops start-up naming the key."""
    defaults = tmp_path / "gateway.toml"
    defaults.write_text("")

    with pytest.raises(SettingsError, match="FDX_JWKS_FETCH_ALLOW_PRIVATE"):
        Settings.load({"FDX_JWKS_FETCH_ALLOW_PRIVATE": "maybe"}, defaults_file=defaults)


def test_discovery_advertises_registration_only_when_a_registry_is_configured():
    """No registry, no registration_endpoint (advertise only what works)."""
    from authz.discovery import metadata
    from config.policy import load_policy

    on = metadata(Settings(), load_policy())
    off = metadata(Settings(registry_jwks=""), load_policy())

    assert on["registration_endpoint"] == "http://127.0.0.1:8000/register"
    assert "registration_endpoint" not in off


def test_a_real_bank_never_trusts_the_published_demo_registry():
    """The demo registry's private key is public: with another adapter, the default
    registry_jwks turns registration off instead of trusting it."""
    from authz.registration.statement import registry_file

    assert registry_file(Settings()) == "config/demo/registry-jwks.json"
    assert registry_file(Settings(adapter="acme")) is None
    assert registry_file(Settings(adapter="acme", registry_jwks="/etc/fdx/registry.json")) == (
        "/etc/fdx/registry.json"
    )
