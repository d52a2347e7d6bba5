"""Settings: defaults from gateway.toml, FDX_ overrides, and start-up errors that name the key."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from config.settings import Settings, SettingsError


def test_defaults_come_from_the_toml_file() -> None:
    """With no environment, the file's defaults apply."""
    settings = Settings.load(environ={})

    assert "http://127.0.0.1:8000" == settings.issuer
    assert 300 == settings.access_token_ttl
    assert ("en", "ja", "es") == settings.languages


def test_environment_overrides_the_file() -> None:
    """FDX_<KEY> wins over the file, cast to the field's type."""
    settings = Settings.load(
        environ={"FDX_PORT": "9000", "FDX_ISSUER": "https://bank.example", "FDX_LANGUAGES": "ja,en"}
    )

    assert 9000 == settings.port
    assert "https://bank.example" == settings.issuer
    assert ("ja", "en") == settings.languages
    assert settings.secure_cookies
    assert "https://bank.example/fdx/v6" == settings.resource_audience


@pytest.mark.parametrize(
    ("environ", "key"),
    [
        ({"FDX_PORT": "eighty"}, "FDX_PORT"),
        ({"FDX_PORT": "70000"}, "port"),
        ({"FDX_ISSUER": "http://bank.example"}, "issuer"),
        ({"FDX_ISSUER": "https://bank.example/"}, "issuer"),
        ({"FDX_ISSUER": "ftp://bank.example"}, "issuer"),
        ({"FDX_ACCESS_TOKEN_TTL": "301"}, "access_token_ttl"),
        ({"FDX_DATABASE_URL": "mysql://x"}, "database_url"),
        ({"FDX_STATE_URL": "memcached://x"}, "state_url"),
        ({"FDX_LANGUAGES": "fr"}, "languages"),
        ({"FDX_MAX_CONSENT_DAYS": "400"}, "max_consent_days"),
        ({"FDX_PAGE_LIMIT_DEFAULT": "600"}, "page_limit_default"),
    ],
    ids=[
        "not-a-number", "port-range", "plain-http-outside-localhost", "trailing-slash",
        "not-http", "token-too-long-lived", "unknown-database", "unknown-state-store",
        "unsupported-language", "consent-beyond-a-year", "default-above-max",
    ],
)  # fmt: skip
def test_a_bad_value_stops_start_up_naming_the_key(environ: dict[str, str], key: str) -> None:
    """The message starts with the key, so an operator knows what to fix."""
    with pytest.raises(SettingsError) as caught:
        Settings.load(environ=environ)

    assert str(caught.value).startswith(key)


def test_unknown_key_in_the_file_is_refused(tmp_path: Path) -> None:
    """A typo in gateway.toml does not pass silently."""
    defaults = tmp_path / "gateway.toml"
    defaults.write_text('isuer = "https://bank.example"\n', encoding="utf-8")

    with pytest.raises(SettingsError, match="isuer"):
        Settings.load(environ={}, defaults_file=defaults)


def test_the_key_encryption_key_comes_from_the_environment_only(tmp_path: Path) -> None:
    """A secret in a file kept in version control is refused; from the environment it is read
    and never shown by the settings' repr."""
    defaults = tmp_path / "gateway.toml"
    defaults.write_text('key_encryption_key = "x"\n', encoding="utf-8")
    value = "A" * 43 + "="

    with pytest.raises(SettingsError, match="key_encryption_key"):
        Settings.load(environ={}, defaults_file=defaults)
    settings = Settings.load(environ={"FDX_KEY_ENCRYPTION_KEY": value})
    assert value == settings.key_encryption_key
    assert value not in repr(settings)


@pytest.mark.parametrize("interval", ["0", "3601"])
def test_the_key_reload_interval_is_bounded(interval: str) -> None:
    """A rotation must reach every instance within an hour; 0 would read the store in a loop."""
    with pytest.raises(SettingsError, match="key_reload_interval"):
        Settings.load(environ={"FDX_KEY_RELOAD_INTERVAL": interval})


def test_missing_defaults_file_is_reported(tmp_path: Path) -> None:
    """A missing file is an error naming the file, not a traceback."""
    with pytest.raises(SettingsError, match="cannot read"):
        Settings.load(environ={}, defaults_file=tmp_path / "absent.toml")


def test_fdx_redis_url_selects_the_redis_state_store() -> None:
    """FDX_REDIS_URL (docs/architecture.md §8) names the state store, read by all as state_url."""
    settings = Settings.load(environ={"FDX_REDIS_URL": "rediss://cache.bank.example:6380/0"})

    assert "rediss://cache.bank.example:6380/0" == settings.state_url


