"""Settings, read once at start-up into a frozen value that is passed down explicitly.

Three layers, the first that sets a key wins: ``FDX_<KEY>`` environment variables, then the
operator's TOML file (``fdxgw --config FILE`` or ``FDX_CONFIG``), then the built-in defaults in
``config/gateway.toml``. This module is the only place in the code base that reads (or, for
``fdxgw serve --workers``, writes) ``os.environ``.
"""

from __future__ import annotations

import dataclasses
import difflib
import ipaddress
import logging
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from config import locale
from config.smtp import parse_smtp_url
from config.zones import zone

DEFAULTS_FILE = Path(__file__).with_name("gateway.toml")
# Where the package is installed (the checkout, or site-packages): the built-in defaults that
# name the package's own files (the sandbox's demo material) are found under it, wherever the
# gateway is started from.
PACKAGE_ROOT = Path(__file__).resolve().parent.parent
PACKAGED_KEYS = ("demo_dir", "registry_jwks")
# Settings naming a file or folder: a relative path in the operator's file is relative to that
# file's folder, so one folder holds a deployment's whole configuration.
PATH_KEYS = (
    "var_dir", "demo_dir", "adapter_config", "registry_jwks", "admin_token_file",
    "maintenance_file", "keys_passphrase_file", "key_encryption_key_file", "openapi",
)  # fmt: skip
SQLITE = "sqlite:///"
_ADAPTER_NAME = r"[a-z][a-z0-9_-]{0,39}"
_ADAPTER_SPEC = re.compile(
    rf"(?:{_ADAPTER_NAME}:)?{_ADAPTER_NAME}(?:,{_ADAPTER_NAME}:{_ADAPTER_NAME})*"
)
ENV_PREFIX = "FDX_"
CONFIG_ENV = "FDX_CONFIG"  # the one FDX_* variable that is not a setting
ENV_ONLY = {"key_encryption_key"}  # a secret itself: from the environment, never a file in git


class SettingsError(Exception):
    """A setting is missing or malformed; the message names the key and what is wrong."""


