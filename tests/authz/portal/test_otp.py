"""The portal's sign-in asks for the one-time code too, when the bank gives the customer one."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace

import pyotp
import pytest
from starlette.testclient import TestClient

from authz.screens.session import SESSION_COOKIE
from config.settings import Settings
from gateway.app import create_app
from tests.authz.portal.conftest import BASE, Portal, build, form_csrf
from tests.authz.screens.conftest import FakeClock
from tests.authz.screens.test_otp import SECRET, TESS_PASSWORD, OtpBank


@pytest.fixture
def portal() -> Iterator[Portal]:
    clock = FakeClock()
    services = replace(build(Settings(issuer=BASE, profile="sandbox"), clock), bank=OtpBank())
    app = create_app(services.settings, services=services)
    with TestClient(app, base_url=BASE, follow_redirects=False) as client:
        yield Portal(services, clock, client)


def code_form(portal: Portal) -> tuple[str, str]:
    answer = portal.sign_in("tess", TESS_PASSWORD)
    assert 200 == answer.status_code, answer.text
    assert SESSION_COOKIE not in portal.client.cookies
    step = re.search(r'name="step" value="([^"]+)"', answer.text)
    assert step is not None
    return form_csrf(answer.text, "/consumer/login/otp"), step.group(1)


def test_the_portal_asks_for_the_code_after_the_password(portal: Portal) -> None:
    csrf, step = code_form(portal)
    code = pyotp.TOTP(SECRET).at(portal.clock())
    answer = portal.client.post(
        "/consumer/login/otp", data={"csrf": csrf, "step": step, "code": code}
    )
    assert (303, "/consumer") == (answer.status_code, answer.headers["location"])
    assert SESSION_COOKIE in portal.client.cookies


def test_a_wrong_code_at_the_portal_signs_no_one_in(portal: Portal) -> None:
    csrf, step = code_form(portal)
    answer = portal.client.post(
        "/consumer/login/otp", data={"csrf": csrf, "step": step, "code": "000000"}
    )
    assert 401 == answer.status_code
    assert "That code is not correct or was already used." in answer.text
    assert SESSION_COOKIE not in portal.client.cookies
