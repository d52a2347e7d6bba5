"""authz.consent.lifecycle: every transition and duration type, to the second, on a fake clock."""

from __future__ import annotations

import dataclasses

import pytest

from authz.consent import lifecycle
from authz.consent.model import Consent, ConsentEvent, ConsentStatus, DurationType
from tests.authz.consent.conftest import DAY, NOW, Recorder, World

# ---------------------------------------------------------------------------- revocation


def test_revoking_an_active_consent_records_who_why_and_when(world: World) -> None:
    """REVOKED, version bumped, one event with actor, reason and detail at the clock's time."""
    world.consent()
    world.clock.advance(10)

    ended = world.call(
        lifecycle.revoke, "c-1", actor="INDIVIDUAL", reason="USER_ACTION", detail="portal"
    ).consent

    assert ended is not None
    assert (ended.status, ended.version, ended.updated_at) == (ConsentStatus.REVOKED, 2, NOW + 10)
    assert world.stored() == ended
    assert world.history()[-1] == ConsentEvent(
        "c-1", NOW + 10, "revoked", "INDIVIDUAL", "USER_ACTION", "portal"
    )


def test_revoking_kills_the_consents_refresh_tokens(world: World) -> None:
    """Revocation takes every refresh token of the consent with it."""
    world.refresh_token(world.consent())

    world.call(lifecycle.revoke, "c-1", actor="DATA_PROVIDER", reason="BUSINESS_RULE")

    assert world.refresh_token_live() is False


def test_observers_hear_of_a_revocation_once_with_the_stored_consent(world: World) -> None:
    """One call per stored change, carrying the consent as stored and its event."""
    world.consent()

    ended = world.call(lifecycle.revoke, "c-1", actor="INDIVIDUAL", reason="USER_ACTION").consent

    assert [(ended, world.history()[-1])] == world.observer.seen


def test_revoking_twice_is_a_no_op_that_reports_false(world: World) -> None:
    """The second revocation stores nothing, tells no one and answers False."""
    world.consent()
    first = world.call(lifecycle.revoke, "c-1", actor="INDIVIDUAL", reason="USER_ACTION").changed
    history = world.history()

    second = world.call(
        lifecycle.revoke, "c-1", actor="DATA_RECIPIENT", reason="BUSINESS_RULE"
    ).changed
    again = world.call(lifecycle.revoke, "c-1", actor="INDIVIDUAL", reason="USER_ACTION").consent

    assert (first, second) == (True, False)
    assert again == world.stored()
    assert again is not None
    assert again.version == 2
    assert world.history() == history
    assert world.observer.events == ["revoked"]


def test_revocation_is_final(world: World) -> None:
    """A revoked consent never becomes ACTIVE again: not renewed, not expired over."""
    world.consent()
    world.call(lifecycle.revoke, "c-1", actor="INDIVIDUAL", reason="USER_ACTION")

    with pytest.raises(lifecycle.ConsentNotRenewable):
        world.call(lifecycle.renew, "c-1")
    world.clock.advance(400 * DAY)
    after = world.call(lifecycle.expire_if_due, world.stored())

    assert after.status is ConsentStatus.REVOKED
    assert world.observer.events == ["revoked"]


def test_an_unknown_consent_is_none(world: World) -> None:
    """Nothing to revoke: None, and no observer is called."""
    assert world.call(lifecycle.revoke, "nope", actor="INDIVIDUAL", reason="USER_ACTION") == (
        None,
        False,
    )
    assert world.observer.seen == []


def test_a_denied_consent_cannot_be_revoked_or_renewed(world: World) -> None:
    """DENIED stays DENIED: revocation is a no-op and renewal is refused."""
    world.consent(status=ConsentStatus.DENIED)

    ended = world.call(lifecycle.revoke, "c-1", actor="INDIVIDUAL", reason="USER_ACTION").consent
    with pytest.raises(lifecycle.ConsentNotRenewable):
        world.call(lifecycle.renew, "c-1")

    assert ended is not None
    assert ended.status is ConsentStatus.DENIED
    assert world.observer.seen == []


