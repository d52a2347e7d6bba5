"""``fdxgw``: the operator's command line.

fdxgw [--config FILE] COMMAND   settings from FILE (or $FDX_CONFIG), FDX_* variables over it
fdxgw --version                 the gateway's version
fdxgw init     create or upgrade storage, keys and the session secret; seed the sandbox demo
               recipient when absent
fdxgw serve    start the gateway (storage must be initialised and its schema current)
fdxgw check    read the settings, the policy, the adapter configuration and the maintenance
               file, as serve would, and open the stored keys with the configured KEK when the
               database is reachable; say what is wrong (naming the key), if anything
fdxgw db migrate                   create or upgrade the record store's schema (and nothing else)
fdxgw db check                     reach the record store and say whether its schema is current
fdxgw adapter check NAME           run the adapter conformance kit over NAME (docs/adapters.md)
fdxgw audit verify                 recompute the audit trail's hash chain; name the first break
fdxgw audit export --from --to     the trail's links in a date range, as JSON lines
fdxgw audit prune                  delete links older than audit_retention_days (keeps an anchor)
fdxgw recipients list              every registered recipient and its status
fdxgw recipients approve|suspend|reinstate CLIENT_ID   the bank's decision about one recipient
fdxgw consents search --customer ID | --recipient CLIENT_ID   consents as a table
fdxgw consents revoke CONSENT_ID [--reason BUSINESS_RULE]     end one as the bank
fdxgw keys list                    signing keys: kid, created, when it signs, when it retires
fdxgw keys rotate [--now]          publish a new key that signs after key_publish_ahead
fdxgw keys prune                   delete replaced keys past their retire_after
fdxgw keys migrate                 move an earlier release's var_dir key files into the store
fdxgw keys kek                     print a new key-encryption key (key_encryption_key_file)
fdxgw keys seal                    seal keys stored in clear with the configured one
fdxgw admin token                  a new admin API token (printed once; its hash is stored)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from authz import keyring
from authz.kek import Kek, KekError, kek_from_settings
from authz.keyfiles import KeyFileError, passphrase_setting
from authz.registration import recipients
from authz.registration.statement import load_registry_keys
from authz.store import (
    ClientRecord,
    Records,
    RecordsUnavailable,
    SchemaError,
    StateUnavailable,
    display_url,
    open_records,
    open_state,
)
from config.policy import PolicyError, load_policy
from config.settings import Settings, SettingsError
from gateway import __version__
from gateway.admin import commands
from gateway.serving import serve, serve_parser

_clock = time.time  # the one clock of the commands (tests set their own)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="fdxgw", description="FDX data-sharing gateway")
    parser.add_argument("--version", action="version", version=f"fdxgw {__version__}")
    parser.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help="the operator's TOML settings file (default: $FDX_CONFIG); FDX_* variables win",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("init", help="create or upgrade storage, keys and secrets; seed the demo")
    serve_parser(sub)
    sub.add_parser("check", help="validate settings and the cluster policy")
    db = sub.add_parser("db", help="the record store's schema: migrate it, or check it")
    db.add_argument("action", choices=("migrate", "check"))
    _adapter_parser(sub)
    _audit_parser(sub)
    _recipients_parser(sub)
    commands.add_parsers(sub)  # consents, keys, admin (gateway/admin/commands.py)
    args = parser.parse_args(argv)
    try:
        settings = Settings.load(config_file=args.config, warn=_warn)
        load_policy()
        if settings.registry_jwks:
            load_registry_keys(settings.registry_jwks)
    except (SettingsError, PolicyError) as exc:
        print(f"fdxgw: configuration error: {exc}", file=sys.stderr)
        return 2
    if args.command == "check":
        return _check(settings)
    if args.command == "init":
        return asyncio.run(_init(settings))
    if args.command == "db":
        return asyncio.run(_db(settings, args.action))
    if args.command == "adapter":
        return _adapter_check(settings, args)
    if args.command == "audit":
        return asyncio.run(_audit(settings, args))
    if args.command == "recipients":
        if args.action != "list" and not args.client_id:
            parser.error(f"recipients {args.action} needs a CLIENT_ID")
        return asyncio.run(_recipients(settings, args.action, args.client_id, args.reason))
    if args.command in commands.COMMANDS:
        return commands.run(settings, args)
    return serve(settings, args)


def _warn(message: str) -> None:
    print(f"fdxgw: warning: {message}", file=sys.stderr)


def _check(settings: Settings) -> int:
    """What ``serve`` would load besides the settings and the policy, loaded the same way: the
    adapters from ``adapter_config``, the maintenance windows and the key-encryption key. Every
    message names the key."""
    from adapters.registry import load_adapter
    from gateway.fdx.meta import load_windows

    try:
        adapter = load_adapter(settings.adapter, settings.adapter_config)
    except ValueError as exc:  # AdapterConfigError, and the factories' own ValueErrors
        text = str(exc)
        if not text.startswith(("adapter:", "adapter_config:")):
            text = f"adapter_config: {text}"
        print(f"fdxgw: configuration error: {text}", file=sys.stderr)
        return 2
    asyncio.run(adapter.aclose())
    try:
        load_windows(settings.maintenance_file)
        kek = kek_from_settings(settings.key_encryption_key_file, settings.key_encryption_key)
    except ValueError as exc:  # KekError names key_encryption_key_file or the variable
        print(f"fdxgw: configuration error: {exc}", file=sys.stderr)
        return 2
    url = settings.database_url
    try:
        if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).is_file():
            checked = "keys not checked: no database yet (run fdxgw init)"  # never created here
        else:
            checked = asyncio.run(_check_keys(settings, kek))
    except keyring.KeyringError as exc:
        print(
            f"fdxgw: configuration error: key_encryption_key_file / FDX_KEY_ENCRYPTION_KEY: {exc}",
            file=sys.stderr,
        )
        return 2
    print(checked)
    print("configuration OK")
    return 0


async def _check_keys(settings: Settings, kek: Kek) -> str:
    """Whether every stored key opens with ``kek`` (serve would stop otherwise), when the
    database is reachable and initialised; a line saying what was checked. KeyringError when
    one does not."""
    records = open_records(
        settings.database_url, pool_min_size=1, pool_max_size=1, timeout=settings.database_timeout
    )
    try:
        await records.schema.check()
        stored = await records.secrets.all()
        if stored:
            await keyring.load(records.secrets, kek)
    except (SchemaError, RecordsUnavailable) as exc:
        return f"keys not checked: storage: {exc}"
    finally:
        await records.aclose()
    if not stored:
        return "keys not checked: none stored yet (run fdxgw init)"
    return f"{len(stored)} stored key(s) open with key-encryption key {kek.kek_id}"


async def _init(settings: Settings) -> int:
    records = _open_records(settings, writes=True)  # the demo recipient is a client write
    try:
        await records.schema.migrate()
        await _migrate_subscriptions(settings)
        await keyring.open_keys(
            records.secrets,
            kek_from_settings(settings.key_encryption_key_file, settings.key_encryption_key),
            now=_clock(),
            legacy=settings.var_path,  # an earlier release's key files, on the first run
            passphrase=passphrase_setting(settings.keys_passphrase_file),
        )
        if settings.adapter == "sandbox":
            seeded = await _seed_demo(records, Path(settings.demo_dir))
            if seeded:
                print(f"demo recipient {seeded[0]} {'registered' if seeded[1] else 'kept as is'}")
        else:
            print(f"no demo recipient: seeded only with adapter = sandbox, not {settings.adapter}")
    except (SchemaError, RecordsUnavailable, StateUnavailable) as exc:
        print(f"fdxgw: storage: {exc}", file=sys.stderr)
        return 2
    except (KeyFileError, KekError, keyring.KeyringError) as exc:
        print(f"fdxgw: keys: {exc}", file=sys.stderr)
        return 2
    finally:
        await records.aclose()
    print(f"storage ready at {display_url(settings.database_url)}")
    return 0


async def _migrate_subscriptions(settings: Settings) -> None:
    """The notification subscriptions' table, beside the records' (authz/subscriptions), and
    the consumer notices' (authz/notices)."""
    from authz.notices.store import open_notice_records
    from authz.subscriptions import open_subscriptions

    subscriptions = open_subscriptions(settings.database_url)
    try:
        await subscriptions.migrate()
    finally:
        await subscriptions.aclose()
    notices = open_notice_records(settings.database_url)
    try:
        await notices.migrate()
    finally:
        await notices.aclose()