@dataclass(frozen=True, slots=True)
class Settings:
    issuer: str = "http://127.0.0.1:8000"
    host: str = "127.0.0.1"
    port: int = 8000
    # A second port on the same host for /metrics, /admin/*, /healthz and /readyz, which the
    # public port then answers 404 for; 0: none, everything on `port`.
    management_port: int = 0
    # Seconds `fdxgw serve` gives requests in flight to finish after SIGTERM before closing.
    shutdown_timeout: int = 30
    database_url: str = ""  # empty: sqlite:///<var_dir>/gateway.db
    # PostgreSQL only (database_url postgresql://…): connections each instance keeps open and may
    # open at most, and seconds a call waits for one before failing with 503.
    database_pool_min_size: int = 1
    database_pool_max_size: int = 10
    database_timeout: float = 5.0
    state_url: str = "memory://"
    # FDX_REDIS_URL (docs/architecture.md §8): when set, short-lived state lives in this Redis,
    # exactly as if
    # state_url named it; state_url stays the one setting every reader uses.
    redis_url: str = ""
    # Namespace of this deployment's Redis keys (authz/store/redis.py): instances of one gateway
    # share it; two gateways (or test runs) on one Redis each need their own.
    redis_prefix: str = "fdxgw:"
    var_dir: str = "var"
    adapter: str = "sandbox"
    # The adapters' own options: a TOML/JSON file with a table per adapter label (docs/adapters.md).
    adapter_config: str = ""
    # Seconds the gateway waits for any one bank adapter call before answering FDX 503/501
    # (BankTimeout): a slow core costs its own requests this much at most, never the others.
    adapter_timeout: float = 10.0
    demo_dir: str = "config/demo"
    access_token_ttl: int = 300
    par_ttl: int = 60
    code_ttl: int = 60
    interaction_ttl: int = 900
    session_ttl: int = 1800
    assertion_max_lifetime: int = 300
    clock_skew: int = 30
    page_limit_default: int = 100
    page_limit_max: int = 500
    max_consent_days: int = 365
    max_body_bytes: int = 65536
    languages: tuple[str, ...] = field(default=("en", "ja", "es"))
    provider_name: str = "Sandbox Bank"
    # The FDX 6.2 OpenAPI document the adapter conformance kit validates against (FDX_OPENAPI);
    # empty: look in shared/fdx/ beside the checkout (FDX licenses the document; we do not ship it).
    openapi: str = ""
    # The ecosystem registry's public JWK Set (a file) that verifies software statements at
    # POST /register (RFC 7591 §2.3); empty turns dynamic registration off.
    registry_jwks: str = "config/demo/registry-jwks.json"
    # Let jwks_uri fetches reach private, loopback and link-local addresses: tests only (SSRF).
    jwks_fetch_allow_private: bool = False
    # Sender-constrained tokens (FAPI 2.0 §5.3.2.1, README "Sender-constrained tokens"): fapi2
    # issues and accepts only DPoP- or certificate-bound tokens; sandbox also Bearer ones.
    profile: str = "fapi2"
    # DPoP (RFC 9449): proof algorithms, how far a proof's iat may be from now (seconds), whether
    # the AS and the RS demand a server nonce (§8, §9), and how long a nonce lasts.
    dpop_algorithms: tuple[str, ...] = field(default=("ES256", "PS256"))
    dpop_proof_window: int = 60
    dpop_nonce_required: bool = False
    dpop_nonce_lifetime: int = 300
    # mTLS certificate-bound tokens (RFC 8705) behind a TLS-terminating proxy: the header in which
    # it forwards the client certificate (URL-encoded PEM), trusted only from these addresses.
    mtls_client_cert_header: str = ""
    trusted_proxies: tuple[str, ...] = field(default=())
    # Audit trail retention in days: at least 3 years (CFPB 12 CFR 1033.351).
    audit_retention_days: int = 1095
    # Signed consent notifications to recipients: per-attempt timeouts (seconds),
    # attempts and exponential backoff (seconds), deliveries in flight, sweeper period (0: off).
    notification_connect_timeout: float = 3.0
    notification_read_timeout: float = 10.0
    notification_max_attempts: int = 13
    notification_backoff_base: int = 30
    notification_backoff_max: int = 21600
    notification_concurrency: int = 4
    notification_sweep_interval: int = 60
    # Let notifications go to http:// URLs on loopback hosts: sandbox and tests only.
    allow_insecure_notification_urls: bool = False
    # Operator tools (docs/operations.md): the admin API's token hash file (empty: no admin API),
    # /metrics for the admin token only, the planned-windows file of /fdx/v6/availability, the
    # bank adapter's health probe (timeout and cache, seconds) and the JSON log level.
    admin_token_file: str = ""
    metrics_require_admin: bool = False
    maintenance_file: str = ""
    adapter_probe_timeout: float = 1.0
    adapter_probe_ttl: float = 5.0
    log_level: str = "INFO"
    # Signing key rotation (authz/keys.py, docs/security.md): a new key is published this many
    # seconds before it signs; a replaced key stays published this long after it stopped
    # signing; the optional file holding the passphrase that encrypts private keys at rest.
    key_publish_ahead: int = 3600
    key_retention: int = 2_592_000
    keys_passphrase_file: str = ""
    # The key-encryption key that seals signing keys and the session secret in the record store
    # (authz/kek.py): a 0600 file, or the value itself from FDX_KEY_ENCRYPTION_KEY (never in the
    # TOML file); 32 random bytes in base64. Neither: stored in clear (docs/security.md).
    key_encryption_key_file: str = ""
    key_encryption_key: str = field(default="", repr=False)
    # Seconds between two reads of the keys from the record store: a rotation made through any
    # instance is published and used by every other one within this bound.
    key_reload_interval: int = 30
    # Published rate limits (CFPB §1033.311(d), docs/security.md): FDX data requests a second
    # per recipient and per consent, averaged over a window of rate_limit_window seconds (a
    # burst may use the whole window's allowance); 0 turns a limit off.
    rate_limit_per_client: int = 50
    rate_limit_per_consent: int = 10
    rate_limit_window: int = 10
    # Failed sign-ins from one client address within 15 minutes before it is refused (429).
    login_failures_per_address: int = 20
    # Notices to consumers by email (authz/notices, docs/operations.md "Notices"): the SMTP server
    # (smtp://host:port, smtp+starttls://host:port, smtps://host:port; empty: no email, the
    # portal inbox only), the From address, attempts and backoff (seconds) per email.
    smtp_url: str = field(default="", repr=False)  # may hold a password
    mail_from: str = ""
    mail_max_attempts: int = 10
    mail_backoff_base: int = 60
    mail_backoff_max: int = 21600
    # The time zone consumer pages and notices show dates in (a tz database name, e.g.
    # America/New_York): the zone of the bank's consumers.
    display_timezone: str = "UTC"
    # Who signs the consumer in (README "Sign-in at the bank"): "adapter", the built-in form
    # checked by BankAdapter.authenticate, or "oidc", the bank's own OpenID Provider, whose
    # issuer, client registration and ID-token claim naming the customer follow.
    login: str = "adapter"
    login_oidc_issuer: str = ""
    login_oidc_client_id: str = ""
    login_oidc_client_secret: str = ""  # client_secret_basic; set it through the environment
    login_oidc_private_key: str = ""  # a private JWK file: private_key_jwt instead
    login_oidc_customer_claim: str = "sub"
    login_oidc_scope: str = "openid"
    login_oidc_acr_values: str = ""  # space-separated; sent, then required in the ID token
    login_oidc_allow_http: bool = False  # an http:// loopback issuer: tests only

    def __post_init__(self) -> None:
        _apply_redis_url(self)
        _apply_database_default(self)
        _validate(self)
        _validate_operator_tools(self)
        _validate_hardening(self)
        _validate_mail(self)
        _validate_login(self)

    @property
    def resource_audience(self) -> str:
        """RFC 9068 ``aud`` of access tokens: the FDX resource server's base URL."""
        return self.issuer + "/fdx/v6"

    @property
    def secure_cookies(self) -> bool:
        return self.issuer.startswith("https://")

    @property
    def var_path(self) -> Path:
        return Path(self.var_dir)

    @classmethod
    def load(
        cls,
        environ: Mapping[str, str] | None = None,
        defaults_file: Path = DEFAULTS_FILE,
        *,
        config_file: Path | None = None,
        warn: Callable[[str], None] | None = None,
    ) -> Settings:
        """``FDX_*`` variables over the operator's file (``config_file``, else ``FDX_CONFIG``)
        over the defaults; raises SettingsError, and reports each unknown ``FDX_*`` variable
        through ``warn`` (a typo there would otherwise be silently ignored)."""
        env = os.environ if environ is None else environ
        known = {f.name: f for f in dataclasses.fields(cls)}
        raw = _read_toml(defaults_file, "cannot read defaults")
        _refuse_unknown(defaults_file, raw, known)
        _refuse_secrets(defaults_file, raw)
        for key in PACKAGED_KEYS:
            if isinstance(raw.get(key), str) and raw[key]:
                raw[key] = str(PACKAGE_ROOT / raw[key])
        if config_file is None and env.get(CONFIG_ENV):
            config_file = Path(env[CONFIG_ENV])
        operator: dict[str, Any] = {}
        if config_file is not None:
            operator = _read_toml(config_file, "cannot read the configuration file")
            _refuse_unknown(config_file, operator, known)
            _refuse_secrets(config_file, operator)
            raw.update(_relative_to(config_file.resolve().parent, operator))
        for name in sorted(env):
            if name.startswith(ENV_PREFIX) and name != CONFIG_ENV:
                key = name[len(ENV_PREFIX) :].lower()
                if key not in known:
                    (warn or _log_warning)(f"{name}: not a setting{_closest(key, known)}; ignored")
        values: dict[str, Any] = {}
        for name, f in known.items():
            env_key = ENV_PREFIX + name.upper()
            if env_key in env:
                values[name] = _cast(env_key, env[env_key], f.type)
            elif name in raw:
                values[name] = _cast(name, raw[name], f.type)
        if ENV_PREFIX + "ISSUER" not in env and "issuer" not in operator:
            _follow_port(values)
        return cls(**values)


