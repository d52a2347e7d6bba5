"""Signing in to the portal: the consent screen's sign-in, session and throttle; signing out."""

from __future__ import annotations

from starlette.testclient import TestClient

from authz.screens.session import SESSION_COOKIE
from authz.screens.throttle import PAIR_FAILURES, USER_FAILURES, WINDOW
from tests.authz.portal.conftest import BASE, Portal, form_csrf
from tests.authz.screens.conftest import PASSWORD, USERNAME


def browser_at(portal: Portal, address: str) -> TestClient:
    """Another browser, at another client address (no lifespan: the portal's app runs)."""
    return TestClient(
        portal.client.app, base_url=BASE, follow_redirects=False, client=(address, 40000)
    )


def sign_in_from(browser: TestClient, password: str, username: str = USERNAME) -> int:
    page = browser.get("/consumer")
    response = browser.post(
        "/consumer/login",
        data={"csrf": form_csrf(page.text, "/consumer/login"), "username": username,
              "password": password},
    )  # fmt: skip
    return response.status_code


def test_a_signed_out_visitor_sees_the_sign_in_form(portal: Portal) -> None:
    """GET /consumer without a session is the sign-in page, with labelled fields."""
    response = portal.client.get("/consumer")

    assert response.status_code == 200
    assert '<label for="username">User ID</label>' in response.text
    assert '<label for="password">Password</label>' in response.text
    assert 'action="/consumer/login"' in response.text


def test_signing_in_leads_to_the_connected_apps(portal: Portal) -> None:
    """Correct credentials start a session and redirect to the portal home."""
    response = portal.sign_in()

    assert response.status_code == 303
    assert response.headers["location"] == "/consumer"
    assert SESSION_COOKIE in response.cookies
    assert "Apps that can see your data" in portal.client.get("/consumer").text


def test_a_wrong_password_gets_the_generic_message(portal: Portal) -> None:
    """The failure never says which part was wrong."""
    response = portal.sign_in(password="wrong")

    assert response.status_code == 401
    assert "The user ID or password is not correct." in response.text


def test_the_sign_in_throttle_is_the_consent_screens(portal: Portal) -> None:
    """After PAIR_FAILURES failures the user ID is locked, even for the right password."""
    for _ in range(PAIR_FAILURES):
        assert portal.sign_in(password="wrong").status_code == 401

    response = portal.sign_in()

    assert response.status_code == 429
    assert "Too many unsuccessful sign-in attempts" in response.text


def test_sign_in_without_its_csrf_value_is_refused(portal: Portal) -> None:
    """A cross-site login post (login CSRF) is a friendly 403, not a session."""
    portal.client.get("/consumer")
    response = portal.client.post(
        "/consumer/login", data={"username": "alice", "password": "x", "csrf": "forged"}
    )

    assert response.status_code == 403
    assert SESSION_COOKIE not in response.cookies
    assert "expired for security reasons" in response.text


def test_a_consumer_signed_in_on_the_consent_screen_is_not_asked_again(portal: Portal) -> None:
    """The portal shares the consent screen's session cookie."""
    from tests.authz.screens.conftest import World

    world = World(portal.services, portal.clock, portal.client)
    path = world.start()
    assert world.sign_in(path).status_code == 303

    response = portal.client.get("/consumer")

    assert response.status_code == 200
    assert "Apps that can see your data" in response.text
    assert 'name="password"' not in response.text


def test_signing_out_ends_the_session_at_the_bank(signed_in: Portal) -> None:
    """POST /consumer/logout with its CSRF value: the session is gone, the cookie too."""
    home = signed_in.client.get("/consumer").text
    cookie = signed_in.client.cookies.get(SESSION_COOKIE)

    response = signed_in.client.post(
        "/consumer/logout", data={"csrf": form_csrf(home, "/consumer/logout")}
    )

    assert response.status_code == 303
    assert response.headers["location"] == "/consumer?done=signed_out"
    signed_in.client.cookies.set(SESSION_COOKIE, cookie or "")  # even a kept cookie is dead
    page = signed_in.client.get("/consumer?done=signed_out")
    assert 'name="password"' in page.text
    assert "You are signed out." in page.text