async def _db(settings: Settings, action: str) -> int:
    """Migrate or check the schema alone: with many instances on one PostgreSQL, a deployment
    step migrates once, and every instance checks at start-up (create_app's lifespan)."""
    records = _open_records(settings)
    try:
        if action == "migrate":
            await records.schema.migrate()
            await _migrate_subscriptions(settings)
        await records.schema.check()
    except (SchemaError, RecordsUnavailable) as exc:
        print(f"fdxgw: storage: {exc}", file=sys.stderr)
        return 2
    finally:
        await records.aclose()
    print(f"schema current at {display_url(settings.database_url)}")
    return 0


def _open_records(settings: Settings, *, writes: bool = False) -> Records:
    """``writes``: the command changes what the FDX gate reads (a recipient's status), so it
    opens the state store too, whose stamps tell every gateway process (authz.store.stamped)."""
    state = open_state(settings.state_url, clock=time.time, prefix=settings.redis_prefix)
    records = open_records(
        settings.database_url,
        pool_min_size=min(settings.database_pool_min_size, 1),  # one command, one connection
        pool_max_size=settings.database_pool_max_size,
        timeout=settings.database_timeout,
        state=state if writes else None,
    )

    async def close() -> None:
        try:
            await records.aclose()
        finally:
            await state.aclose()

    return replace(records, closer=close)


