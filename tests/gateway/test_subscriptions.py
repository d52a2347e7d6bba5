"""FDX notification subscriptions over the real token endpoint: create, read, delete, ownership,
scope and input checks; bodies validated against FDX 6.2."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.gateway.conftest import assert_fdx_error
from tests.gateway.test_consents import APP, OTHER, Gateway

PATH = "/fdx/v6/notification-subscriptions"
SCOPE = "fdx:notifications:subscribe"
BODY = {
    "type": "CONSENT_REVOKED",
    "category": "CONSENT",
    "callbackUrl": "https://app-1.example/fdx/events",
    "subscriber": {"name": "whatever the body says", "type": "DATA_RECIPIENT"},
}


class Subscriber(Gateway):
    def token(self, client_id: str = APP, scope: str = SCOPE) -> str:
        form = {"grant_type": "client_credentials", "scope": scope, **self.assertion(client_id)}
        response = self.http.post("/oauth/token", data=form)
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])

    def post(self, token: str, body: Any) -> Any:
        headers = {"Authorization": f"Bearer {token}"}
        return self.http.post(PATH, headers=headers, json=body)

    def delete(self, path: str, token: str) -> Any:
        return self.http.delete(path, headers={"Authorization": f"Bearer {token}"})


@pytest.fixture
def sub() -> Iterator[Subscriber]:
    gateway = Subscriber()
    with gateway.http:
        yield gateway


def test_a_recipient_subscribes_reads_and_deletes(sub: Subscriber, fdx_validate: Any) -> None:
    """201 with an id and today's effectiveDate, the same on GET, 204 on DELETE, then 404."""
    token = sub.token()

    created = sub.post(token, BODY)
    url = f"{PATH}/{created.json()['subscriptionId']}"
    read = sub.get(url, token)
    deleted = sub.delete(url, token)

    assert 201 == created.status_code, created.text
    fdx_validate(created.json(), "NotificationSubscriptionentity")
    assert read.json() == created.json()
    assert "App app-1" == created.json()["subscriber"]["name"]  # as the bank registered it
    assert "2026-03-15" == created.json()["effectiveDate"]
    assert 204 == deleted.status_code
    assert_fdx_error(sub.get(url, token), 404, "1107", fdx_validate)


def test_another_recipients_subscription_is_not_found(sub: Subscriber, fdx_validate: Any) -> None:
    """Neither readable nor deletable by another recipient: 404/1107, as an unknown id."""
    created = sub.post(sub.token(), BODY).json()
    other = sub.token(OTHER)
    url = f"{PATH}/{created['subscriptionId']}"

    assert_fdx_error(sub.get(url, other), 404, "1107", fdx_validate)
    assert_fdx_error(sub.delete(url, other), 404, "1107", fdx_validate)
    assert 200 == sub.get(url, sub.token()).status_code


def test_the_subscription_scope_is_needed(sub: Subscriber, fdx_validate: Any) -> None:
    """A consent-management token: 403 naming the scope; both scopes in one token work."""
    manage = sub.manage_token()
    both = sub.token(scope=f"fdx:consents:manage {SCOPE}")

    refused = sub.post(manage, BODY)

    assert_fdx_error(refused, 403, "403", fdx_validate)
    assert SCOPE in refused.headers["www-authenticate"]
    assert 201 == sub.post(both, BODY).status_code


@pytest.mark.parametrize(
    "change",
    [
        {"type": "BALANCE"},
        {"category": "FRAUD"},
        {"callbackUrl": "http://app-1.example/events"},
        {"callbackUrl": "https://10.0.0.7/events"},
        {"callbackUrl": "https://0x7f.1/events"},
        {"callbackUrl": "https://api.localhost/events"},
        {"callbackUrl": "https://app-1.example/events\r\nX-Evil: 1"},
        {"subscriber": {"name": "x", "type": "DATA_PROVIDER"}},
        {"effectiveDate": "tomorrow"},
        {"extra": 1},
    ],
    ids=[
        "type-not-emitted",
        "category",
        "plain-http",
        "private-address",
        "ipv4-shorthand",
        "under-localhost",
        "crlf",
        "subscriber",
        "date",
        "unknown-member",
    ],
)
def test_bad_input_is_400_401(sub: Subscriber, fdx_validate: Any, change: dict[str, Any]) -> None:
    """FDX 400 'Invalid Input' (code 401) for what cannot be honoured."""
    response = sub.post(sub.token(), {**BODY, **change})

    assert_fdx_error(response, 400, "401", fdx_validate)


def test_methods_outside_the_spec_are_405(sub: Subscriber, fdx_validate: Any) -> None:
    """GET on the collection is not an FDX operation: 405/1206 with Allow."""
    response = sub.get(PATH, sub.token())

    assert_fdx_error(response, 405, "1206", fdx_validate)
    assert "POST" == response.headers["allow"]
