"""Structured JSON logs: the interaction id on every line, and never a secret or a name."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from authz.store import open_records
from config.settings import Settings
from examples.budget_app import Recipient, run_flow
from gateway.app import build_services, create_app
from gateway.cli import _seed_demo
from gateway.logging import INTERACTION_ID, MASK, JsonFormatter, Redactor, configure, redact
from tests.gateway.conftest import Harness

ROOT = Path(__file__).resolve().parents[2]
JWT = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJwYWlyd2lzZSJ9.c2lnbmF0dXJlLWJ5dGVz"
OPAQUE = "Zx7Kq2mW9pR4tY6uI8oP0aS3dF5gH1jK2lZ4xC6vB8n"  # secrets.token_urlsafe(32)-like


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """Every logger's records, at DEBUG, through the production handler."""
    stream = io.StringIO()
    root = logging.getLogger()
    handler = logging.StreamHandler(stream)
    handler.addFilter(Redactor())
    handler.setFormatter(JsonFormatter())
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


@pytest.mark.parametrize(
    "text",
    [
        f"Authorization: Bearer {JWT}",
        f"token {JWT} was refused",
        f"refresh_token={OPAQUE}&grant_type=refresh_token",
        '{"password": "hunter2", "username": "x"}',
        "code=abc123&state=s",
        f"client_assertion={JWT}",
        f"an opaque {OPAQUE} in the middle",
    ],
    ids=["bearer", "bare-jwt", "form-refresh", "json-password", "code", "assertion", "opaque"],
)
def test_secrets_are_masked(text):
    """JWTs, long opaque values and credential parameters never survive redaction."""
    masked = redact(text)

    assert MASK in masked
    for secret in (JWT, OPAQUE, "hunter2", "abc123"):
        assert secret not in masked


@pytest.mark.parametrize(
    "text",
    [
        "consent 3fa85f64-5717-4562-b3fc-2c963f66afa6 revoked",
        "fdx.adapter_error BankUnavailable account acc_b28959f80308d16932c6",
        "status_code=503 error_code=501",
    ],
    ids=["uuid", "short-ids", "codes-by-other-names"],
)
def test_ids_and_ordinary_words_are_kept(text):
    """Consent and interaction ids (UUIDs), account ids and status codes stay readable."""
    assert text == redact(text)


def test_a_line_is_one_json_object_with_the_interaction_id(captured):
    """time, level, logger, message, the request's interaction id and extra fields."""
    token = INTERACTION_ID.set("iid-123")
    try:
        logging.getLogger("gateway.test").info("thing.happened", extra={"consent_id": "c-1"})
    finally:
        INTERACTION_ID.reset(token)

    (line,) = lines(captured)
    assert {"level": "INFO", "logger": "gateway.test", "message": "thing.happened"}.items() <= (
        line.items()
    )
    assert ("iid-123", "c-1") == (line["interaction_id"], line["consent_id"])
    assert line["time"].endswith("+00:00")


def test_arguments_extras_and_exceptions_are_redacted(captured):
    """A token passed as an argument or an extra is masked; an exception keeps its type only."""
    log = logging.getLogger("gateway.test")
    log.warning("refused %s", JWT, extra={"header": f"Bearer {JWT}"})
    try:
        raise ValueError(f"bad token {OPAQUE} for Alice Johnson")
    except ValueError:
        log.exception("failed")

    text = captured.getvalue()
    assert JWT not in text
    assert OPAQUE not in text
    assert "Alice" not in text
    assert "ValueError at" in lines(captured)[1]["error"]


def test_the_middleware_sets_the_interaction_id_for_the_request(captured):
    """A line logged while a request runs carries that request's x-fapi-interaction-id."""
    h = Harness()
    h.bank.fail = RuntimeError("boom")  # logged by the FDX error renderer
    _, token = h.grant()

    h.get("/fdx/v6/accounts", token, headers={"x-fapi-interaction-id": "abc-123"})

    logged = [line for line in lines(captured) if line["logger"] == "gateway.fdx"]
    assert logged
    assert {"abc-123"} == {line["interaction_id"] for line in logged}
    assert INTERACTION_ID.get() is None


