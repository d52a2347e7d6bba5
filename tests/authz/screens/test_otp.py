"""The second factor of the built-in sign-in (RFC 6238 TOTP) and the sign-in page's Cancel."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import anyio
import pyotp
import pytest
from itsdangerous import URLSafeTimedSerializer

from adapters.base import Customer
from adapters.errors import CustomerNotFound
from authz.requests import REQUEST_URI_PREFIX, PushedRequest
from authz.screens import otp
from authz.screens.interaction import Interactions
from authz.screens.session import SESSION_COOKIE
from authz.store.base import Kind
from config.settings import Settings
from tests.authz.screens.conftest import REDIRECT_URI, FakeBank, World, csrf_of, make_world

SECRET = pyotp.random_base32()
TESS = Customer("cust-tess", "Tess", otp_secret=SECRET)
TESS_PASSWORD = "tess-password"


class OtpBank(FakeBank):
    """The fake bank, plus tess, who has a TOTP secret."""

    async def authenticate(self, username: str, password: str) -> Customer | None:
        if (username, password) == ("tess", TESS_PASSWORD):
            return TESS
        return await super().authenticate(username, password)

    async def get_customer(self, customer_id: str) -> Customer:
        if customer_id == TESS.customer_id:
            return TESS
        if customer_id == "cust-alice":
            return await super().get_customer(customer_id)
        raise CustomerNotFound(customer_id)


@pytest.fixture
def world() -> Iterator[World]:
    yield from make_world(Settings(), "http://127.0.0.1:8000", bank=OtpBank())


def code(world: World, steps: int = 0) -> str:
    return str(pyotp.TOTP(SECRET).at(world.clock() + 30 * steps))


def password_step(world: World, path: str) -> str:
    """The password is right: the answer is the one-time code form, no session yet."""
    answer = world.sign_in(path, "tess", TESS_PASSWORD)
    assert 200 == answer.status_code, answer.text
    assert 'name="code"' in answer.text
    assert 'autocomplete="one-time-code"' in answer.text
    assert SESSION_COOKIE not in world.client.cookies
    return str(answer.text)


def submit(world: World, path: str, html: str, value: str) -> Any:
    step = html.split('name="step" value="', 1)[1].split('"', 1)[0]
    return world.client.post(
        path + "/otp", data={"csrf": csrf_of(html), "step": step, "code": value}
    )


def test_a_password_then_a_code_signs_in_with_amr_pwd_otp(world: World) -> None:
    path = world.start()
    html = password_step(world, path)
    assert 303 == submit(world, path, html, code(world)).status_code
    assert SESSION_COOKIE in world.client.cookies
    assert 'name="decision"' in world.client.get(path).text  # on to the consent screen
    assert ["pwd", "otp"] == world.run(_session_amr, world)


async def _session_amr(world: World) -> list[str]:
    sid = URLSafeTimedSerializer(world.services.secret, salt="session").loads(
        world.client.cookies[SESSION_COOKIE]
    )
    payload = await world.services.state.get(Kind.SESSION, sid)
    assert payload is not None
    return list(payload["amr"])


def test_a_password_alone_is_amr_pwd(world: World) -> None:
    path = world.start()
    assert 303 == world.sign_in(path).status_code  # alice has no second factor
    assert ["pwd"] == world.run(_session_amr, world)


def test_a_code_is_single_use_within_its_window(world: World) -> None:
    path = world.start()
    first = code(world)
    assert 303 == submit(world, path, password_step(world, path), first).status_code
    world.client.cookies.clear()
    path = world.start()
    again = submit(world, path, password_step(world, path), first)
    assert 401 == again.status_code
    assert "That code is not correct or was already used." in again.text
    assert SESSION_COOKIE not in world.client.cookies


def test_one_step_of_drift_is_accepted_two_are_not(world: World) -> None:
    path = world.start()
    html = password_step(world, path)
    assert 401 == submit(world, path, html, code(world, -2)).status_code
    assert 401 == submit(world, path, html, code(world, 2)).status_code
    assert 303 == submit(world, path, html, code(world, -1)).status_code


def test_wrong_codes_count_toward_the_sign_in_throttle(world: World) -> None:
    """Five wrong codes lock the user ID as five wrong passwords do; then even a right code
    (and the right password) is refused until the window has passed."""
    path = world.start()
    html = password_step(world, path)
    for _ in range(5):
        assert 401 == submit(world, path, html, "000000").status_code
    locked = submit(world, path, html, code(world))
    assert 429 == locked.status_code
    assert 429 == world.sign_in(path, "tess", TESS_PASSWORD).status_code
    world.clock.advance(901)
    path = world.start()
    assert 303 == submit(world, path, password_step(world, path), code(world)).status_code


def test_a_code_step_from_another_browser_is_refused(world: World) -> None:
    path = world.start()
    html = password_step(world, path)
    world.client.cookies.clear()  # the login nonce the CSRF value and the step are bound to
    answer = submit(world, path, html, code(world))
    assert 403 == answer.status_code
    assert SESSION_COOKIE not in world.client.cookies


def test_a_malformed_code_signs_no_one_in(world: World) -> None:
    path = world.start()
    html = password_step(world, path)
    for bad in ("", "12345", "1234567", "abcdef", "１２３４５６"):
        assert 401 == submit(world, path, html, bad).status_code


def test_the_sign_in_page_says_the_app_never_sees_the_password(world: World) -> None:
    page = world.client.get(world.start())
    assert "Budget &lt;App&gt; never sees your Sandbox Bank password" in page.text
    assert "Cancel and go back to Budget &lt;App&gt;" in page.text
    ja = world.client.get(world.start(), headers={"Accept-Language": "ja"})
    assert "Budget &lt;App&gt;がSandbox Bankのパスワードを見ることはありません" in ja.text
    assert "キャンセルしてBudget &lt;App&gt;に戻る" in ja.text


def test_cancel_returns_access_denied_with_state_and_iss(world: World) -> None:
    path = world.start(state="s-123")
    page = world.client.get(path)
    answer = world.client.post(path + "/cancel", data={"csrf": csrf_of(page.text)})
    assert 303 == answer.status_code
    location = answer.headers["location"]
    assert location.startswith(REDIRECT_URI.split("?", 1)[0])
    params = parse_qs(urlsplit(location).query)
    assert ["access_denied"] == params["error"]
    assert ["s-123"] == params["state"]
    assert [world.services.settings.issuer] == params["iss"]
    assert 400 == world.client.get(path).status_code  # the interaction is used up


def test_cancel_needs_the_forms_csrf_value(world: World) -> None:
    path = world.start()
    world.client.get(path)
    assert 403 == world.client.post(path + "/cancel", data={"csrf": "forged"}).status_code
    assert 200 == world.client.get(path).status_code


def test_the_built_in_form_is_closed_when_the_bank_op_signs_in() -> None:
    """With login = "oidc" a password posted to the gateway's own form signs no one in."""
    settings = Settings(
        login="oidc",
        login_oidc_issuer="https://op.bank.example",
        login_oidc_client_id="gw",
        login_oidc_client_secret="s",
    )
    for world in make_world(settings, "http://127.0.0.1:8000", bank=OtpBank()):
        key = world.push().removeprefix(REQUEST_URI_PREFIX)
        stored = anyio.run(world.services.state.get, Kind.PAR, key)
        assert stored is not None
        pushed = PushedRequest.from_dict(stored)
        interaction = anyio.run(Interactions(world.services).start, pushed)
        path = f"/oauth/interaction/{interaction.id}"
        for action in ("/login", "/otp"):
            answer = world.client.post(
                path + action, data={"username": "alice", "password": "x", "code": "1"}
            )
            assert 403 == answer.status_code
        assert SESSION_COOKIE not in world.client.cookies


