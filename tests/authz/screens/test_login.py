"""Signing in at the bank: generic failures, throttling, fresh sessions, CSRF, cookie flags."""

from __future__ import annotations

from http.cookies import SimpleCookie
from typing import Any

from authz.screens.interaction import Interactions
from authz.screens.session import SESSION_COOKIE
from tests.authz.screens.conftest import CUSTOMER, PASSWORD, USERNAME, World, csrf_of


def test_the_sign_in_page_names_the_bank_and_the_app(world: World) -> None:
    """Before anything else the consumer sees where they sign in and who is asking."""
    page = world.client.get(world.start())

    assert page.status_code == 200
    assert "Sign in to Sandbox Bank" in page.text
    assert "Budget &lt;App&gt; is asking" in page.text
    assert '<label for="username">' in page.text
    assert '<label for="password">' in page.text


def test_a_wrong_password_and_an_unknown_user_read_the_same(world: World) -> None:
    """One generic message, 401, never which part failed; user ID kept, password not."""
    path = world.start()

    wrong_password = world.sign_in(path, USERNAME, "nope")
    unknown_user = world.sign_in(path, "mallory", PASSWORD)

    assert wrong_password.status_code == unknown_user.status_code == 401
    message = "The user ID or password is not correct."
    assert message in wrong_password.text
    assert message in unknown_user.text
    assert 'value="mallory"' in unknown_user.text
    assert PASSWORD not in unknown_user.text


def test_five_failures_lock_the_user_id_for_fifteen_minutes(world: World) -> None:
    """After 5 failures even the right password is refused, until the window has passed."""
    path = world.start()
    for _ in range(5):
        assert world.sign_in(path, USERNAME.upper(), "wrong").status_code == 401

    locked = world.sign_in(path, USERNAME, PASSWORD)
    world.clock.advance(901)
    later = world.sign_in(world.start(), USERNAME, PASSWORD)

    assert locked.status_code == 429
    assert "Too many unsuccessful sign-in attempts" in locked.text
    assert SESSION_COOKIE not in locked.cookies
    assert later.status_code == 303


def test_signing_in_binds_the_interaction_and_returns_to_it(world: World) -> None:
    """Success: 303 back to the interaction, which now belongs to this customer."""
    path = world.start()

    response = world.sign_in(path)
    interaction = world.run(Interactions(world.services).load, path.rsplit("/", 1)[-1])

    assert response.status_code == 303
    assert response.headers["location"] == path
    assert interaction is not None
    assert interaction.customer_id == CUSTOMER


def test_every_sign_in_starts_a_new_session(world: World) -> None:
    """Session fixation: a session cookie the browser brings is replaced, and ended, at sign-in."""
    planted = world.sign_in(world.start()).cookies[SESSION_COOKIE]
    world.client.cookies.clear()
    path = world.start()
    token = csrf_of(world.client.get(path).text)
    world.client.cookies.set(SESSION_COOKIE, planted)

    response = world.client.post(
        path + "/login", data={"csrf": token, "username": USERNAME, "password": PASSWORD}
    )

    assert response.status_code == 303
    assert response.cookies[SESSION_COOKIE] != planted
    world.client.cookies.clear()
    world.client.cookies.set(SESSION_COOKIE, planted)
    assert 'name="username"' in world.client.get(world.start()).text  # the old one is gone


def session_cookie(response: Any) -> str:
    [cookie] = [c for c in response.headers.get_list("set-cookie") if c.startswith(SESSION_COOKIE)]
    return str(cookie)


def test_the_session_cookie_is_httponly_and_lax(world: World) -> None:
    """HttpOnly, SameSite=Lax, Path=/; not Secure on a plain-http development issuer."""
    response = world.sign_in(world.start())

    morsel = SimpleCookie(session_cookie(response))[SESSION_COOKIE]
    assert morsel["httponly"]
    assert morsel["samesite"].lower() == "lax"
    assert morsel["path"] == "/"
    assert not morsel["secure"]


def test_the_session_cookie_is_secure_when_the_issuer_is_https(https_world: World) -> None:
    """Secure whenever the issuer is https."""
    response = https_world.sign_in(https_world.start())

    morsel = SimpleCookie(session_cookie(response))[SESSION_COOKIE]
    assert morsel["secure"]
    assert morsel["httponly"]


def test_a_sign_in_without_the_csrf_value_is_forbidden(world: World) -> None:
    """Login CSRF: a post without the form's value gets a 403 page and no session."""
    path = world.start()
    world.client.get(path)

    response = world.client.post(path + "/login", data={"username": USERNAME, "password": PASSWORD})

    assert response.status_code == 403
    assert SESSION_COOKIE not in response.cookies


def test_a_sign_in_from_another_browser_is_forbidden(world: World) -> None:
    """The form's value is bound to the browser's pre-session cookie."""
    path = world.start()
    token = csrf_of(world.client.get(path).text)
    world.client.cookies.clear()

    response = world.client.post(
        path + "/login", data={"csrf": token, "username": USERNAME, "password": PASSWORD}
    )

    assert response.status_code == 403


def test_signed_in_consumers_skip_the_sign_in_page(world: World) -> None:
    """An existing session goes straight to the consent screen of a new request."""
    world.sign_in(world.start())

    page = world.client.get(world.start())

    assert page.status_code == 200
    assert "Share your data with" in page.text