def test_configure_installs_one_json_handler_on_the_root():
    """What `fdxgw serve` calls: JSON lines on the given stream, uvicorn's loggers included."""
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    stream = io.StringIO()
    try:
        configure("WARNING", stream=stream)
        logging.getLogger("uvicorn.error").warning("started %s", JWT, extra={"color_message": "x"})
        logging.getLogger("gateway.test").info("not shown")
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in saved[0]:
            root.addHandler(handler)
        root.setLevel(saved[1])

    (line,) = lines(stream)
    assert ("uvicorn.error", f"started {MASK}") == (line["logger"], line["message"])
    assert "color_message" not in line


class Wiretap:
    """Every secret that crossed the wire during the flow, in either direction."""

    NAMES = ("access_token", "refresh_token", "id_token", "code", "client_assertion",
             "code_verifier", "password", "request_uri", "token")  # fmt: skip

    def __init__(self) -> None:
        self.secrets: set[str] = set()
        self.bodies: list[str] = []

    async def request(self, request: httpx.Request) -> None:
        self._pairs(parse_qsl(urlsplit(str(request.url)).query))
        body = (await request.aread()).decode("utf-8", "replace")
        self._pairs(parse_qsl(body))
        self.bodies.append(body)
        auth = request.headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            self.secrets.add(auth[7:])

    async def response(self, response: httpx.Response) -> None:
        await response.aread()
        self._pairs(parse_qsl(urlsplit(response.headers.get("location", "")).query))
        if response.headers.get("content-type", "").startswith("application/json"):
            body = response.json()
            if isinstance(body, dict):
                self._pairs(body.items())

    def _pairs(self, pairs: Any) -> None:
        for name, value in pairs:
            if name in self.NAMES and isinstance(value, str) and len(value) >= 8:
                self.secrets.add(value)


@pytest.mark.anyio
async def test_a_whole_flow_logs_no_token_code_password_or_name(tmp_path, captured):
    """PAR → sign-in → consent → token → FDX → refresh → revoke, logs at DEBUG: none of the
    secrets that crossed the wire, the consumer's password or name appear in any line."""
    settings = Settings(
        database_url=f"sqlite:///{tmp_path}/gw.db",
        var_dir=str(tmp_path / "var"),
        profile="sandbox",  # the example client sends plain bearer tokens
    )
    records = open_records(settings.database_url)
    await records.schema.migrate()
    await _seed_demo(records, ROOT / "config" / "demo")
    await records.aclose()
    services = build_services(settings)
    app = create_app(settings, services=services)
    tap = Wiretap()
    hooks: dict[str, list[Any]] = {"request": [tap.request], "response": [tap.response]}
    transport = httpx.ASGITransport(app=app)

    async with httpx.AsyncClient(
        transport=transport, base_url=settings.issuer, event_hooks=hooks
    ) as http:
        result = await run_flow(
            http, settings.issuer, Recipient.demo(), "alice", "sandbox-alice", say=lambda _: None
        )
        # Careless lines with live credentials in them, as a future bug might write: every
        # request body (the login form, token requests with assertions, refresh tokens).
        for body in tap.bodies:
            logging.getLogger("gateway.test").error("request body was %s", body)

    text = captured.getvalue()
    assert result.transactions, "the flow ran"
    assert len(tap.secrets) >= 5, "access, refresh, code, assertion and verifier were seen"
    leaked = {s for s in tap.secrets if s in text}
    assert set() == leaked
    for personal in ("sandbox-alice", "username=alice", "Alice Johnson", "Johnson"):
        assert personal not in text
    assert all(isinstance(line, dict) for line in lines(captured))