def export_for_workers(variables: Mapping[str, str]) -> None:
    """Set environment variables that ``fdxgw serve --workers`` processes inherit: the operator's
    file (``FDX_CONFIG``, so each worker reads the same settings) and prometheus-client's
    multiprocess directory."""
    os.environ.update(variables)


def worker_metrics_dir(environ: Mapping[str, str] | None = None) -> str | None:
    """The folder of prometheus-client's per-process metric files, set by ``fdxgw serve
    --workers`` for its workers; None in a single process."""
    env = os.environ if environ is None else environ
    return env.get("PROMETHEUS_MULTIPROC_DIR") or None


def _read_toml(path: Path, what: str) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SettingsError(f"{path}: {what} ({exc})") from exc


def _refuse_unknown(path: Path, raw: Mapping[str, Any], known: Mapping[str, Any]) -> None:
    for key in sorted(raw):
        if key not in known:
            raise SettingsError(f"{path}: unknown key {key!r}{_closest(key, known)}")


def _refuse_secrets(path: Path, raw: Mapping[str, Any]) -> None:
    secret = sorted(set(raw) & ENV_ONLY)
    if secret:
        raise SettingsError(
            f"{path}: {secret[0]} is a secret: set {ENV_PREFIX}{secret[0].upper()}"
            " in the environment (or its _file setting), never in this file"
        )


