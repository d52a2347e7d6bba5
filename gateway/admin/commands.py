"""The operator's ``fdxgw`` subcommands for consents, keys and the admin token.

fdxgw consents search --customer ID | --recipient CLIENT_ID   a table, newest first
fdxgw consents revoke CONSENT_ID [--reason BUSINESS_RULE]     as the bank (DATA_PROVIDER)
fdxgw keys list                                               kid, created, signs from, retires
fdxgw keys rotate [--now]                                     a new key, signing after a delay
fdxgw keys prune                                              delete keys past their retire_after
fdxgw keys migrate                                            move var_dir key files into the store
fdxgw keys kek                                                print a new key-encryption key
fdxgw keys seal                                               seal keys stored in clear with it
fdxgw admin token                                             a new admin API token, shown once

``gateway.cli`` registers these with ``add_parsers`` and hands them over with ``run``. The keys
group takes further actions (``keys rotate``) as one more ``add_parser`` on ``KEY_ACTIONS``'
parser and one more branch in ``_keys``.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from authz import keyring
from authz.consent import lifecycle
from authz.consent.model import Consent
from authz.kek import Kek, KekError, kek_from_settings, new_kek
from authz.keyfiles import KeyFileError, passphrase_setting
from authz.keys import SIGNING_ALG
from authz.store import RecordsUnavailable, SchemaError, open_records
from authz.store.base import Secrets
from config.settings import Settings
from gateway.admin import consents
from gateway.admin.token import new_token, write_token_hash

COMMANDS = frozenset({"consents", "keys", "admin"})
DEFAULT_HASH_FILE = "admin-token.sha256"  # under var_dir when admin_token_file is unset


def add_parsers(sub: Any) -> None:
    group = sub.add_parser("consents", help="search consents or revoke one as the bank")
    actions = group.add_subparsers(dest="action", required=True)
    search = actions.add_parser("search", help="one customer's or one recipient's consents")
    who = search.add_mutually_exclusive_group(required=True)
    who.add_argument("--customer", metavar="ID", help="the bank's customer id")
    who.add_argument("--recipient", metavar="CLIENT_ID", help="the recipient's client_id")
    search.add_argument("--progress-every", type=int, default=10_000, metavar="N")
    revoke = actions.add_parser("revoke", help="end a consent (actor DATA_PROVIDER)")
    revoke.add_argument("consent_id", metavar="CONSENT_ID")
    revoke.add_argument("--reason", choices=sorted(lifecycle.REASONS), default="BUSINESS_RULE")

    keys = sub.add_parser("keys", help="the authorization server's signing keys")
    key_actions = keys.add_subparsers(dest="action", required=True)
    key_actions.add_parser("list", help="kid, created, when each signs and retires")
    rotate = key_actions.add_parser("rotate", help="publish a new key; it signs later")
    rotate.add_argument(
        "--now",
        action="store_true",
        help="sign with it at once (a compromised key: clients may briefly miss it)",
    )
    key_actions.add_parser("prune", help="delete replaced keys past their retire_after")
    key_actions.add_parser("migrate", help="move an earlier release's var_dir key files in")
    key_actions.add_parser("kek", help="print a new key-encryption key (32 bytes, base64)")
    key_actions.add_parser("seal", help="seal keys stored in clear with the configured KEK")

    admin = sub.add_parser("admin", help="the admin API's credential")
    admin_actions = admin.add_subparsers(dest="action", required=True)
    token = admin_actions.add_parser("token", help="make a new admin token (shown once)")
    token.add_argument("--file", type=Path, help="where to store its hash (admin_token_file)")


def run(settings: Settings, args: argparse.Namespace) -> int:
    import asyncio

    if args.command == "consents":
        return asyncio.run(_consents(settings, args))
    if args.command == "keys":
        return asyncio.run(_keys(settings, args))
    return _admin_token(settings, args.file)


async def _consents(settings: Settings, args: argparse.Namespace) -> int:
    if args.action == "revoke":
        return await _revoke(settings, args.consent_id, args.reason)
    records = open_records(settings.database_url)
    try:
        await records.schema.check()
        found = await consents.search(records, customer=args.customer, recipient=args.recipient)
    except SchemaError as exc:
        print(f"fdxgw: storage: {exc}", file=sys.stderr)
        return 2
    finally:
        await records.aclose()
    print_table(found, progress_every=args.progress_every)
    return 0


def print_table(
    found: list[Consent],
    *,
    progress_every: int = 10_000,
    out: Callable[[str], None] = print,
) -> None:
    """One line a consent under a header; a count on stderr every ``progress_every`` lines."""
    out(f"{'CONSENT':36}  {'STATUS':8}  {'RECIPIENT':24}  {'CREATED':20}  {'EXPIRES':20}  CLUSTERS")
    for n, consent in enumerate(found, start=1):
        row = consents.summary(consent)
        expires = row["expirationTime"] or "-"
        clusters = ",".join(row["dataClusters"])
        out(
            f"{row['id']:36}  {row['status']:8}  {row['recipient']:24}  {row['createdTime']:20}"
            f"  {expires:20}  {clusters}"
        )
        if progress_every > 0 and n % progress_every == 0:
            print(f"  ... {n} of {len(found)} consents listed", file=sys.stderr, flush=True)
    print(f"{len(found)} consent(s)", file=sys.stderr)


async def _revoke(settings: Settings, consent_id: str, reason: str) -> int:
    from gateway.app import build_services

    # The gateway's own services, so the revocation goes through the lifecycle exactly as an
    # API call would: recorded (DATA_PROVIDER), refresh tokens killed, the recipient notified
    # (the durable outbox is delivered by the running gateway).
    services = build_services(settings)
    try:
        await services.records.schema.check()
        consent = await consents.revoke(services, consent_id, reason=reason)
    except SchemaError as exc:
        print(f"fdxgw: storage: {exc}", file=sys.stderr)
        return 2
    except consents.ConsentNotFound:
        print(f"fdxgw: no consent {consent_id}", file=sys.stderr)
        return 1
    except (consents.ConsentAlreadyEnded, lifecycle.RevocationConflict) as exc:
        print(f"fdxgw: {exc or 'the consent is changing; try again'}", file=sys.stderr)
        return 1
    finally:
        await services.bank.aclose()
        await services.state.aclose()
        await services.records.aclose()
    print(f"{consent.id} is now {consent.status.value} ({reason})")
    return 0


async def _keys(settings: Settings, args: argparse.Namespace) -> int:
    """Keys live in the record store (authz/keyring.py): every instance sees a change within
    key_reload_interval."""
    if args.action == "kek":
        print(new_kek())
        return 0
    records = open_records(settings.database_url)
    try:
        await records.schema.check()
        kek = kek_from_settings(settings.key_encryption_key_file, settings.key_encryption_key)
        return await _key_action(settings, args, records.secrets, kek)
    except (SchemaError, RecordsUnavailable) as exc:
        print(f"fdxgw: storage: {exc}", file=sys.stderr)
        return 2
    except (keyring.KeyringError, KekError, KeyFileError) as exc:
        print(f"fdxgw: keys: {exc}", file=sys.stderr)
        return 2
    finally:
        await records.aclose()


async def _key_action(
    settings: Settings, args: argparse.Namespace, store: Secrets, kek: Kek
) -> int:
    now = time.time()
    if args.action == "migrate":
        passphrase = passphrase_setting(settings.keys_passphrase_file)
        kids, secret = await keyring.migrate_files(store, kek, settings.var_path, passphrase)
        for kid in kids:
            print(f"moved key {kid} into the record store")
        print(f"{len(kids)} key(s) moved; session secret {'moved' if secret else 'left as is'}")
        print(f"the files under {settings.var_path} are no longer read; delete them when done")
        return 0
    if args.action == "seal":
        ids = await keyring.seal(store, kek)
        print(f"{len(ids)} record(s) sealed with key-encryption key {kek.kek_id}")
        return 0
    if args.action == "rotate":
        ahead = 0 if args.now else settings.key_publish_ahead
        meta = await keyring.rotate(
            store, kek, now=now, publish_ahead=ahead, retention=settings.key_retention
        )
        print(f"new key {meta.kid} published; it signs from {_iso(meta.not_before_signing)}")
        print(
            f"running gateways publish it within {settings.key_reload_interval} s"
            " (key_reload_interval); the old keys retire in their turn"
        )
        return 0
    if args.action == "prune":
        removed = await keyring.prune(store, now=now)
        for meta in removed:
            print(f"removed {meta.kid} (retired {_iso(meta.retire_after or now)})")
        print(f"{len(removed)} key(s) removed")
        return 0
    metas = keyring.schedule(await store.all())
    if not metas:
        print("fdxgw: no signing keys in the record store (run fdxgw init)", file=sys.stderr)
        return 1
    signer = ([m for m in metas if m.not_before_signing <= now] or metas)[-1]  # oldest first
    print(
        f"{'KID':45}  {'ALG':6}  {'CREATED':25}  {'SIGNS FROM':25}  {'RETIRES':25}  {'AT REST':7}"
        "  SIGNS"
    )
    for m in metas:
        start = _iso(m.not_before_signing) if m.not_before_signing else "-"
        retires = _iso(m.retire_after) if m.retire_after is not None else "-"
        print(
            f"{m.kid:45}  {SIGNING_ALG:6}  {_iso(m.created):25}  {start:25}  {retires:25}"
            f"  {'sealed' if m.encrypted else 'clear':7}  {'yes' if m == signer else ''}"
        )
    return 0


def _admin_token(settings: Settings, file: Path | None) -> int:
    configured = settings.admin_token_file
    path = file or (Path(configured) if configured else settings.var_path / DEFAULT_HASH_FILE)
    token = new_token()
    write_token_hash(path, token)
    print(f"admin token (shown once, only its hash is kept in {path}):\n\n  {token}\n")
    if not configured or Path(configured) != path:
        print(f"set admin_token_file = {str(path)!r} (or FDX_ADMIN_TOKEN_FILE) and restart")
    else:
        print("the previous admin token, if any, no longer works")
    return 0


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")
