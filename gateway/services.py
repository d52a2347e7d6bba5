"""The services the settings name: stores, keys, the session secret, the bank and the notifier.

The first half of the composition root (``gateway.app`` is the second: routes, middleware and
the lifespan over these services). Kept apart so that tools that need the services but no app
(``fdxgw`` admin commands, benchmarks, tests) build them the same way without importing the app.
"""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor

from adapters import load_adapter
from authz import keyring
from authz.kek import kek_from_settings
from authz.keyfiles import passphrase_setting
from authz.keys import SigningKeys
from authz.notices.notices import Notices
from authz.notices.store import open_notice_records
from authz.notifications import Notifier
from authz.services import Clock, Services
from authz.store import open_records, open_state
from authz.subscriptions import open_subscriptions
from config.policy import load_policy
from config.settings import Settings


def build_services(settings: Settings, *, clock: Clock = time.time) -> Services:
    """Everything the settings name: stores, keys, the session secret and the bank adapter."""
    state = open_state(settings.state_url, clock=clock, prefix=settings.redis_prefix)
    material = load_keys(settings, clock=clock)
    services = Services.build(
        settings,
        policy=load_policy(),
        records=open_records(
            settings.database_url,
            clock=clock,
            pool_min_size=settings.database_pool_min_size,
            pool_max_size=settings.database_pool_max_size,
            timeout=settings.database_timeout,
            state=state,  # shared: record writes stamp it, the gate's cache trusts it
        ),
        state=state,
        subscriptions=open_subscriptions(settings.database_url),
        bank=load_adapter(settings.adapter, settings.adapter_config),
        keys=SigningKeys(material.ring, clock=clock),
        secret=material.secret,
        notices=open_notice_records(settings.database_url),
        clock=clock,
    )
    services.observers.append(Notifier(services))  # signed consent notices to recipients
    add_notices(services)  # notices to consumers: the portal's inbox, and email with smtp_url
    return services


def add_notices(services: Services) -> Notices:
    """Consumers told of their sharing (authz/notices): a consent and a recipient observer."""
    notices = Notices(services)
    services.observers.append(notices)
    services.recipient_observers.append(notices)
    return notices


def load_keys(settings: Settings, *, clock: Clock = time.time) -> keyring.KeyMaterial:
    """The signing keys and the session secret from the record store, made (or moved there from
    an earlier release's ``var_dir`` files) on a first start. Raises SchemaError before the
    schema is migrated, KeyringError or KekError when the KEK cannot open them.

    The store is async and this is called both outside an event loop (``fdxgw serve``) and
    inside one (the ``uvicorn --factory`` entry point), so it runs on a thread of its own with a
    record store of its own, closed when done."""
    kek = kek_from_settings(settings.key_encryption_key_file, settings.key_encryption_key)

    async def load() -> keyring.KeyMaterial:
        records = open_records(
            settings.database_url, pool_min_size=1, timeout=settings.database_timeout
        )
        try:
            await records.schema.check()
            return await keyring.open_keys(
                records.secrets,
                kek,
                now=clock(),
                legacy=settings.var_path,
                passphrase=passphrase_setting(settings.keys_passphrase_file),
            )
        finally:
            await records.aclose()

    with ThreadPoolExecutor(1, thread_name_prefix="keys-load") as pool:
        return pool.submit(asyncio.run, load()).result()


def key_reloader(services: Services) -> keyring.Reloader:
    """Follows the signing keys other instances rotate in the shared record store."""
    settings = services.settings
    kek = kek_from_settings(settings.key_encryption_key_file, settings.key_encryption_key)
    return keyring.Reloader(
        services.keys, services.records.secrets, kek, interval=settings.key_reload_interval
    )