def _closest(key: str, known: Mapping[str, Any]) -> str:
    match = difflib.get_close_matches(key, list(known), n=1, cutoff=0.0)
    return f" (the closest known key is {match[0]!r})" if match else ""


def _relative_to(folder: Path, raw: Mapping[str, Any]) -> dict[str, Any]:
    """The file's values, with its relative paths made relative to ``folder``."""
    out = dict(raw)
    for key in PATH_KEYS:
        value = out.get(key)
        if isinstance(value, str) and value and not Path(value).is_absolute():
            out[key] = str(folder / value)
    url = out.get("database_url")
    if isinstance(url, str) and url.startswith(SQLITE) and not url[len(SQLITE) :].startswith("/"):
        out["database_url"] = SQLITE + str(folder / url[len(SQLITE) :])
    return out


def _log_warning(message: str) -> None:
    logging.getLogger("config.settings").warning(message)


LOOPBACK_ISSUER = "http://127.0.0.1:{port}"


def _follow_port(values: dict[str, Any]) -> None:
    """The issuer nobody set (the loopback default) names the port the gateway listens on:
    ``FDX_PORT=8001`` alone must not advertise :8000 in its metadata and tokens. An issuer set
    explicitly is left alone (behind a proxy it rightly names another port)."""
    defaults = {f.name: f.default for f in dataclasses.fields(Settings)}
    port = values.get("port", defaults["port"])
    issuer = values.get("issuer", defaults["issuer"])
    if issuer == defaults["issuer"] and port != defaults["port"]:
        values["issuer"] = LOOPBACK_ISSUER.format(port=port)


def _cast(key: str, value: Any, type_name: Any) -> Any:
    kind = str(type_name)
    if kind == "bool":
        return _cast_bool(key, value)
    if kind == "float":
        if isinstance(value, bool):
            raise SettingsError(f"{key}: expected a number, got {value!r}")
        try:
            return float(value)
        except (TypeError, ValueError):
            raise SettingsError(f"{key}: expected a number, got {value!r}") from None
    if kind == "int":
        if isinstance(value, bool):
            raise SettingsError(f"{key}: expected a whole number, got {value!r}")
        try:
            return int(value)
        except (TypeError, ValueError):
            raise SettingsError(f"{key}: expected a whole number, got {value!r}") from None
    if kind.startswith("tuple"):
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, list | tuple):
            raise SettingsError(f"{key}: expected a comma-separated list, got {value!r}")
        return tuple(str(i).strip() for i in items if str(i).strip())
    if not isinstance(value, str):
        raise SettingsError(f"{key}: expected text, got {value!r}")
    return value


