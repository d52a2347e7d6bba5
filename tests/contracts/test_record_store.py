"""The Records contract (authz/store/base.py), run over every implementation."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace

import anyio
import pytest

from authz.consent.model import (
    Consent,
    ConsentEvent,
    ConsentResource,
    ConsentStatus,
    DurationType,
)
from authz.store.base import AuditEvent, ClientRecord, Records, RefreshToken

pytestmark = pytest.mark.anyio

T0 = 1_700_000_000.0


def client(client_id: str = "client-1", **changes: object) -> ClientRecord:
    base = ClientRecord(
        client_id=client_id,
        client_name="Budget App",
        redirect_uris=("https://app.example/cb",),
        jwks={"keys": [{"kty": "EC", "crv": "P-256", "x": "x", "y": "y", "kid": "k1"}]},
        clusters=("ACCOUNT_BASIC", "TRANSACTIONS"),
        max_duration_period=365,
        created_at=T0,
        extra={"software_id": "s-1"},
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def consent(
    consent_id: str = "consent-1",
    *,
    customer_id: str = "customer-1",
    client_id: str = "client-1",
    created_at: float = T0,
) -> Consent:
    return Consent(
        id=consent_id,
        status=ConsentStatus.ACTIVE,
        client_id=client_id,
        customer_id=customer_id,
        created_at=created_at,
        updated_at=created_at,
        expires_at=created_at + 90 * 86400,
        duration_type=DurationType.TIME_BOUND,
        duration_period=90,
        lookback_period=365,
        resources=(ConsentResource("ACCOUNT", "acc-1", ("ACCOUNT_BASIC", "TRANSACTIONS")),),
        purpose="Budgeting",
        scope=("fdx:accountbasic:read", "fdx:transactions:read"),
    )


def event(consent_id: str = "consent-1", name: str = "granted", at: float = T0) -> ConsentEvent:
    return ConsentEvent(consent_id, at, name, "INDIVIDUAL", "USER_ACTION", None)


def token(token_hash: str = "h1", consent_id: str = "consent-1") -> RefreshToken:  # noqa: S107
    return RefreshToken(token_hash, consent_id, "client-1", T0, T0 + 86400)


def audit(audit_id: str, consent_id: str = "consent-1", at: float = T0) -> AuditEvent:
    return AuditEvent(
        id=audit_id,
        time=at,
        consent_id=consent_id,
        client_id="client-1",
        customer_id="customer-1",
        endpoint="GET /accounts/{accountId}/transactions",
        account_ids=("acc-1",),
        clusters=("TRANSACTIONS",),
        record_count=25,
        status=200,
        interaction_id="i-" + audit_id,
    )


# ---------------------------------------------------------------------------- schema


async def test_check_schema_passes_after_migrate(fresh_records: Records) -> None:
    """migrate creates exactly the schema schema.check expects."""
    await fresh_records.schema.migrate()
    await fresh_records.schema.check()


async def test_migrate_is_idempotent(records: Records) -> None:
    """Running migrate again keeps the schema and the data."""
    await records.clients.put(client())
    await records.schema.migrate()
    await records.schema.check()
    assert await records.clients.get("client-1") == client()


# ---------------------------------------------------------------------------- clients


async def test_a_client_round_trips(records: Records) -> None:
    """clients.put then clients.get returns an equal record; unknown ids are None."""
    await records.clients.put(client())
    assert await records.clients.get("client-1") == client()
    assert await records.clients.get("nobody") is None


async def test_put_client_replaces(records: Records) -> None:
    """A second put of the same id is an upsert."""
    await records.clients.put(client())
    await records.clients.put(client(status="suspended"))
    got = await records.clients.get("client-1")
    assert got is not None
    assert got.status == "suspended"
    assert len(await records.clients.all()) == 1


async def test_list_clients_returns_all_by_id(records: Records) -> None:
    """Every registered client, ordered by client_id."""
    for cid in ("c-b", "c-a", "c-c"):
        await records.clients.put(client(cid))
    assert [c.client_id for c in await records.clients.all()] == ["c-a", "c-b", "c-c"]


async def test_client_status_follows_every_put(records: Records) -> None:
    """clients.status is the stored status, read again after each change; None if unknown."""
    assert await records.clients.status("client-1") is None
    await records.clients.put(client(status="pending"))
    assert await records.clients.status("client-1") == "pending"
    assert await records.clients.status("client-1") == "pending"
    await records.clients.put(client(status="suspended"))
    assert await records.clients.status("client-1") == "suspended"
    await records.clients.put(client(status="approved"))
    assert await records.clients.status("client-1") == "approved"


async def test_registration_fields_round_trip(records: Records) -> None:
    """jwks_uri and the registration token hash are stored with the client."""
    stored = client(jwks_uri="https://app.example/jwks", registration_token_hash="ab" * 32)
    await records.clients.put(stored)

    assert await records.clients.get("client-1") == stored


async def test_a_returned_client_does_not_alias_the_store(records: Records) -> None:
    """Mutating the jwks of a returned record changes nothing stored."""
    await records.clients.put(client())
    got = await records.clients.get("client-1")
    assert got is not None
    got.jwks["keys"].clear()
    assert await records.clients.get("client-1") == client()


# ---------------------------------------------------------------------------- consents


async def test_a_consent_round_trips_with_its_first_event(records: Records) -> None:
    """consents.create stores the consent and its first history line."""
    await records.consents.create(consent(), event())
    assert await records.consents.get("consent-1") == consent()
    assert await records.consents.events("consent-1") == [event()]
    assert await records.consents.get("nope") is None


async def test_creating_a_consent_twice_is_refused(records: Records) -> None:
    """Consent ids are unique."""
    await records.consents.create(consent(), event())
    with pytest.raises(ValueError, match="exists"):
        await records.consents.create(consent(), event())


async def test_list_consents_filters_and_orders_newest_first(records: Records) -> None:
    """By customer, by client, both or neither; newest first."""
    await records.consents.create(
        consent("a", customer_id="u1", client_id="c1", created_at=1), event("a")
    )
    await records.consents.create(
        consent("b", customer_id="u1", client_id="c2", created_at=3), event("b")
    )
    await records.consents.create(
        consent("c", customer_id="u2", client_id="c1", created_at=2), event("c")
    )

    async def ids(**kw: str) -> list[str]:
        return [c.id for c in await records.consents.find(**kw)]

    assert await ids(customer_id="u1") == ["b", "a"]
    assert await ids(client_id="c1") == ["c", "a"]
    assert await ids(customer_id="u1", client_id="c1") == ["a"]
    assert await ids() == ["b", "c", "a"]
    assert await ids(customer_id="nobody") == []


async def test_consents_created_at_the_same_time_list_latest_insert_first(
    records: Records,
) -> None:
    """Ties on created_at fall back to insertion order, newest first."""
    for cid in ("x", "y", "z"):
        await records.consents.create(consent(cid), event(cid))
    assert [c.id for c in await records.consents.find(customer_id="customer-1")] == ["z", "y", "x"]


async def test_update_with_the_current_version_succeeds(records: Records) -> None:
    """The expected version matches: the consent and the event are stored."""
    await records.consents.create(consent(), event())
    revoked = consent().with_status(ConsentStatus.REVOKED, T0 + 10)
    assert await records.consents.update(
        revoked, event(name="revoked", at=T0 + 10), expected_version=1
    )
    assert await records.consents.get("consent-1") == revoked
    assert [e.event for e in await records.consents.events("consent-1")] == ["granted", "revoked"]


async def test_a_consent_read_before_an_update_is_read_anew_after_it(records: Records) -> None:
    """Whatever a store keeps to make the live check cheap, its own writes are seen at once."""
    await records.consents.create(consent(), event())
    for _ in range(2):
        assert await records.consents.get("consent-1") == consent()
    revoked = consent().with_status(ConsentStatus.REVOKED, T0 + 10)
    assert await records.consents.update(revoked, event(name="revoked"), expected_version=1)

    assert await records.consents.get("consent-1") == revoked


async def test_update_with_a_stale_version_changes_nothing(records: Records) -> None:
    """A writer that lost the race gets False; neither consent nor history change."""
    await records.consents.create(consent(), event())
    first = consent().with_status(ConsentStatus.REVOKED, T0 + 10)
    assert await records.consents.update(first, event(name="revoked"), expected_version=1)
    late = consent().with_status(ConsentStatus.EXPIRED, T0 + 20)
    assert not await records.consents.update(late, event(name="expired"), expected_version=1)
    assert await records.consents.get("consent-1") == first
    assert [e.event for e in await records.consents.events("consent-1")] == ["granted", "revoked"]


async def test_an_update_that_keeps_the_version_is_refused(records: Records) -> None:
    """Readers may cache a consent by version, so every change must raise it."""
    await records.consents.create(consent(), event())
    same = replace(consent(), status=ConsentStatus.REVOKED)

    with pytest.raises(ValueError, match="version"):
        await records.consents.update(same, event(name="revoked"), expected_version=1)
    assert await records.consents.get("consent-1") == consent()


async def test_a_change_by_another_store_on_the_same_data_is_seen_at_once(
    records: Records, reopen: Callable[[], Awaitable[Records]]
) -> None:
    """A revocation written through one store object (another process) is read by the next call."""
    await records.consents.create(consent(), event())
    assert (await records.consents.get("consent-1")) == consent()  # now held by the reader
    other = await reopen()
    revoked = consent().with_status(ConsentStatus.REVOKED, T0 + 10)
    assert await other.consents.update(revoked, event(name="revoked"), expected_version=1)

    assert await records.consents.get("consent-1") == revoked


async def test_update_of_an_unknown_consent_is_false(records: Records) -> None:
    """There is nothing to update."""
    assert not await records.consents.update(
        replace(consent(), version=2), event(), expected_version=1
    )
    assert await records.consents.get("consent-1") is None


async def test_events_are_listed_oldest_first(records: Records) -> None:
    """History reads in time order, whether written by update or append."""
    await records.consents.create(consent(), event(at=T0))
    await records.consents.append_event(event(name="refresh_replay", at=T0 + 5))
    renewed = replace(consent(), version=2, updated_at=T0 + 9)
    await records.consents.update(renewed, event(name="renewed", at=T0 + 9), expected_version=1)
    await records.consents.append_event(event(name="used", at=T0 + 9))
    names = [e.event for e in await records.consents.events("consent-1")]
    assert names == ["granted", "refresh_replay", "renewed", "used"]
    assert await records.consents.events("other") == []


async def test_append_consent_event_keeps_every_field(records: Records) -> None:
    """Actor, reason and detail come back as written; the consent itself is unchanged."""
    await records.consents.create(consent(), event())
    denied = ConsentEvent(
        "consent-1", T0 + 1, "replay", "DATA_PROVIDER", "BUSINESS_RULE", "code reused"
    )
    await records.consents.append_event(denied)
    assert (await records.consents.events("consent-1"))[-1] == denied
    assert await records.consents.get("consent-1") == consent()


async def test_a_revocations_named_initiator_is_kept_in_its_own_field(records: Records) -> None:
    """The recipient's revocation names who started it (FDX ConsentRevocationRequest): stored
    as a field of the event, not in its free text."""
    await records.consents.create(consent(), event())
    revoked = consent().with_status(ConsentStatus.REVOKED, T0 + 5)
    named = ConsentEvent(
        "consent-1", T0 + 5, "revoked", "DATA_RECIPIENT", "USER_ACTION", "api", "INDIVIDUAL"
    )

    await records.consents.update(revoked, named, expected_version=1)

    assert named == (await records.consents.events("consent-1"))[-1]


async def test_an_event_for_an_unknown_consent_is_refused(records: Records) -> None:
    """History cannot dangle."""
    with pytest.raises(ValueError, match="unknown consent"):
        await records.consents.append_event(event("ghost"))


# ---------------------------------------------------------------------------- refresh tokens


async def test_first_use_of_a_refresh_token_wins(records: Records) -> None:
    """The first caller gets the record as it was, unused, and True."""
    await records.consents.create(consent(), event())
    await records.refresh_tokens.put(token())
    assert await records.refresh_tokens.use("h1", T0 + 5) == (token(), True)


async def test_second_use_of_a_refresh_token_is_a_replay(records: Records) -> None:
    """Presenting a rotated token again returns it, with used_at, and False (RFC 6749 §10.4)."""
    await records.consents.create(consent(), event())
    await records.refresh_tokens.put(token())
    await records.refresh_tokens.use("h1", T0 + 5)
    assert await records.refresh_tokens.use("h1", T0 + 6) == (
        replace(token(), used_at=T0 + 5),
        False,
    )


async def test_reading_a_refresh_token_does_not_use_it(records: Records) -> None:
    """refresh_tokens.get is a plain read: the token can still be used once afterwards."""
    await records.consents.create(consent(), event())
    await records.refresh_tokens.put(token())

    assert await records.refresh_tokens.get("h1") == token()
    assert await records.refresh_tokens.get("nope") is None
    assert await records.refresh_tokens.use("h1", T0 + 5) == (token(), True)
    assert (await records.refresh_tokens.get("h1")) == replace(token(), used_at=T0 + 5)


async def test_a_refresh_token_keeps_its_dpop_key_through_use(records: Records) -> None:
    """The DPoP key thumbprint a token is bound to (RFC 9449 §5) is read back, and returned by
    the use that rotates it, so the token endpoint can demand the same key."""
    await records.consents.create(consent(), event())
    bound = replace(token(), jkt="NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs")
    await records.refresh_tokens.put(bound)

    assert await records.refresh_tokens.get("h1") == bound
    assert await records.refresh_tokens.use("h1", T0 + 5) == (bound, True)
    assert await records.refresh_tokens.use("h1", T0 + 6) == (replace(bound, used_at=T0 + 5), False)


async def test_an_unknown_refresh_token_is_none(records: Records) -> None:
    """Never issued: (None, False)."""
    assert await records.refresh_tokens.use("nope", T0) == (None, False)


async def test_concurrent_uses_of_a_refresh_token_have_one_winner(records: Records) -> None:
    """Of 50 tasks presenting one token at once, exactly one rotates it."""
    await records.consents.create(consent(), event())
    await records.refresh_tokens.put(token())
    won: list[bool] = []

    async def use(i: int) -> None:
        won.append((await records.refresh_tokens.use("h1", T0 + i))[1])

    async with anyio.create_task_group() as tg:
        for i in range(50):
            tg.start_soon(use, i)
    assert (won.count(True), len(won)) == (1, 50)


async def test_a_refresh_token_for_an_unknown_consent_is_refused(records: Records) -> None:
    """Tokens belong to a consent that exists."""
    with pytest.raises(ValueError, match="unknown consent"):
        await records.refresh_tokens.put(token(consent_id="ghost"))


async def test_revoke_counts_live_tokens_only(records: Records) -> None:
    """Used tokens and other consents' tokens are not counted; a second revoke finds none."""
    await records.consents.create(consent(), event())
    await records.consents.create(consent("consent-2"), event("consent-2"))
    for h in ("live-1", "live-2", "used"):
        await records.refresh_tokens.put(token(h))
    await records.refresh_tokens.put(token("other", consent_id="consent-2"))
    await records.refresh_tokens.use("used", T0 + 1)
    assert await records.refresh_tokens.revoke_all("consent-1", T0 + 2) == 2
    assert await records.refresh_tokens.revoke_all("consent-1", T0 + 3) == 0
    assert await records.refresh_tokens.use("other", T0 + 4) == (token("other", "consent-2"), True)


