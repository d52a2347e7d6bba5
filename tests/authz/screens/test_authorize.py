"""GET /oauth/authorize: only client_id + request_uri, single use, bound to the client."""

from __future__ import annotations

import pytest

from authz.pushed import REQUEST_URI_PREFIX
from authz.store.base import Kind
from tests.authz.screens.conftest import CLIENT_ID, World


def test_a_pushed_request_opens_an_interaction(world: World) -> None:
    """A fresh request_uri sends the browser to a new interaction screen."""
    response = world.client.get(
        "/oauth/authorize", params={"client_id": CLIENT_ID, "request_uri": world.push()}
    )

    assert response.status_code == 303
    assert response.headers["location"].startswith("/oauth/interaction/")


def test_a_request_uri_works_only_once(world: World) -> None:
    """RFC 9126 §2.2: a reused request_uri gets the expired-link page, not a second screen."""
    params = {"client_id": CLIENT_ID, "request_uri": world.push()}
    world.client.get("/oauth/authorize", params=params)

    response = world.client.get("/oauth/authorize", params=params)

    assert response.status_code == 400
    assert "expired or has already been used" in response.text
    assert "location" not in response.headers


def test_an_expired_request_uri_is_refused(world: World) -> None:
    """A request_uri past its lifetime is as good as unknown."""
    request_uri = world.push(ttl=60)
    world.clock.advance(61)

    response = world.client.get(
        "/oauth/authorize", params={"client_id": CLIENT_ID, "request_uri": request_uri}
    )

    assert response.status_code == 400
    assert "expired" in response.text


def test_an_unknown_request_uri_is_refused(world: World) -> None:
    """A request_uri nobody pushed gets the expired-link page."""
    response = world.client.get(
        "/oauth/authorize",
        params={"client_id": CLIENT_ID, "request_uri": REQUEST_URI_PREFIX + "nope"},
    )

    assert response.status_code == 400
    assert "go back to the app" in response.text


def test_another_clients_request_uri_is_refused_without_redirect(world: World) -> None:
    """RFC 9126 §4: the request_uri must be this client's; nothing redirects to an untrusted URI."""
    response = world.client.get(
        "/oauth/authorize", params={"client_id": "someone-else", "request_uri": world.push()}
    )

    assert response.status_code == 400
    assert "location" not in response.headers


def test_a_foreign_client_cannot_burn_then_reuse_the_request(world: World) -> None:
    """A request_uri shown under the wrong client is used up: the client must push again."""
    request_uri = world.push()
    world.client.get("/oauth/authorize", params={"client_id": "x", "request_uri": request_uri})

    payload = world.run(world.services.state.get, Kind.PAR, request_uri.split(":")[-1])

    assert payload is not None
    assert "consumed_at" in payload


@pytest.mark.parametrize(
    "query",
    [
        {"client_id": CLIENT_ID, "request_uri": "PUSHED", "scope": "openid"},
        {"client_id": CLIENT_ID, "request_uri": "PUSHED", "redirect_uri": "https://evil.example"},
        {"request_uri": "PUSHED"},
        {"client_id": CLIENT_ID},
        {"client_id": CLIENT_ID, "request_uri": "https://not-a-urn.example/PUSHED"},
    ],
)
def test_anything_but_client_id_and_request_uri_is_refused(
    world: World, query: dict[str, str]
) -> None:
    """FAPI 2.0 / RFC 9126 §4: extra or missing parameters get a 400 page."""
    pushed = world.push()
    query = {k: v.replace("PUSHED", pushed) for k, v in query.items()}

    response = world.client.get("/oauth/authorize", params=query)

    assert response.status_code == 400
    assert "text/html" in response.headers["content-type"]
    assert "not valid" in response.text


def test_a_repeated_parameter_is_refused(world: World) -> None:
    """RFC 6749 §3.1: no parameter more than once."""
    pushed = world.push()

    response = world.client.get(
        "/oauth/authorize",
        params=[("client_id", CLIENT_ID), ("client_id", CLIENT_ID), ("request_uri", pushed)],
    )

    assert response.status_code == 400


def test_an_unknown_interaction_shows_the_expired_page(world: World) -> None:
    """A made-up or finished interaction id gets the plain-words error page."""
    response = world.client.get("/oauth/interaction/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")

    assert response.status_code == 400
    assert "expired" in response.text


def test_the_error_page_can_be_shown_again_in_japanese(world: World) -> None:
    """The language switch on an error page leads to the same message in Japanese."""
    response = world.client.get("/oauth/error/link_expired", params={"lang": "ja"})

    assert response.status_code == 400
    assert '<html lang="ja">' in response.text
    assert "有効期限が切れた" in response.text