def test_a_recipient_named_initiator_is_kept_with_the_revocation(world: World) -> None:
    """The FDX initiator is recorded; without one the actor is the initiator."""
    world.consent("c-1")
    world.consent("c-2")

    world.call(
        lifecycle.revoke,
        "c-1",
        actor="DATA_RECIPIENT",
        reason="USER_ACTION",
        initiator="INDIVIDUAL",
        detail="api",
    )
    world.call(lifecycle.revoke, "c-2", actor="DATA_RECIPIENT", reason="BUSINESS_RULE")

    assert lifecycle.revocation_initiator(world.history("c-1")[-1]) == "INDIVIDUAL"
    assert world.history("c-1")[-1].actor == "DATA_RECIPIENT"
    assert lifecycle.revocation_initiator(world.history("c-2")[-1]) == "DATA_RECIPIENT"


@pytest.mark.parametrize(
    ("actor", "reason", "initiator"),
    [
        ("SOMEONE", "USER_ACTION", None),
        ("INDIVIDUAL", "BECAUSE", None),
        ("DATA_RECIPIENT", "USER_ACTION", "ALIENS"),
    ],
    ids=["actor", "reason", "initiator"],
)
def test_an_actor_or_reason_outside_fdx_is_refused(
    world: World, actor: str, reason: str, initiator: str | None
) -> None:
    """Only FDX PartyTypes and ConsentUpdateReasons are recorded."""
    world.consent()

    with pytest.raises(ValueError, match="FDX"):
        world.call(lifecycle.revoke, "c-1", actor=actor, reason=reason, initiator=initiator)

    assert world.stored().status is ConsentStatus.ACTIVE


def test_revoking_a_consent_past_its_expiry_records_the_expiry(world: World) -> None:
    """What happened first was the expiry: EXPIRED is recorded, not REVOKED; tokens still die."""
    consent = world.consent(expires_in=60)
    world.refresh_token(consent)
    world.clock.advance(60)

    revoked = world.call(lifecycle.revoke, "c-1", actor="INDIVIDUAL", reason="USER_ACTION").changed

    assert revoked is False
    assert world.stored().status is ConsentStatus.EXPIRED
    assert world.observer.events == ["expired"]
    assert world.refresh_token_live() is False


# ---------------------------------------------------------------------------- expiry


def test_a_consent_is_active_one_second_before_its_expiry(world: World) -> None:
    """At expires_at - 1 nothing is due: no write, no notice."""
    consent = world.consent(expires_in=90 * DAY)
    world.clock.advance(90 * DAY - 1)

    after = world.call(lifecycle.expire_if_due, consent)

    assert after == consent
    assert after.is_active(world.clock())
    assert world.observer.seen == []


def test_a_consent_expires_at_the_exact_second(world: World) -> None:
    """At expires_at it is EXPIRED, recorded by the bank as a business rule, and told once."""
    consent = world.consent(expires_in=90 * DAY)
    world.clock.advance(90 * DAY)

    after = world.call(lifecycle.expire_if_due, consent)

    assert not consent.is_active(world.clock())
    assert (after.status, after.version) == (ConsentStatus.EXPIRED, 2)
    assert world.stored() == after
    assert world.history()[-1] == ConsentEvent(
        "c-1", NOW + 90 * DAY, "expired", "DATA_PROVIDER", "BUSINESS_RULE"
    )
    assert world.observer.events == ["expired"]


def test_an_expiry_is_recorded_once(world: World) -> None:
    """Seeing the same expired consent again (a stale copy included) changes nothing."""
    consent = world.consent(expires_in=60)
    world.clock.advance(61)

    world.call(lifecycle.expire_if_due, consent)
    again = world.call(lifecycle.expire_if_due, consent)

    assert again == world.stored()
    assert [e.event for e in world.history()] == ["granted", "expired"]
    assert world.observer.events == ["expired"]


