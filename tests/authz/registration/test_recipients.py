"""The bank's decisions: pending until approved, suspension effective on the next call with the
consent kept, reinstatement, and the ``fdxgw recipients`` command."""

from __future__ import annotations

from pathlib import Path

import pytest

from authz.consent.model import ConsentStatus
from authz.registration import recipients
from authz.store.base import ClientRecord
from authz.store.sqlite import sqlite_records
from gateway.cli import main
from tests.authz.oauth.conftest import REDIRECT, run
from tests.authz.registration.conftest import Registry
from tests.gateway.conftest import CLIENT, Harness

PAR_FIELDS = {
    "response_type": "code",
    "redirect_uri": REDIRECT,
    "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
    "code_challenge_method": "S256",
    "scope": "fdx:accountbasic:read",
}


def _par(dcr: Registry, client_id: str) -> int:
    form = {"client_id": client_id, **PAR_FIELDS, **dcr.assertion(client_id)}
    return int(dcr.http.post("/oauth/par", data=form).status_code)


def test_a_pending_recipient_cannot_authenticate_until_approved(dcr: Registry):
    """New registrations wait for the bank: PAR (and every client-authenticated endpoint)
    refuses them with invalid_client, then accepts them once approved."""
    client_id = dcr.registered(redirect_uris=[REDIRECT])["client_id"]

    assert _par(dcr, client_id) == 401
    approved = run(recipients.approve, dcr.records, client_id, now=dcr.clock())
    assert approved.status == "approved"
    assert _par(dcr, client_id) == 201


def test_a_suspended_recipient_is_refused_at_par_and_reinstated(dcr: Registry):
    """Suspension stops client authentication; reinstatement restores it."""
    client_id = dcr.registered(redirect_uris=[REDIRECT])["client_id"]
    run(recipients.approve, dcr.records, client_id, now=dcr.clock())

    run(recipients.suspend, dcr.records, client_id, now=dcr.clock())
    assert _par(dcr, client_id) == 401
    run(recipients.reinstate, dcr.records, client_id, now=dcr.clock())
    assert _par(dcr, client_id) == 201


def test_suspension_stops_the_next_fdx_call_and_keeps_the_consent():
    """The FDX gate reads the recipient's status live: the very next call is 401/603 while
    the consent stays ACTIVE; after reinstatement the same token works again."""
    h = Harness()
    with h.client:
        consent, token = h.grant()
        assert h.get("/fdx/v6/accounts", token).status_code == 200

        run(recipients.suspend, h.records, CLIENT, now=h.clock(), reason="risk review")
        refused = h.get("/fdx/v6/accounts", token)
        kept = run(h.records.consents.get, consent.id)
        run(recipients.reinstate, h.records, CLIENT, now=h.clock())
        again = h.get("/fdx/v6/accounts", token)

    assert (refused.status_code, refused.json()["code"]) == (401, "603")
    assert refused.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert kept is not None
    assert kept.status is ConsentStatus.ACTIVE
    assert again.status_code == 200


def test_a_token_of_an_unknown_recipient_is_refused():
    """A token whose client is not registered (or no longer) opens nothing."""
    h = Harness()
    with h.client:
        _, token = h.grant(client_id="ghost")
        run(h.records.clients.put, _client("ghost", status="deleted"))

        response = h.get("/fdx/v6/accounts", token)

    assert (response.status_code, response.json()["code"]) == (401, "603")


@pytest.mark.parametrize(
    ("start", "action", "end"),
    [
        ("pending", "approve", "approved"),
        ("pending", "suspend", "suspended"),
        ("approved", "suspend", "suspended"),
        ("suspended", "reinstate", "approved"),
    ],
)
def test_allowed_status_changes(start, action, end):
    """The four decisions the bank can take, and where each leads."""
    h = Harness()
    run(h.records.clients.put, _client("c", status=start))

    changed = run(recipients.change_status, h.records, "c", action, now=5.0)

    assert changed.status == end
    assert changed.extra["status_history"][-1] == {"status": end, "time": 5.0, "action": action}


@pytest.mark.parametrize(
    ("start", "action"),
    [
        ("approved", "approve"),
        ("suspended", "approve"),
        ("approved", "reinstate"),
        ("pending", "reinstate"),
        ("deleted", "approve"),
        ("deleted", "suspend"),
        ("approved", "delete"),
    ],
)
def test_other_status_changes_are_refused(start, action):
    """Anything else is a RecipientError, and nothing is stored."""
    h = Harness()
    run(h.records.clients.put, _client("c", status=start))

    with pytest.raises(recipients.RecipientError):
        run(recipients.change_status, h.records, "c", action, now=5.0)
    assert run(h.records.clients.status, "c") == start


def test_an_unknown_recipient_cannot_be_changed():
    """The bank is told when the client id is wrong."""
    with pytest.raises(recipients.RecipientError, match="no recipient"):
        run(recipients.approve, Harness().records, "nobody", now=1.0)


def test_a_suspension_in_another_process_is_seen_on_the_next_read(tmp_path: Path):
    """Two SQLite connections (two gateway processes, or the CLI and a gateway): the cached
    status is dropped as soon as the other one commits."""
    path = str(tmp_path / "gw.db")
    gateway, cli = sqlite_records(path), sqlite_records(path)
    run(gateway.schema.migrate)
    run(gateway.clients.put, _client("c", status="approved"))
    assert run(gateway.clients.status, "c") == "approved"
    assert run(gateway.clients.status, "c") == "approved"  # now from the cache

    run(recipients.suspend, cli, "c", now=1.0)

    assert run(gateway.clients.status, "c") == "suspended"
    run(gateway.aclose)
    run(cli.aclose)


def test_the_cli_lists_approves_suspends_and_reinstates(tmp_path, monkeypatch, capsys):
    """`fdxgw recipients …` applies the decision to the configured database."""
    db = tmp_path / "gw.db"
    monkeypatch.setenv("FDX_DATABASE_URL", f"sqlite:///{db}")
    monkeypatch.setenv("FDX_VAR_DIR", str(tmp_path / "var"))
    store = sqlite_records(str(db))
    run(store.schema.migrate)
    run(store.clients.put, _client("budget-app", status="pending"))
    run(store.aclose)

    codes = [
        main(["recipients", "approve", "budget-app"]),
        main(["recipients", "suspend", "budget-app", "--reason", "risk review"]),
        main(["recipients", "list"]),
        main(["recipients", "reinstate", "budget-app"]),
        main(["recipients", "reinstate", "budget-app"]),
    ]
    out, err = capsys.readouterr()

    assert codes == [0, 0, 0, 0, 1]
    assert "budget-app is now approved" in out
    assert "budget-app\tsuspended\tApp budget-app" in out
    assert "cannot reinstate a recipient that is approved" in err


def test_the_cli_needs_a_client_id_for_a_decision(monkeypatch, tmp_path):
    """`fdxgw recipients approve` without an id is a usage error."""
    monkeypatch.setenv("FDX_DATABASE_URL", f"sqlite:///{tmp_path}/gw.db")

    with pytest.raises(SystemExit) as exit_info:
        main(["recipients", "approve"])

    assert exit_info.value.code == 2


def _client(client_id: str, *, status: str) -> ClientRecord:
    return ClientRecord(
        client_id=client_id,
        client_name=f"App {client_id}",
        redirect_uris=("https://app.example.com/callback",),
        jwks={"keys": []},
        status=status,
    )
