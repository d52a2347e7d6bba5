"""max_age and prompt with the built-in sign-in (``login = "adapter"``), OIDC Core §3.1.2.1:
a session too old for max_age, or any earlier session under prompt=login, means signing in
again, and the code (hence the ID token) carries the new sign-in's auth_time; prompt=none is
refused back to the app, since a consent screen always follows."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from authz.requests import AuthorizationCode
from authz.store.base import Kind
from tests.authz.screens.conftest import CLIENT_ID, World, csrf_of

APPROVE = {"decision": "approve", "account:acc-checking": "yes"}


def signed_in_earlier(world: World) -> float:
    """Sign in once (first consent screen), then let 10 minutes pass; the sign-in's time."""
    world.consent_page()
    at = world.clock()
    world.clock.advance(600)
    return at


def approve_auth_time(world: World, path: str) -> float | None:
    page = world.client.get(path)
    assert 'name="decision"' in page.text, page.text
    response = world.client.post(path + "/consent", data={"csrf": csrf_of(page.text), **APPROVE})
    assert response.status_code == 303
    code = parse_qs(urlsplit(response.headers["location"]).query)["code"][0]
    payload = world.run(world.services.state.get, Kind.CODE, code)
    return AuthorizationCode.from_dict(payload).auth_time


def test_a_session_older_than_max_age_signs_in_again(world: World) -> None:
    signed_in_earlier(world)
    path = world.start(max_age=300)
    assert 'name="username"' in world.client.get(path).text
    assert world.sign_in(path).status_code == 303
    assert approve_auth_time(world, path) == world.clock()


def test_a_session_within_max_age_is_kept(world: World) -> None:
    first = signed_in_earlier(world)
    path = world.start(max_age=3600)
    assert approve_auth_time(world, path) == first


def test_prompt_login_signs_in_again(world: World) -> None:
    signed_in_earlier(world)
    path = world.start(prompt=("login",))
    assert 'name="username"' in world.client.get(path).text
    assert world.sign_in(path).status_code == 303
    assert approve_auth_time(world, path) == world.clock()


def test_prompt_none_is_refused_back_to_the_app(world: World) -> None:
    for signed_in, error in ((False, "login_required"), (True, "consent_required")):
        if signed_in:
            signed_in_earlier(world)
        response = world.client.get(
            "/oauth/authorize",
            params={"client_id": CLIENT_ID, "request_uri": world.push(prompt=("none",))},
        )
        assert response.status_code == 303, response.text
        query = parse_qs(urlsplit(response.headers["location"]).query)
        assert (query["error"], query["state"], query["iss"]) == (
            [error],
            ["af0ifjsldkj"],
            ["http://127.0.0.1:8000"],
        )