def test_an_expired_consent_cannot_be_renewed(world: World) -> None:
    """EXPIRED is final like REVOKED: the consumer grants a new consent instead."""
    consent = world.consent(expires_in=60)
    world.clock.advance(60)
    world.call(lifecycle.expire_if_due, consent)

    with pytest.raises(lifecycle.ConsentNotRenewable, match="EXPIRED"):
        world.call(lifecycle.renew, "c-1")

    assert world.stored().status is ConsentStatus.EXPIRED


def test_renewing_at_the_second_of_expiry_records_the_expiry_and_refuses(world: World) -> None:
    """Too late by zero seconds is too late: the expiry is recorded and renewal refused."""
    world.consent(expires_in=60)
    world.clock.advance(60)

    with pytest.raises(lifecycle.ConsentNotRenewable):
        world.call(lifecycle.renew, "c-1")

    assert world.stored().status is ConsentStatus.EXPIRED
    assert world.observer.events == ["expired"]


# ---------------------------------------------------------------------------- duration types


def test_a_one_time_consent_ends_with_its_access_token(world: World) -> None:
    """ONE_TIME: at the code exchange the consent's end becomes the token's exp ("used")."""
    world.consent(duration=DurationType.ONE_TIME, expires_in=360)
    token_exp = NOW + 300

    used = world.call(lifecycle.end_with_token, "c-1", token_exp=token_exp)

    assert used.expires_at == token_exp
    assert used.is_active(token_exp - 1)
    assert not used.is_active(token_exp)
    assert world.history()[-1].event == "used"
    assert world.observer.events == ["used"]


def test_a_one_time_consent_is_never_lengthened_by_its_token(world: World) -> None:
    """A token outliving the session's end does not move the end later."""
    world.consent(duration=DurationType.ONE_TIME, expires_in=100)

    used = world.call(lifecycle.end_with_token, "c-1", token_exp=NOW + 300)

    assert used.expires_at == NOW + 100


@pytest.mark.parametrize("duration", [DurationType.TIME_BOUND, DurationType.PERSISTENT])
def test_only_one_time_consents_end_with_a_token(world: World, duration: DurationType) -> None:
    """A lasting consent is untouched by a code exchange: no write, no notice."""
    consent = world.consent(duration=duration, period=90)

    after = world.call(lifecycle.end_with_token, "c-1", token_exp=NOW + 300)

    assert after == consent
    assert world.observer.seen == []


def test_a_one_time_consent_cannot_be_renewed(world: World) -> None:
    """One data session has nothing to renew."""
    world.consent(duration=DurationType.ONE_TIME)

    with pytest.raises(lifecycle.ConsentNotRenewable, match="ONE_TIME"):
        world.call(lifecycle.renew, "c-1")


def test_renewing_a_persistent_consent_restarts_its_year(world: World) -> None:
    """PERSISTENT: reauthorization due 365 days after this latest authorization."""
    consent = world.consent(duration=DurationType.PERSISTENT)
    world.clock.advance(340 * DAY)

    renewed = world.call(lifecycle.renew, "c-1")

    assert renewed.status is ConsentStatus.ACTIVE
    assert renewed.expires_at == world.clock() + 365 * DAY
    assert (renewed.version, renewed.created_at) == (2, consent.created_at)
    assert (renewed.resources, renewed.scope) == (consent.resources, consent.scope)
    assert world.history()[-1] == ConsentEvent(
        "c-1", world.clock(), "renewed", "INDIVIDUAL", "USER_ACTION"
    )
    assert world.observer.events == ["renewed"]


@pytest.mark.parametrize(("period", "days"), [(30, 30), (365, 365), (400, 365)])
def test_renewing_a_time_bound_consent_grants_its_period_again(
    world: World, period: int, days: int
) -> None:
    """TIME_BOUND: durationPeriod days from now, capped at max_consent_days."""
    world.consent(duration=DurationType.TIME_BOUND, period=period, expires_in=10 * DAY)
    world.clock.advance(5 * DAY)

    renewed = world.call(lifecycle.renew, "c-1")

    assert renewed.expires_at == world.clock() + days * DAY