def wrong_codes(world: World, count: int) -> None:
    """``count`` wrong codes, four per throttle window so the sign-in throttle never locks."""
    while count > 0:
        path = world.start()
        html = password_step(world, path)
        for _ in range(min(4, count)):
            assert 401 == submit(world, path, html, "000000").status_code
            count -= 1
        world.clock.advance(901)


def test_a_hundred_consecutive_wrong_codes_lock_the_second_factor(world: World) -> None:
    """NIST SP 800-63B §5.2.2: after MAX_FAILURES consecutive failures the right code is
    refused (429) for LOCK_TTL, however slowly the failures came; then it works again."""
    wrong_codes(world, otp.MAX_FAILURES)
    path = world.start()
    assert 429 == submit(world, path, password_step(world, path), code(world)).status_code
    assert SESSION_COOKIE not in world.client.cookies
    world.clock.advance(otp.LOCK_TTL - 1000)
    path = world.start()
    assert 429 == submit(world, path, password_step(world, path), code(world)).status_code
    world.clock.advance(1000)
    path = world.start()
    assert 303 == submit(world, path, password_step(world, path), code(world)).status_code


def test_a_right_code_starts_the_count_again(world: World) -> None:
    wrong_codes(world, otp.MAX_FAILURES - 1)
    path = world.start()
    assert 303 == submit(world, path, password_step(world, path), code(world)).status_code
    world.client.cookies.clear()
    world.clock.advance(60)  # past the used code's window
    wrong_codes(world, 4)
    path = world.start()
    assert 303 == submit(world, path, password_step(world, path), code(world)).status_code


def test_the_language_link_on_the_code_page_keeps_the_code_step(world: World) -> None:
    """Switching to Japanese on the code page shows the code page again, in Japanese, and the
    code typed there signs in; the same link in another browser is the password form."""
    path = world.start()
    html = password_step(world, path)
    link = re.search(r'href="([^"]+)"[^>]*hreflang="ja"', html)
    assert link is not None
    href = link.group(1).replace("&amp;", "&")
    assert href.startswith(path + "?step=")
    switched = world.client.get(href)
    assert 200 == switched.status_code
    assert '<html lang="ja"' in switched.text
    assert 'name="code"' in switched.text
    assert 303 == submit(world, path, switched.text, code(world)).status_code
    world.client.cookies.clear()
    elsewhere = world.client.get(href)
    assert 'name="code"' not in elsewhere.text
    assert 'name="password"' in elsewhere.text
