"""The HTTP adapter's options: validated at start-up, secrets kept out of reprs."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from adapters.http.backoff import Backoff
from adapters.http.breaker import CircuitBreaker, State
from adapters.http.config import HttpCoreConfig


def test_options_become_a_config_with_defaults() -> None:
    """Only base_url is required; the rest have defaults."""
    config = HttpCoreConfig.from_options({"base_url": "https://core.bank.example/api/"})

    assert config.base_url == "https://core.bank.example/api"
    assert (config.timeout, config.retries, config.breaker_failures) == (2.0, 2, 5)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({}, "base_url is required"),
        ({"base_url": "http://core.bank.example"}, "https outside loopback"),
        ({"base_url": "ftp://127.0.0.1"}, "http(s) URL"),
        ({"base_url": "https://c.example", "timeout": 0}, "timeout must be between"),
        ({"base_url": "https://c.example", "retries": True}, "retries must be a whole number"),
        ({"base_url": "https://c.example", "client_cert": "c.pem"}, "both client_cert"),
        ({"base_url": "https://c.example", "colour": "blue"}, "unknown option(s) colour"),
        ({"base_url": "https://c.example", "bearer_token": "a b"}, "one line"),
        ({"base_url": "https://c.example", "etag_cache_entries": -1}, "etag_cache_entries"),
        ({"base_url": "https://c.example", "etag_cache_max_age": "1m"}, "etag_cache_max_age"),
    ],
    ids=[
        "no-url",
        "plain-http",
        "scheme",
        "timeout",
        "bool",
        "half-mtls",
        "unknown",
        "token",
        "cache-entries",
        "cache-age",
    ],
)
def test_bad_options_are_refused_naming_the_option(options: dict[str, Any], message: str) -> None:
    """Each mistake stops start-up with a message that says what is wrong."""
    with pytest.raises(ValueError, match="http: .*" + re.escape(message)):
        HttpCoreConfig.from_options(options)


def test_revalidation_is_off_unless_every_bound_is_set() -> None:
    """``etag_cache_entries`` turns it on; any bound at 0 turns it off again."""
    base = {"base_url": "https://c.example"}

    default = HttpCoreConfig.from_options(base)
    on = HttpCoreConfig.from_options({**base, "etag_cache_entries": 500})
    no_age = HttpCoreConfig.from_options(
        {**base, "etag_cache_entries": 500, "etag_cache_max_age": 0}
    )
    no_room = HttpCoreConfig.from_options({**base, "etag_cache_entries": 5, "etag_cache_bytes": 0})

    assert (default.revalidates, on.revalidates, no_age.revalidates, no_room.revalidates) == (
        False,
        True,
        False,
        False,
    )


def test_the_token_file_is_read_and_the_token_never_shown(tmp_path: Path) -> None:
    """bearer_token_file is read once; repr() of the config does not contain the token."""
    secret = tmp_path / "token"
    secret.write_text("s3cr3t-core-token\n", encoding="utf-8")

    config = HttpCoreConfig.from_options(
        {"base_url": "https://c.example", "bearer_token_file": str(secret)}
    )

    assert config.bearer_token == "s3cr3t-core-token"
    assert "s3cr3t" not in repr(config)


def test_full_jitter_stays_within_the_doubling_cap() -> None:
    """delay = draw × min(cap, base × 2^attempt)."""
    backoff = Backoff(base=0.1, cap=1.0)

    assert [backoff.delay(n, 1.0) for n in range(6)] == [0.1, 0.2, 0.4, 0.8, 1.0, 1.0]
    assert backoff.delay(3, 0.0) == 0.0
    assert backoff.delay(2, 0.25) == pytest.approx(0.1)


def test_the_breaker_lets_one_probe_through_when_half_open() -> None:
    """Open after the threshold; after reset_after exactly one caller may probe."""
    now = [0.0]
    breaker = CircuitBreaker(2, 5.0, clock=lambda: now[0])
    breaker.failed()
    assert breaker.allow()
    breaker.failed()

    assert (breaker.state, breaker.allow()) == (State.OPEN, False)
    now[0] = 5.0
    assert (breaker.allow(), breaker.allow()) == (True, False)
    breaker.abandoned()
    assert breaker.allow()
    breaker.succeeded()
    assert breaker.state is State.CLOSED


def test_a_success_resets_the_failure_count() -> None:
    """Failures must be consecutive to open the breaker."""
    breaker = CircuitBreaker(2, 5.0, clock=lambda: 0.0)

    breaker.failed()
    breaker.succeeded()
    breaker.failed()

    assert breaker.state is State.CLOSED