async def _seed_demo(records: Records, demo: Path) -> tuple[str, bool] | None:
    """The demo recipient's client_id and whether it was registered now. One already stored is
    left as is: the bank may have suspended it, or it may have changed itself through DCR, and
    running init again must not undo either."""
    path = demo / "recipient.json"
    if not path.is_file():
        return None
    raw: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    known = {
        "client_id", "client_name", "redirect_uris", "jwks", "logo_uri", "client_uri",
        "description", "contacts", "clusters", "duration_types", "max_duration_period",
        "max_lookback_period", "notification_uri",
    }  # fmt: skip
    fields = {k: v for k, v in raw.items() if k in known}
    extra = {k: v for k, v in raw.items() if k not in known}
    client = ClientRecord.from_dict({**fields, "status": "approved", "extra": extra})
    if await records.clients.get(client.client_id) is not None:
        return client.client_id, False
    await records.clients.put(client)
    return client.client_id, True


def _audit_parser(sub: Any) -> None:
    audit = sub.add_parser("audit", help="verify, export or prune the audit trail")
    actions = audit.add_subparsers(dest="action", required=True)
    verify = actions.add_parser("verify", help="recompute the hash chain")
    verify.add_argument("--progress-every", type=int, default=100_000, metavar="N")
    export = actions.add_parser("export", help="links in [--from, --to] as JSON lines")
    export.add_argument("--from", dest="start", type=_date, required=True, metavar="YYYY-MM-DD")
    export.add_argument("--to", dest="end", type=_date, required=True, metavar="YYYY-MM-DD")
    export.add_argument("--out", type=Path, help="file to write (default: standard output)")
    actions.add_parser("prune", help="apply audit_retention_days")


def _date(text: str) -> float:
    try:
        day = datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected YYYY-MM-DD, got {text!r}") from None
    return day.timestamp()