def test_an_unknown_consent_cannot_be_renewed(world: World) -> None:
    """Renewal of nothing is the same clear domain error."""
    with pytest.raises(lifecycle.ConsentNotRenewable):
        world.call(lifecycle.renew, "nope")


def test_reauthorization_falls_due_thirty_days_before_a_persistent_consent_ends(
    world: World,
) -> None:
    """Due from expires_at - 30 days to the second, and no longer once expired or renewed."""
    consent = world.consent(duration=DurationType.PERSISTENT)
    assert consent.expires_at is not None
    due_from = consent.expires_at - 30 * DAY

    assert not lifecycle.reauthorization_due(consent, due_from - 1)
    assert lifecycle.reauthorization_due(consent, due_from)
    assert lifecycle.reauthorization_due(consent, consent.expires_at - 1)
    assert not lifecycle.reauthorization_due(consent, consent.expires_at)
    assert lifecycle.reauthorization_due(consent, due_from + 10 * DAY, within_days=40)

    world.clock.now = due_from
    renewed = world.call(lifecycle.renew, "c-1")
    assert not lifecycle.reauthorization_due(renewed, due_from)


@pytest.mark.parametrize("duration", [DurationType.TIME_BOUND, DurationType.ONE_TIME])
def test_only_persistent_consents_fall_due_for_reauthorization(
    world: World, duration: DurationType
) -> None:
    """TIME_BOUND ends when the consumer said; ONE_TIME after one session."""
    consent = world.consent(duration=duration, period=60)
    assert consent.expires_at is not None

    assert not lifecycle.reauthorization_due(consent, consent.expires_at - 1)


# ---------------------------------------------------------------------------- observers, races


def test_a_failing_observer_neither_undoes_the_change_nor_silences_the_others(
    world: World,
) -> None:
    """The change is stored; later observers are still told."""

    class Broken:
        async def consent_changed(self, consent: Consent, event: ConsentEvent) -> None:
            raise RuntimeError("receiver down")

    after = Recorder()
    world.services.observers[:] = [Broken(), after]
    world.consent()

    ended = world.call(lifecycle.revoke, "c-1", actor="INDIVIDUAL", reason="USER_ACTION").consent

    assert ended is not None
    assert ended.status is ConsentStatus.REVOKED
    assert after.events == ["revoked"]


def test_a_renewal_racing_another_writer_is_retried_on_the_fresh_consent(world: World) -> None:
    """An optimistic-version conflict re-reads and applies the change to what is stored."""
    world.consent()
    records = world.records
    original = records.consents.update
    calls = 0

    async def racing(consent, event, *, expected_version):
        nonlocal calls
        calls += 1
        if calls == 1:
            current = await records.consents.get(consent.id)
            assert current is not None
            bumped = dataclasses.replace(current, version=current.version + 1)
            await original(bumped, ConsentEvent(consent.id, NOW, "noted", "X"), expected_version=1)
        return await original(consent, event, expected_version=expected_version)

    object.__setattr__(records.consents, "update", racing)

    renewed = world.call(lifecycle.renew, "c-1")

    assert (calls, renewed.version) == (2, 3)
    assert world.observer.events == ["renewed"]


def test_a_revocation_that_never_wins_still_kills_the_refresh_tokens(world: World) -> None:
    """After every retry lost: RevocationConflict, tokens revoked, consent untouched."""
    world.refresh_token(world.consent())

    async def always_lose(consent, event, *, expected_version):
        return False

    object.__setattr__(world.records.consents, "update", always_lose)

    with pytest.raises(lifecycle.RevocationConflict):
        world.call(lifecycle.revoke, "c-1", actor="INDIVIDUAL", reason="USER_ACTION")

    assert world.refresh_token_live() is False
    assert world.stored().status is ConsentStatus.ACTIVE
    assert world.observer.seen == []