def _cast_bool(key: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off"):
        return False
    raise SettingsError(f"{key}: expected true or false, got {value!r}")


def _apply_database_default(s: Settings) -> None:
    """No ``database_url``: the SQLite file lives in ``var_dir`` with the keys and the secret,
    so moving ``var_dir`` moves every file the gateway writes."""
    if not s.database_url:
        path = (Path(s.var_dir) / "gateway.db").as_posix()
        object.__setattr__(s, "database_url", "sqlite:///" + path)  # frozen: set once, first


def _apply_redis_url(s: Settings) -> None:
    if not s.redis_url:
        return
    if not s.redis_url.startswith(("redis://", "rediss://")):
        raise SettingsError(f"redis_url: expected redis://… or rediss://…, got {s.redis_url!r}")
    if s.state_url not in ("memory://", s.redis_url):
        raise SettingsError("redis_url: names another store than state_url; set only one of them")
    object.__setattr__(s, "state_url", s.redis_url)  # frozen: set once, before anyone reads it


def _validate(s: Settings) -> None:
    url = urlsplit(s.issuer)
    if url.scheme not in ("https", "http") or not url.netloc or url.query or url.fragment:
        raise SettingsError(
            f"issuer: must be an http(s) URL without query or fragment, got {s.issuer!r}"
        )
    if url.scheme == "http" and url.hostname not in ("127.0.0.1", "localhost", "::1"):
        # RFC 8414 §2: the issuer is an https URL; plain http only for local development.
        raise SettingsError(f"issuer: must use https outside localhost, got {s.issuer!r}")
    if s.issuer.endswith("/"):
        raise SettingsError(f"issuer: must not end with '/', got {s.issuer!r}")
    if not (s.database_url.startswith("sqlite:///") or s.database_url.startswith("postgresql://")):
        raise SettingsError(
            f"database_url: expected sqlite:///PATH or postgresql://…, got {s.database_url!r}"
        )
    _validate_database_pool(s)
    if s.state_url != "memory://" and not s.state_url.startswith(("redis://", "rediss://")):
        raise SettingsError(f"state_url: expected memory:// or redis://…, got {s.state_url!r}")
    if not s.redis_prefix or len(s.redis_prefix) > 64 or any(c in s.redis_prefix for c in "{} "):
        # The braces would move the Redis Cluster hash tag (authz/store/redis.py).
        raise SettingsError(
            f"redis_prefix: 1-64 characters without braces or spaces, got {s.redis_prefix!r}"
        )
    if isinstance(s.adapter_timeout, bool) or not 0.05 <= s.adapter_timeout <= 300:
        raise SettingsError(
            f"adapter_timeout: must be between 0.05 and 300, got {s.adapter_timeout}"
        )
    if not 1 <= s.port <= 65535:
        raise SettingsError(f"port: must be 1-65535, got {s.port}")
    if not 0 <= s.management_port <= 65535 or s.management_port == s.port:
        raise SettingsError(
            f"management_port: must be 0 (none) or 1-65535 other than port, got {s.management_port}"
        )
    if isinstance(s.shutdown_timeout, bool) or not 0 <= s.shutdown_timeout <= 3600:
        raise SettingsError(
            f"shutdown_timeout: must be between 0 and 3600, got {s.shutdown_timeout}"
        )
    bounds = {
        "access_token_ttl": (1, 300),  # docs/architecture.md §5: access tokens live ≤ 300 s
        "par_ttl": (5, 600),
        "code_ttl": (5, 600),
        "interaction_ttl": (30, 86400),
        "session_ttl": (60, 86400),
        "assertion_max_lifetime": (10, 3600),
        "clock_skew": (0, 300),
        "page_limit_default": (1, 10000),
        "page_limit_max": (1, 10000),
        "max_consent_days": (1, 365),
        "max_body_bytes": (1024, 10_000_000),
        "audit_retention_days": (1095, 36500),  # 12 CFR 1033.351: not less than three years
        "notification_connect_timeout": (0.01, 60),
        "notification_read_timeout": (0.01, 120),
        "notification_max_attempts": (1, 50),
        "notification_backoff_base": (1, 3600),
        "notification_backoff_max": (1, 86400),
        "notification_concurrency": (1, 64),
        "notification_sweep_interval": (0, 86400),
    }
    for key, (low, high) in bounds.items():
        value = getattr(s, key)
        if not low <= value <= high:
            raise SettingsError(f"{key}: must be between {low} and {high}, got {value}")
    if s.notification_backoff_base > s.notification_backoff_max:
        raise SettingsError("notification_backoff_base: must not exceed notification_backoff_max")
    if not isinstance(s.allow_insecure_notification_urls, bool):
        raise SettingsError("allow_insecure_notification_urls: expected true or false")
    if s.page_limit_default > s.page_limit_max:
        raise SettingsError("page_limit_default: must not exceed page_limit_max")
    supported = ("en", "ja", *locale.languages())  # built in, and gettext catalogs
    if not s.languages or any(lang not in supported for lang in s.languages):
        raise SettingsError(
            f"languages: supported are {', '.join(supported)}, got {','.join(s.languages)!r}"
        )
    if not s.provider_name.strip():
        raise SettingsError("provider_name: the bank's name shown to consumers must not be empty")
    if not _ADAPTER_SPEC.fullmatch(s.adapter):
        # NAME, or LABEL:NAME,… for a composite bank (adapters/registry.py, docs/adapters.md).
        raise SettingsError(
            f"adapter: expected NAME or LABEL:NAME,LABEL:NAME… (lower case), got {s.adapter!r}"
        )
    if "\x00" in s.adapter_config:
        raise SettingsError("adapter_config: expected the path of a TOML or JSON file")
    if s.registry_jwks and (not s.registry_jwks.endswith(".json") or "\x00" in s.registry_jwks):
        raise SettingsError(
            f"registry_jwks: expected the path of a JWK Set file (*.json), got {s.registry_jwks!r}"
        )
    if not isinstance(s.jwks_fetch_allow_private, bool):
        raise SettingsError("jwks_fetch_allow_private: expected true or false")
    _validate_sender_constraint(s)


DPOP_ALGORITHMS = ("ES256", "PS256", "Ed25519")  # what authz/dpop.py can verify
PROFILES = ("fapi2", "sandbox")
_HEADER_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")


def _validate_database_pool(s: Settings) -> None:
    bounds = {
        "database_pool_min_size": (0, 1000),
        "database_pool_max_size": (1, 1000),
        "database_timeout": (0.1, 120),
    }
    for key, (low, high) in bounds.items():
        value = getattr(s, key)
        if isinstance(value, bool) or not low <= value <= high:
            raise SettingsError(f"{key}: must be between {low} and {high}, got {value}")
    if s.database_pool_min_size > s.database_pool_max_size:
        raise SettingsError("database_pool_min_size: must not exceed database_pool_max_size")


def _validate_sender_constraint(s: Settings) -> None:
    if s.profile not in PROFILES:
        raise SettingsError(f"profile: expected fapi2 or sandbox, got {s.profile!r}")
    unknown = [a for a in s.dpop_algorithms if a not in DPOP_ALGORITHMS]
    if not s.dpop_algorithms or unknown:
        raise SettingsError(
            f"dpop_algorithms: expected some of {', '.join(DPOP_ALGORITHMS)},"
            f" got {','.join(s.dpop_algorithms)!r}"
        )
    if not 1 <= s.dpop_proof_window <= 300:
        raise SettingsError(
            f"dpop_proof_window: must be between 1 and 300, got {s.dpop_proof_window}"
        )
    if not 10 <= s.dpop_nonce_lifetime <= 3600:
        raise SettingsError(
            f"dpop_nonce_lifetime: must be between 10 and 3600, got {s.dpop_nonce_lifetime}"
        )
    if not isinstance(s.dpop_nonce_required, bool):
        raise SettingsError("dpop_nonce_required: expected true or false")
    header = s.mtls_client_cert_header.strip().lower()  # header names are case-insensitive
    object.__setattr__(s, "mtls_client_cert_header", header)  # frozen: set before any read
    if header and not _HEADER_NAME.fullmatch(header):
        raise SettingsError(f"mtls_client_cert_header: expected a header name, got {header!r}")
    for proxy in s.trusted_proxies:
        try:
            ipaddress.ip_network(proxy, strict=False)
        except ValueError:
            raise SettingsError(
                f"trusted_proxies: expected IP addresses or CIDRs, got {proxy!r}"
            ) from None
    if header and not s.trusted_proxies:
        # A forwarded certificate is only as good as the proxy that forwards it (RFC 8705 §3).
        raise SettingsError("mtls_client_cert_header: needs trusted_proxies (the proxy addresses)")


def _validate_operator_tools(s: Settings) -> None:
    for key in ("admin_token_file", "maintenance_file"):
        if "\x00" in getattr(s, key):
            raise SettingsError(f"{key}: expected a file path")
    if s.maintenance_file and not s.maintenance_file.endswith(".toml"):
        raise SettingsError(f"maintenance_file: expected a TOML file, got {s.maintenance_file!r}")
    if not isinstance(s.metrics_require_admin, bool):
        raise SettingsError("metrics_require_admin: expected true or false")
    if s.metrics_require_admin and not s.admin_token_file:
        raise SettingsError("metrics_require_admin: needs admin_token_file (fdxgw admin token)")
    if not 0.05 <= s.adapter_probe_timeout <= 30:
        raise SettingsError(
            f"adapter_probe_timeout: must be between 0.05 and 30, got {s.adapter_probe_timeout}"
        )
    if not 0 <= s.adapter_probe_ttl <= 300:
        raise SettingsError(
            f"adapter_probe_ttl: must be between 0 and 300, got {s.adapter_probe_ttl}"
        )
    if s.log_level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise SettingsError(
            f"log_level: expected DEBUG, INFO, WARNING or ERROR, got {s.log_level!r}"
        )


def _validate_hardening(s: Settings) -> None:
    bounds = {
        # A key must be published before it signs for at least a JWKS cache lifetime plus a
        # reload (docs/security.md); 0 is for a single instance without caching clients.
        "key_publish_ahead": (0, 2_592_000),
        # Past every token a key signed: access and ID tokens live ≤ 300 s (architecture.md §5).
        "key_retention": (3600, 315_360_000),
        "key_reload_interval": (1, 3600),
        "rate_limit_per_client": (0, 1_000_000),
        "rate_limit_per_consent": (0, 1_000_000),
        "rate_limit_window": (1, 3600),
        "login_failures_per_address": (1, 100_000),
    }
    for key, (low, high) in bounds.items():
        value = getattr(s, key)
        if isinstance(value, bool) or not low <= value <= high:
            raise SettingsError(f"{key}: must be between {low} and {high}, got {value}")
    for name in ("keys_passphrase_file", "key_encryption_key_file"):
        if "\x00" in getattr(s, name):
            raise SettingsError(f"{name}: expected a file path")


def _validate_mail(s: Settings) -> None:
    if s.smtp_url:
        try:
            parse_smtp_url(s.smtp_url)
        except ValueError as exc:
            raise SettingsError(f"smtp_url: {exc}") from None
        if not s.mail_from:
            raise SettingsError("mail_from: needed with smtp_url (the From of every notice)")
    if s.mail_from and not _MAILBOX.fullmatch(s.mail_from):
        raise SettingsError(
            f"mail_from: expected an address like notices@bank.example, got {s.mail_from!r}"
        )
    bounds = {
        "mail_max_attempts": (1, 50),
        "mail_backoff_base": (1, 3600),
        "mail_backoff_max": (1, 86400),
    }
    for key, (low, high) in bounds.items():
        value = getattr(s, key)
        if isinstance(value, bool) or not low <= value <= high:
            raise SettingsError(f"{key}: must be between {low} and {high}, got {value}")
    if s.mail_backoff_base > s.mail_backoff_max:
        raise SettingsError("mail_backoff_base: must not exceed mail_backoff_max")
    try:
        zone(s.display_timezone)
    except ValueError:
        raise SettingsError(
            f"display_timezone: expected a tz database name like Europe/London, got "
            f"{s.display_timezone!r}"
        ) from None


_MAILBOX = re.compile(r"[^@\s<>\"]{1,64}@[A-Za-z0-9.-]{1,253}")


def _validate_login(s: Settings) -> None:
    if s.login not in ("adapter", "oidc"):
        raise SettingsError(f"login: expected adapter or oidc, got {s.login!r}")
    if not isinstance(s.login_oidc_allow_http, bool):
        raise SettingsError("login_oidc_allow_http: expected true or false")
    if s.login != "oidc":
        return
    url = urlsplit(s.login_oidc_issuer)
    if url.scheme not in ("https", "http") or not url.netloc or url.query or url.fragment:
        raise SettingsError(
            f"login_oidc_issuer: expected the OpenID Provider's https URL, got "
            f"{s.login_oidc_issuer!r}"
        )
    loopback = url.hostname in ("127.0.0.1", "localhost", "::1")
    if url.scheme == "http" and not (s.login_oidc_allow_http and loopback):
        # OIDC Discovery §3: the issuer is an https URL; http only on loopback, for tests.
        raise SettingsError(
            "login_oidc_issuer: must use https (http only on loopback with login_oidc_allow_http)"
        )
    if not s.login_oidc_client_id:
        raise SettingsError("login_oidc_client_id: the gateway's client id at the bank's OP")
    if bool(s.login_oidc_client_secret) == bool(s.login_oidc_private_key):
        raise SettingsError(
            "login_oidc_client_secret, login_oidc_private_key: set exactly one of them"
        )
    if "openid" not in s.login_oidc_scope.split():
        raise SettingsError(f"login_oidc_scope: must include openid, got {s.login_oidc_scope!r}")
    if not s.login_oidc_customer_claim.strip():
        raise SettingsError("login_oidc_customer_claim: the ID-token claim naming the customer")