async def _audit(settings: Settings, args: argparse.Namespace) -> int:
    from authz import trail

    records = _open_records(settings)
    try:
        await records.schema.check()
        if args.action == "verify":
            return await _verify(records, args.progress_every)
        if args.action == "export":
            # --to names a day, included whole: the range ends at the next midnight (UTC).
            end = args.end + 86400
            if end <= args.start:
                print("fdxgw: --to is before --from", file=sys.stderr)
                return 2
            return await _export(trail.export_range(records, args.start, end), args.out)
        pruned = await trail.prune(records, settings, _clock())
        print(f"pruned {pruned} links older than {settings.audit_retention_days} days")
        return 0
    except (SchemaError, RecordsUnavailable) as exc:
        print(f"fdxgw: storage: {exc}", file=sys.stderr)
        return 2
    finally:
        await records.aclose()


async def _verify(records: Records, every: int) -> int:
    from authz.trail import verify_chain

    shown = [0]

    def progress(count: int) -> None:
        if every > 0 and count // every > shown[0]:
            shown[0] = count // every
            print(f"  ... {count} links verified", file=sys.stderr, flush=True)

    result = await verify_chain(records, progress=progress)
    start = "the retention anchor" if result.anchored else "genesis"
    if result.broken is None:
        print(f"OK: {result.count} links verified from {start}; head {result.head}")
        return 0
    b = result.broken
    when = datetime.fromtimestamp(b.time, UTC).isoformat(timespec="seconds")
    print(
        f"BROKEN at seq {b.seq} ({b.kind}, {when}): {b.reason};"
        f" {result.count} links before it verified from {start}"
    )
    return 1


async def _export(lines: AsyncIterator[dict[str, Any]], out: Path | None) -> int:
    stream = out.open("wb") if out is not None else sys.stdout.buffer
    count = 0
    try:
        async for line in lines:
            stream.write(orjson.dumps(line) + b"\n")
            count += 1
    finally:
        if out is not None:
            stream.close()
        else:
            stream.flush()
    print(f"exported {count} links", file=sys.stderr)
    return 0


def _recipients_parser(sub: Any) -> None:
    recipients = sub.add_parser("recipients", help="list, approve, suspend or reinstate")
    recipients.add_argument("action", choices=["list", "approve", "suspend", "reinstate"])
    recipients.add_argument("client_id", nargs="?", help="the recipient (not for list)")
    recipients.add_argument("--reason", help="why (recorded with the change)")


async def _recipients(
    settings: Settings, action: str, client_id: str | None, reason: str | None
) -> int:
    """The bank's decisions (``authz.registration.recipients``), effective on the recipient's
    next request in every gateway process sharing the database."""
    records = _open_records(settings, writes=True)
    try:
        await records.schema.check()
        if action == "list":
            for client in await recipients.list_recipients(records):
                print(f"{client.client_id}\t{client.status}\t{client.client_name}")
            return 0
        assert client_id is not None
        changed = await recipients.change_status(
            records, client_id, action, now=time.time(), reason=reason
        )
    except (SchemaError, RecordsUnavailable, StateUnavailable) as exc:
        print(f"fdxgw: storage: {exc}", file=sys.stderr)
        return 2
    except recipients.RecipientError as exc:
        print(f"fdxgw: {exc}", file=sys.stderr)
        return 1
    finally:
        await records.aclose()
    print(f"{changed.client_id} is now {changed.status}")
    return 0


def _adapter_parser(sub: Any) -> None:
    adapter = sub.add_parser("adapter", help="prove a bank adapter with the conformance kit")
    actions = adapter.add_subparsers(dest="action", required=True)
    from adapters.conformance.cli import add_arguments

    add_arguments(actions.add_parser("check", help="run the conformance kit over NAME"))


def _adapter_check(settings: Settings, args: argparse.Namespace) -> int:
    from adapters.conformance.cli import run

    spec = {"FDX_OPENAPI": settings.openapi} if settings.openapi else {}
    return run(args, config_default=settings.adapter_config, environ=spec)


if __name__ == "__main__":
    sys.exit(main())