def test_signing_out_needs_the_csrf_value(signed_in: Portal) -> None:
    """Without it the session survives: a cross-site post cannot sign the consumer out."""
    response = signed_in.client.post("/consumer/logout", data={"stay": "no"})

    assert response.status_code == 403
    assert "Apps that can see your data" in signed_in.client.get("/consumer").text


def test_portal_pages_send_a_signed_out_visitor_to_sign_in(portal: Portal) -> None:
    """GET pages redirect to /consumer; POSTs are refused."""
    consent = portal.grant()

    page = portal.client.get(f"/consumer/consents/{consent.id}")
    post = portal.client.post(f"/consumer/consents/{consent.id}/revoke", data={"csrf": "x"})

    assert (page.status_code, page.headers["location"]) == (303, "/consumer")
    assert post.status_code == 403
    assert portal.consent(consent.id).status.value == "ACTIVE"


def test_a_guesser_elsewhere_cannot_lock_the_owner_out(portal: Portal) -> None:
    """Failures count per (user ID, address): a guesser who knows the user ID locks only
    themselves out, and the owner signs in (and can stop sharing) from their own address."""
    guesser = browser_at(portal, "203.0.113.66")
    for _ in range(PAIR_FAILURES):
        assert sign_in_from(guesser, "guess") == 401

    assert sign_in_from(guesser, PASSWORD) == 429
    assert portal.sign_in().status_code == 303


def test_guesses_spread_over_addresses_lock_the_user_id_for_one_window(portal: Portal) -> None:
    """Below ``USER_FAILURES`` the owner still gets in; at it the user ID is locked for
    ``WINDOW``, no longer than one address's lock, whatever the guessers do meanwhile."""
    guessers = [browser_at(portal, f"203.0.113.{n}") for n in range(USER_FAILURES)]
    for guesser in guessers[:-1]:
        assert sign_in_from(guesser, "guess") == 401
    assert sign_in_from(browser_at(portal, "198.51.100.1"), PASSWORD) == 303

    assert sign_in_from(guessers[-1], "guess") == 401
    assert sign_in_from(browser_at(portal, "198.51.100.2"), PASSWORD) == 429
    portal.clock.advance(WINDOW)
    assert sign_in_from(browser_at(portal, "198.51.100.3"), PASSWORD) == 303


def test_the_owners_browser_gets_in_however_long_strangers_keep_the_user_id_locked(
    portal: Portal,
) -> None:
    """Strangers on ever new addresses (IPv6 has plenty) keep the user ID's all-address lock
    renewed; the browser the owner signed in with before still gets in to stop sharing, as
    soon as they sign in, while a new browser, or a stranger with the right password, does not."""
    owner = browser_at(portal, "198.51.100.7")
    assert sign_in_from(owner, PASSWORD) == 303
    owner.cookies.delete(SESSION_COOKIE)  # signed out; the known-device cookie stays
    for round_ in range(3):  # three windows of attack, each renewing the lock
        for n in range(USER_FAILURES):
            stranger = browser_at(portal, f"2001:db8:{round_:x}::{n:x}")
            assert sign_in_from(stranger, "guess") in (401, 429)
        assert sign_in_from(browser_at(portal, "198.51.100.8"), PASSWORD) == 429
        assert sign_in_from(owner, PASSWORD) == 303
        owner.cookies.delete(SESSION_COOKIE)
        portal.clock.advance(WINDOW - 60)


def test_a_known_browser_still_meets_its_own_addresss_lock(portal: Portal) -> None:
    """The known-device cookie lifts only the all-address lock: a guesser who took it still
    gets PAIR_FAILURES tries from one address."""
    browser = browser_at(portal, "198.51.100.9")
    assert sign_in_from(browser, PASSWORD) == 303
    browser.cookies.delete(SESSION_COOKIE)
    for _ in range(PAIR_FAILURES):
        assert sign_in_from(browser, "guess") == 401
    assert sign_in_from(browser, PASSWORD) == 429
