"""Tells consumers what happens to their data sharing: a notice in the portal's inbox and, when
``smtp_url`` is set, the same notice by email.

Told: every grant; every end of sharing, whoever ended it (the consumer, the app, the bank, or
time running out); 30 and 7 days before a consent ends or needs reauthorizing; a recipient's
registration changing its stated purpose or the data it asks for (the consent itself keeps
exactly what the consumer agreed to); a recipient suspended or reinstated by the bank; a
deletion the consumer asked for that the app has not confirmed within 30 days.

``Notices`` is a consent observer and a recipient observer (``authz.services``): it renders the
notice in the language the consumer last used on our screens, stores it in the inbox and the
outbox, wakes the mail worker and returns. Every notice has a dedupe key, so a repeated sweep,
a retried action or two gateways never tell the same thing twice. A failure is logged (by type
and id only) and never fails or undoes the consumer's, app's or bank's action.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import anyio

from authz.consent import lifecycle
from authz.consent.model import Consent, ConsentEvent, ConsentStatus, DurationType
from authz.consent.receipts import AccountLabel, account_labels
from authz.notices import compose, wording
from authz.notices.dates import in_words
from authz.notices.mail import Mailer, SmtpMailer
from authz.notices.outbox import MailWorker
from authz.notices.store import DeletionRequest, Email, Notice
from authz.notifications import message
from authz.registration import languages
from authz.services import Services
from authz.store.base import ClientRecord

log = logging.getLogger("authz.notices")

REMINDER_DAYS = (30, 7)  # days before the end of a consent that the consumer is reminded
DELETION_GRACE_DAYS = 30  # an app has this long to confirm a deletion before the consumer hears
BATCH = 500
LABEL_WAIT = 2.0  # seconds the grant notice waits for the bank to name the accounts
PORTAL_PATH = "/consumer"


@dataclass(frozen=True, slots=True)
class Content:
    """What one notice says, in one language (the values are filled into the wording)."""

    values: dict[str, str]
    facts: list[tuple[str, str]] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)


class Notices:
    def __init__(
        self,
        services: Services,
        *,
        mailer: Mailer | None = None,
        ids: Callable[[], str] = lambda: str(uuid.uuid4()),
        rand: Callable[[], float] | None = None,
    ) -> None:
        self._services = services
        self._records = services.notices
        self._ids = ids
        settings = services.settings
        if mailer is None and settings.smtp_url:
            mailer = SmtpMailer(settings.smtp_url)
        extra = {} if rand is None else {"rand": rand}
        self.worker = (
            MailWorker(
                self._records.outbox,
                services.bank,
                settings,
                mailer=mailer,
                clock=services.clock,
                **extra,
            )
            if mailer is not None
            else None
        )

    # ------------------------------------------------------------------ observers

    async def consent_changed(self, consent: Consent, event: ConsentEvent) -> None:
        try:
            if event.event == "granted":
                await self._granted(consent)
            elif event.event in ("revoked", "expired"):
                if consent.duration_type is DurationType.ONE_TIME and event.event == "expired":
                    return  # one session, which the consumer saw end
                await self._ended(consent, event)
        except Exception as exc:
            log.error("notice.failed %s consent_id=%s", type(exc).__name__, consent.id)

    async def recipient_changed(self, before: ClientRecord, after: ClientRecord) -> None:
        try:
            await self._recipient_changed(before, after)
        except Exception as exc:
            log.error("notice.failed %s client_id=%s", type(exc).__name__, after.client_id)

    # ------------------------------------------------------------------ the notices

    async def _granted(self, consent: Consent) -> None:
        services = self._services
        client = await services.records.clients.get(consent.client_id)
        labels: dict[str, AccountLabel] = {}
        # The grant is the consumer's request in progress: the bank gets a moment to name the
        # accounts, never the request's time.
        with anyio.move_on_after(LABEL_WAIT):
            labels = await account_labels(services.bank, consent.customer_id, consent.account_ids)
        named = [labels[a] for a in consent.account_ids if a in labels and labels[a].name != a]

        def content(lang: str) -> Content:
            t = wording.text(lang)
            if len(named) == len(consent.account_ids):
                accounts = ", ".join(
                    f"{label.name} {label.number}" if label.number else label.name
                    for label in named
                )
            else:  # never an internal id: how many, and the portal names them
                accounts = t["fact.accounts_count"].format(n=len(consent.account_ids))
            what = ", ".join(
                c.wording(lang).title for c in services.policy.ordered(consent.clusters)
            )
            return Content(
                self._names(client, consent.client_id, lang),
                facts=[
                    (t["fact.what"], what),
                    (t["fact.accounts"], accounts),
                    (t["fact.until"], self._until(consent, lang)),
                ],
            )

        await self.tell(
            "granted", consent.customer_id, f"granted:{consent.id}", content, consent_id=consent.id
        )

    async def _ended(self, consent: Consent, event: ConsentEvent) -> None:
        services = self._services
        client = await services.records.clients.get(consent.client_id)
        if event.event == "expired":
            by, at = "EXPIRED", min(event.time, consent.expires_at or event.time)
        else:
            by, at = lifecycle.revocation_initiator(event), event.time
            if by not in lifecycle.ACTORS:
                by = event.actor
        asked = message.deletion_requested(event)

        def content(lang: str) -> Content:
            t = wording.text(lang)
            values = self._names(client, consent.client_id, lang)
            values["by"] = t[f"ended.by.{by}"].format(date=in_words(at, lang), **values)
            extra = [t["ended.deletion"].format(**values)] if asked else []
            return Content(values, extra=extra)

        await self.tell(
            "ended", consent.customer_id, f"ended:{consent.id}", content, consent_id=consent.id
        )

    async def _recipient_changed(self, before: ClientRecord, after: ClientRecord) -> None:
        kinds: list[tuple[str, str]] = []  # (kind, what makes this change unique)
        if before.status != "suspended" and after.status == "suspended":
            kinds.append(("suspended", _change_time(after)))
        elif before.status == "suspended" and after.status == "approved":
            kinds.append(("reinstated", _change_time(after)))
        purpose_changed = (before.description or "") != (after.description or "")
        data_changed = set(before.clusters) != set(after.clusters)
        if (purpose_changed or data_changed) and after.status != "deleted":
            mark = f"{after.description}|{','.join(sorted(after.clusters))}"
            kinds.append(("changed", hashlib.sha256(mark.encode()).hexdigest()[:16]))
        if not kinds:
            return
        services = self._services
        now = services.clock()
        for consent in await services.records.consents.find(client_id=after.client_id):
            if not consent.is_active(now):
                continue
            for kind, unique in kinds:
                await self.tell(
                    kind,
                    consent.customer_id,
                    f"{kind}:{consent.id}:{unique}",
                    self._recipient_content(kind, after, purpose_changed, data_changed),
                    consent_id=consent.id,
                )

    def _recipient_content(
        self, kind: str, client: ClientRecord, purpose_changed: bool, data_changed: bool
    ) -> Callable[[str], Content]:
        policy = self._services.policy

        def content(lang: str) -> Content:
            t = wording.text(lang)
            values = self._names(client, client.client_id, lang)
            if kind == "changed":
                changes = []
                if purpose_changed:
                    changes.append(t["changed.purpose"].format(purpose=client.description or ""))
                if data_changed:
                    data = ", ".join(c.wording(lang).title for c in policy.ordered(client.clusters))
                    changes.append(t["changed.data"].format(data=data))
                values["changes"] = " ".join(changes)
            return Content(values)

        return content

    # ------------------------------------------------------------------ the sweep

    async def sweep(self) -> int:
        """Reminders before consents end and overdue deletions; how many notices were new."""
        services = self._services
        now = services.clock()
        told = 0
        after: tuple[float, str] | None = None
        horizon = now + max(REMINDER_DAYS) * lifecycle.DAY
        while True:
            page = await services.records.consents.expiring(horizon, limit=BATCH, after=after)
            for consent in page:
                told += await self._remind(consent, now)
            if len(page) < BATCH:
                break
            after = (page[-1].expires_at or 0.0, page[-1].id)
        for request in await self._records.deletions.overdue(
            now - DELETION_GRACE_DAYS * lifecycle.DAY
        ):
            if request.overdue_told_at is None:
                told += await self._deletion_overdue(request)
                await self._records.deletions.mark_overdue_told(request.consent_id, now)
        return told

    async def _deletion_overdue(self, request: DeletionRequest) -> int:
        client = await self._services.records.clients.get(request.client_id)

        def content(lang: str) -> Content:
            values = self._names(client, request.client_id, lang)
            values["date"] = in_words(request.asked_at, lang)
            return Content(values)

        key = f"deletion_overdue:{request.consent_id}"
        told = await self.tell(
            "deletion_overdue", request.customer_id, key, content, consent_id=request.consent_id
        )
        return int(told)

    async def _remind(self, consent: Consent, now: float) -> int:
        if consent.duration_type is DurationType.ONE_TIME or consent.expires_at is None:
            return 0
        if consent.status is not ConsentStatus.ACTIVE or consent.expires_at <= now:
            return 0
        left = consent.expires_at - now
        days = min(d for d in REMINDER_DAYS if left <= d * lifecycle.DAY)
        kind = "reauthorize" if consent.duration_type is DurationType.PERSISTENT else "expiring"
        client = await self._services.records.clients.get(consent.client_id)
        ends = consent.expires_at

        def content(lang: str) -> Content:
            values = self._names(client, consent.client_id, lang)
            values["date"] = in_words(ends, lang)
            return Content(values)

        key = f"{kind}:{days}:{consent.id}:{ends!r}"
        return int(await self.tell(kind, consent.customer_id, key, content, consent_id=consent.id))

    # ------------------------------------------------------------------ telling

    async def tell(
        self,
        kind: str,
        customer_id: str,
        dedupe_key: str,
        content: Callable[[str], Content],
        *,
        consent_id: str | None = None,
    ) -> bool:
        """Render ``kind`` in the consumer's language, store it in the inbox and (with SMTP)
        the outbox; False when this notice was already told."""
        services = self._services
        settings = services.settings
        lang = await self._records.languages.language(customer_id) or settings.languages[0]
        body = content(lang)
        rendered = compose.render(
            kind,
            lang,
            values=body.values,
            facts=body.facts,
            extra=body.extra,
            portal_url=settings.issuer + PORTAL_PATH,
        )
        now = services.clock()
        notice_id = self._ids()
        notice = Notice(
            id=notice_id,
            customer_id=customer_id,
            kind=kind,
            time=now,
            subject=rendered.subject,
            text=rendered.text,
            dedupe_key=dedupe_key,
            consent_id=consent_id,
        )
        # Each store is deduplicated on its own, so a retry after a failure between the two
        # completes whichever is missing.
        stored = await self._records.inbox.post(notice)
        if self.worker is not None:
            email = Email(
                id=notice_id,
                customer_id=customer_id,
                kind=kind,
                subject=rendered.subject,
                text=rendered.text,
                html=rendered.html,
                created_at=now,
                next_attempt_at=now,
                dedupe_key=dedupe_key,
            )
            if await self._records.outbox.enqueue(email):
                stored = True
                self.worker.wake()
        return stored

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """The mail worker (with SMTP) and the sweep (every ``notification_sweep_interval``
        seconds, unless 0), beside the app."""
        async with anyio.create_task_group() as tg:
            if self.worker is not None:
                tg.start_soon(self.worker.run)
            interval = self._services.settings.notification_sweep_interval
            if interval:
                tg.start_soon(self._sweep_every, float(interval))
            try:
                yield
            finally:
                tg.cancel_scope.cancel()

    async def _sweep_every(self, interval: float) -> None:
        while True:
            await anyio.sleep(interval)
            try:
                await self.sweep()
            except Exception as exc:  # the next sweep tries again
                log.error("notice.sweep_failed %s", type(exc).__name__)

    # ------------------------------------------------------------------ helpers

    def _names(self, client: ClientRecord | None, client_id: str, lang: str) -> dict[str, str]:
        """The app's name in ``lang`` where it registered one (RFC 7591 §2.2), the bank's."""
        shown = languages.localized(client, lang)[0] if client else None
        return {
            "client": shown.client_name if shown else client_id,
            "provider": self._services.settings.provider_name,
        }

    def _until(self, consent: Consent, lang: str) -> str:
        t = wording.text(lang)
        if consent.duration_type is DurationType.ONE_TIME:
            return t["fact.one_time"]
        ends = in_words(consent.expires_at or 0.0, lang)
        if consent.duration_type is DurationType.PERSISTENT:
            return t["fact.until_stopped"].format(date=ends)
        return ends


async def remember_language(services: Services, customer_id: str, lang: str) -> None:
    """The consumer used our screens in ``lang``: their notices are written in it from now on.
    Never fails the page: a failure is logged by type only."""
    try:
        await services.notices.languages.remember(customer_id, lang, services.clock())
    except Exception as exc:
        log.error("notice.language_failed %s", type(exc).__name__)


def _change_time(client: ClientRecord) -> str:
    history: Sequence[dict[str, object]] = client.extra.get("status_history", [])
    return repr(history[-1].get("time")) if history else "0"