async def test_a_revoked_refresh_token_is_a_replay(records: Records) -> None:
    """Using a revoked token returns it, with revoked_at, and False."""
    await records.consents.create(consent(), event())
    await records.refresh_tokens.put(token())
    await records.refresh_tokens.revoke_all("consent-1", T0 + 2)
    assert await records.refresh_tokens.use("h1", T0 + 3) == (
        replace(token(), revoked_at=T0 + 2),
        False,
    )


# ---------------------------------------------------------------------------- audit


async def test_audit_events_list_by_consent_oldest_first(records: Records) -> None:
    """A batch comes back in time order, filtered by consent, with every field."""
    await records.audit.append([audit("a2", at=T0 + 2), audit("a1", at=T0 + 1)])
    await records.audit.append([audit("b1", consent_id="consent-2"), audit("a3", at=T0 + 3)])
    assert await records.audit.of_consent("consent-1") == [
        audit("a1", at=T0 + 1),
        audit("a2", at=T0 + 2),
        audit("a3", at=T0 + 3),
    ]
    assert await records.audit.of_consent("none") == []


async def test_an_empty_audit_batch_is_a_no_op(records: Records) -> None:
    """Appending nothing stores nothing and does not fail."""
    await records.audit.append([])
    assert await records.audit.of_consent("consent-1") == []


async def test_audit_events_keep_their_append_order_at_equal_times(records: Records) -> None:
    """Two accesses in the same instant read back in the order they were recorded."""
    await records.audit.append([audit("b", at=T0), audit("a", at=T0)])
    await records.audit.append([audit("c", at=T0)])
    assert [e.id for e in await records.audit.of_consent("consent-1")] == ["b", "a", "c"]
