"""GET /consumer/consents/{id}: access log, chart, exact fields, history and receipts."""

from __future__ import annotations

import re

import pytest
from starlette.testclient import TestClient

from adapters.base import TransactionImage
from adapters.errors import ImageNotFound
from authz.screens.portal.detail import PAGE_SIZE
from config.settings import Settings
from gateway.app import create_app
from tests.authz.portal.conftest import BASE, Portal, build
from tests.authz.screens.conftest import FakeBank, FakeClock


def test_another_customers_consent_is_not_found_like_an_unknown_one(signed_in: Portal) -> None:
    """Same 404 page for someone else's consent and for an id that does not exist."""
    bobs = signed_in.grant(customer_id="cust-bob", accounts=("acc-bob",))

    theirs = signed_in.client.get(f"/consumer/consents/{bobs.id}")
    unknown = signed_in.client.get("/consumer/consents/c-does-not-exist")

    assert theirs.status_code == unknown.status_code == 404
    assert "We could not find that page." in theirs.text
    assert theirs.text.replace(bobs.id, "X") == unknown.text.replace("c-does-not-exist", "X")


@pytest.mark.parametrize(
    "suffix", ["/revoke", "/renew", "/receipts/1", "/receipts/1.jws"], ids=str.strip
)
def test_every_page_of_another_customers_consent_is_not_found(
    signed_in: Portal, suffix: str
) -> None:
    """Revoke, renew and receipts of someone else's consent: 404 as well."""
    bobs = signed_in.grant(customer_id="cust-bob", accounts=("acc-bob",))

    assert signed_in.client.get(f"/consumer/consents/{bobs.id}{suffix}").status_code == 404


def test_the_access_log_lists_every_access_newest_first(signed_in: Portal) -> None:
    """When, which cluster, which account, how many records; no reference ids on the page
    (they stay in the export)."""
    consent = signed_in.grant(accounts=("acc-checking", "acc-savings"))
    signed_in.access(consent, count=7, interaction_id="older-access-id")
    signed_in.clock.advance(600)
    signed_in.access(
        consent,
        accounts=("acc-savings",),
        clusters=("ACCOUNT_BASIC",),
        count=1,
        interaction_id="newer-access-id",
    )

    html = signed_in.client.get(f"/consumer/consents/{consent.id}").text

    log = html[html.index('class="data access-log"') :]
    assert log.index("00:10 UTC") < log.index("00:00 UTC")
    assert "access-id" not in html
    assert "<td>1 January 2026, 00:10 UTC</td>" in log
    assert "<td>Basic account information</td>" in log
    assert "<td>Rainy day ••••5678</td>" in log
    assert '<td class="number">7</td>' in log


def test_a_long_access_log_is_paginated(signed_in: Portal) -> None:
    """PAGE_SIZE per page, with links to older and newer accesses."""
    consent = signed_in.grant()
    for n in range(PAGE_SIZE + 5):
        signed_in.access(consent, at=signed_in.clock() + 60 * n, count=1000 + n)

    first = signed_in.client.get(f"/consumer/consents/{consent.id}").text
    second = signed_in.client.get(f"/consumer/consents/{consent.id}?page=2").text

    assert '<td class="number">1054</td>' in first
    assert '<td class="number">1004</td>' not in first
    assert f'href="/consumer/consents/{consent.id}?page=2">Older accesses' in first
    assert '<td class="number">1004</td>' in second
    assert '<td class="number">1054</td>' not in second
    assert f'href="/consumer/consents/{consent.id}?page=1">Newer accesses' in second
    assert signed_in.client.get(f"/consumer/consents/{consent.id}?page=x").status_code == 200


def test_the_chart_is_inline_svg_with_a_text_alternative(signed_in: Portal) -> None:
    """A bar per day for 30 days, titled and described, and the same numbers as a table."""
    consent = signed_in.grant()
    signed_in.access(consent, at=signed_in.clock() - 86400)
    signed_in.access(consent)
    signed_in.access(consent)

    html = signed_in.client.get(f"/consumer/consents/{consent.id}").text

    svg = html[html.index("<svg") : html.index("</svg>")]
    assert 'role="img"' in svg
    assert 'aria-labelledby="chart-title chart-desc"' in svg
    assert len(re.findall(r'<rect class="bar"', svg)) == 30
    assert "<title>1 January 2026: 2</title>" in svg
    assert ">Accesses per day</text>" in svg  # the scale, labelled
    assert 'text-anchor="end">2</text>' in svg
    assert "Accesses in the last 30 days: 3. Most in one day: 2." in svg
    assert '<tr><th scope="row">31 December 2025</th><td>1</td></tr>' in html
    assert "<script" not in html
    assert "style=" not in html


def test_the_exact_fields_that_leave_the_bank_come_from_the_policy(signed_in: Portal) -> None:
    """What each consented cluster releases, in the policy's plain words, and none of
    another's; never the raw FDX field names."""
    consent = signed_in.grant(clusters=("ACCOUNT_BASIC",))
    policy = signed_in.services.policy
    released = policy.clusters["ACCOUNT_BASIC"].wording("en").releases
    other = policy.clusters["ACCOUNT_DETAILED"].wording("en").releases

    html = signed_in.client.get(f"/consumer/consents/{consent.id}").text

    for item in released:
        assert f"<li>{item}</li>" in html
    assert not [item for item in other if f"<li>{item}</li>" in html and item not in released]
    for raw in policy.clusters["ACCOUNT_BASIC"].fields["account"]:
        assert f">{raw}<" not in html
        assert f" {raw}," not in html


class ImagingBank(FakeBank):
    """The screens' bank, serving check images (none to find)."""

    async def get_transaction_image(
        self, customer_id: str, account_id: str, image_id: str
    ) -> TransactionImage:
        raise ImageNotFound(image_id)


def test_a_documents_only_cluster_says_what_the_documents_show() -> None:
    """IMAGES releases no JSON fields: the page lists what the images show, never an empty
    field list."""
    clock = FakeClock()
    services = build(Settings(issuer=BASE, profile="sandbox"), clock, ImagingBank())
    app = create_app(services.settings, services=services)
    with TestClient(app, base_url=BASE, follow_redirects=False) as client:
        portal = Portal(services, clock, client)
        assert portal.sign_in().status_code == 303
        consent = portal.grant(clusters=("ACCOUNT_BASIC", "IMAGES"))

        html = client.get(f"/consumer/consents/{consent.id}").text

    [shows] = services.policy.clusters["IMAGES"].wording("en").releases
    assert shows in html
    assert '<dl class="fields">' not in html  # plain words only, never FDX field names


def test_the_page_tells_what_happened_and_offers_the_receipts(signed_in: Portal) -> None:
    """The grant event, and its receipt as a page and as a signed file."""
    consent = signed_in.grant()

    html = signed_in.client.get(f"/consumer/consents/{consent.id}").text

    assert "You allowed sharing" in html
    assert f'href="/consumer/consents/{consent.id}/receipts/1"' in html
    assert f'href="/consumer/consents/{consent.id}/receipts/1.jws" download' in html


def test_an_overlong_consent_id_is_not_found(signed_in: Portal) -> None:
    """Ids longer than any we issue are refused before reaching the store."""
    assert signed_in.client.get("/consumer/consents/" + "a" * 500).status_code == 404