@pytest.mark.parametrize(
    "environ",
    [
        {"FDX_REDIS_URL": "memcached://cache:11211"},
        {"FDX_REDIS_URL": "redis://a:6379/0", "FDX_STATE_URL": "redis://b:6379/0"},
    ],
    ids=["not-redis", "disagrees-with-state-url"],
)
def test_a_bad_redis_url_stops_start_up(environ: dict[str, str]) -> None:
    """A redis_url that is not Redis, or names another store than state_url, is refused."""
    with pytest.raises(SettingsError) as caught:
        Settings.load(environ=environ)

    assert str(caught.value).startswith("redis_url")


def operator_file(folder: Path, body: str) -> Path:
    path = folder / "op.toml"
    path.write_text(body, encoding="utf-8")
    return path


def test_the_operator_file_sits_between_the_environment_and_the_defaults(tmp_path: Path) -> None:
    """FDX_* wins over the file, the file over gateway.toml."""
    path = operator_file(tmp_path, 'port = 9100\nprovider_name = "File Bank"\n')

    settings = Settings.load(environ={"FDX_PORT": "9200"}, config_file=path)

    assert (9200, "File Bank", 300) == (
        settings.port,
        settings.provider_name,
        settings.access_token_ttl,
    )


def test_fdx_config_names_the_operator_file(tmp_path: Path) -> None:
    """Without --config, FDX_CONFIG points at the file."""
    path = operator_file(tmp_path, 'provider_name = "Env File Bank"\n')

    settings = Settings.load(environ={"FDX_CONFIG": str(path)})

    assert "Env File Bank" == settings.provider_name


def test_relative_paths_in_the_file_are_relative_to_its_folder(tmp_path: Path) -> None:
    """var_dir, the SQLite file and every file setting are found beside the operator file,
    wherever the gateway is started from; absolute paths stay as written."""
    path = operator_file(
        tmp_path,
        'var_dir = "state"\ndatabase_url = "sqlite:///state/gw.db"\n'
        'admin_token_file = "/etc/fdxgw/admin"\nmaintenance_file = "windows.toml"\n',
    )

    settings = Settings.load(environ={}, config_file=path)

    assert str(tmp_path / "state") == settings.var_dir
    assert f"sqlite:///{tmp_path}/state/gw.db" == settings.database_url
    assert "/etc/fdxgw/admin" == settings.admin_token_file
    assert str(tmp_path / "windows.toml") == settings.maintenance_file


def test_the_demo_material_is_found_inside_the_package() -> None:
    """The built-in demo_dir and registry_jwks name files of the installed package, so an
    installed gateway started anywhere finds them."""
    settings = Settings.load(environ={})

    assert (Path(settings.demo_dir) / "recipient.json").is_file()
    assert Path(settings.registry_jwks).is_file()


def test_an_unknown_key_in_the_file_is_refused_naming_the_closest_known_key(
    tmp_path: Path,
) -> None:
    """A typo stops start-up with the key and what it probably meant."""
    path = operator_file(tmp_path, 'databse_url = "sqlite:///x.db"\n')

    with pytest.raises(SettingsError) as caught:
        Settings.load(environ={}, config_file=path)

    assert "unknown key 'databse_url'" in str(caught.value)
    assert "'database_url'" in str(caught.value)


def test_an_unknown_fdx_variable_is_reported_and_ignored() -> None:
    """FDX_PORTT is not a setting: a warning names it and the closest setting."""
    warnings: list[str] = []

    settings = Settings.load(environ={"FDX_PORTT": "1"}, warn=warnings.append)

    assert 8000 == settings.port
    assert ["FDX_PORTT: not a setting (the closest known key is 'port'); ignored"] == warnings


def test_a_missing_operator_file_is_a_settings_error(tmp_path: Path) -> None:
    """The message names the file."""
    with pytest.raises(SettingsError, match=r"op\.toml"):
        Settings.load(environ={}, config_file=tmp_path / "op.toml")


@pytest.mark.parametrize("port", [-1, 8000, 70000], ids=["negative", "the-public-port", "range"])
def test_a_management_port_must_be_its_own(port: int) -> None:
    """0 is none; otherwise a port other than the public one."""
    with pytest.raises(SettingsError, match="management_port"):
        Settings(management_port=port)


def test_the_default_issuer_follows_the_port() -> None:
    """FDX_PORT alone: the loopback issuer names the port the gateway listens on, so its
    metadata, tokens and DPoP targets are reachable where it really is."""
    settings = Settings.load(environ={"FDX_PORT": "8123"})

    assert (8123, "http://127.0.0.1:8123") == (settings.port, settings.issuer)


def test_an_issuer_set_explicitly_keeps_its_port() -> None:
    """Behind a proxy the issuer rightly names another port than the one the gateway binds."""
    settings = Settings.load(environ={"FDX_PORT": "8001", "FDX_ISSUER": "http://127.0.0.1:8000"})

    assert (8001, "http://127.0.0.1:8000") == (settings.port, settings.issuer)


def test_an_issuer_in_the_operator_file_keeps_its_port(tmp_path: Path) -> None:
    """Set in the file, even to the loopback default, the issuer is the operator's choice."""
    path = operator_file(tmp_path, 'issuer = "http://127.0.0.1:8000"\nport = 8001\n')

    settings = Settings.load(environ={}, config_file=path)

    assert (8001, "http://127.0.0.1:8000") == (settings.port, settings.issuer)


OIDC = {
    "FDX_LOGIN": "oidc",
    "FDX_LOGIN_OIDC_ISSUER": "https://login.bank.example",
    "FDX_LOGIN_OIDC_CLIENT_ID": "fdx-gateway",
    "FDX_LOGIN_OIDC_CLIENT_SECRET": "s3cret",
}


def test_login_oidc_settings_come_from_the_environment() -> None:
    s = Settings.load({**OIDC, "FDX_LOGIN_OIDC_ACR_VALUES": "urn:bank:loa:2"})

    assert ("oidc", "https://login.bank.example", "fdx-gateway") == (
        s.login,
        s.login_oidc_issuer,
        s.login_oidc_client_id,
    )
    assert ("sub", "openid", "urn:bank:loa:2") == (
        s.login_oidc_customer_claim,
        s.login_oidc_scope,
        s.login_oidc_acr_values,
    )
    assert "adapter" == Settings.load({}).login


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"FDX_LOGIN": "saml"}, "login"),
        ({"FDX_LOGIN_OIDC_ISSUER": ""}, "login_oidc_issuer"),
        ({"FDX_LOGIN_OIDC_ISSUER": "http://login.bank.example"}, "login_oidc_issuer"),
        ({"FDX_LOGIN_OIDC_ISSUER": "http://127.0.0.1:9000"}, "login_oidc_issuer"),
        ({"FDX_LOGIN_OIDC_CLIENT_ID": ""}, "login_oidc_client_id"),
        ({"FDX_LOGIN_OIDC_PRIVATE_KEY": "key.json"}, "login_oidc_client_secret"),
        ({"FDX_LOGIN_OIDC_CLIENT_SECRET": ""}, "login_oidc_client_secret"),
        ({"FDX_LOGIN_OIDC_SCOPE": "profile"}, "login_oidc_scope"),
        ({"FDX_LOGIN_OIDC_ALLOW_HTTP": "maybe"}, "FDX_LOGIN_OIDC_ALLOW_HTTP"),
    ],
)
def test_a_bad_login_setting_stops_start_up(change: dict[str, str], key: str) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.load({**OIDC, **change})
    assert str(caught.value).startswith(key)


def test_an_http_loopback_issuer_needs_login_oidc_allow_http() -> None:
    env = {**OIDC, "FDX_LOGIN_OIDC_ISSUER": "http://127.0.0.1:9000"}
    assert Settings.load({**env, "FDX_LOGIN_OIDC_ALLOW_HTTP": "true"}).login_oidc_allow_http


def test_an_unreadable_private_key_stops_start_up(tmp_path: Path) -> None:
    from joserfc.jwk import ECKey

    from authz.bank_provider import BankProvider

    env = {**OIDC, "FDX_LOGIN_OIDC_CLIENT_SECRET": ""}
    missing = Settings.load({**env, "FDX_LOGIN_OIDC_PRIVATE_KEY": str(tmp_path / "none.json")})
    with pytest.raises(SettingsError, match=r"^login_oidc_private_key"):
        BankProvider(missing, clock=lambda: 0.0)
    public = tmp_path / "public.json"
    public.write_text(json.dumps(ECKey.generate_key("P-256").as_dict(private=False)))
    with pytest.raises(SettingsError, match="private RSA or EC"):
        BankProvider(replace(missing, login_oidc_private_key=str(public)), clock=lambda: 0.0)


def test_the_default_database_follows_var_dir() -> None:
    """No database_url: the SQLite file is in var_dir; an explicit one is kept."""
    moved = Settings.load(environ={"FDX_VAR_DIR": "/srv/fdxgw/var"})
    assert "sqlite:////srv/fdxgw/var/gateway.db" == moved.database_url
    assert "sqlite:///var/gateway.db" == Settings.load(environ={}).database_url
    kept = Settings.load(
        environ={"FDX_VAR_DIR": "/srv/fdxgw/var", "FDX_DATABASE_URL": "sqlite:///elsewhere.db"}
    )
    assert "sqlite:///elsewhere.db" == kept.database_url
