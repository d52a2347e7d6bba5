"""``fdxgw adapter check NAME`` and ``python -m adapters.conformance NAME``: run the kit, print
the report, exit 0 when every check passed (or was skipped), 1 when one failed, 2 when the
adapter cannot even be built."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any, TextIO

from adapters.conformance.checks import CHECKS, Probe
from adapters.conformance.report import Report
from adapters.conformance.runner import run_checks
from adapters.conformance.schemas import find_spec
from adapters.registry import AdapterConfigError, load_adapter, parse_spec, read_options

# The sandbox's published demo logins (config/demo/consumers.json): the default probe there.
SANDBOX_PROBE = Probe("alice", "sandbox-alice", "bob", "sandbox-bob")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", help="adapter: sandbox, http, an installed one, or LABEL:NAME,…")
    parser.add_argument("--config", help="adapter configuration file (default: adapter_config)")
    parser.add_argument("--username", help="a test customer's login at the bank")
    parser.add_argument("--password-file", type=Path, help="file holding that login's password")
    parser.add_argument("--other-username", help="a second test customer (isolation check)")
    parser.add_argument("--other-password-file", type=Path)
    parser.add_argument(
        "--spec", help="FDX 6.2 OpenAPI JSON (default: $FDX_OPENAPI, else shared/fdx/ beside us)"
    )
    parser.add_argument("--only", help=f"comma-separated checks of: {', '.join(CHECKS)}")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")


def run(
    args: argparse.Namespace,
    *,
    config_default: str = "",
    environ: Mapping[str, str] | None = None,
    out: TextIO | None = None,
) -> int:
    config = args.config if args.config is not None else config_default
    try:
        options: dict[str, Any] = read_options(config) if config else {}
        probe = _probe(args, options)
        adapter = load_adapter(args.name, options)
        only = args.only.split(",") if args.only else None
        if only is not None and not set(only) <= set(CHECKS):
            raise AdapterConfigError(f"--only: known checks are {', '.join(CHECKS)}")
    except (AdapterConfigError, OSError) as exc:
        print(f"adapter check: {exc}", file=sys.stderr)
        return 2
    spec = find_spec(args.spec, environ)
    report = asyncio.run(_run(adapter, probe, spec, only))
    text = json.dumps(asdict(report), indent=2, default=str) if args.json else report.render()
    print(text, file=out or sys.stdout)
    return 0 if report.passed else 1


async def _run(adapter: Any, probe: Probe, spec: Path | None, only: Sequence[str] | None) -> Report:
    try:
        return await run_checks(adapter, probe, spec=spec, only=only)
    finally:
        await adapter.aclose()


def _probe(args: argparse.Namespace, options: Mapping[str, Any]) -> Probe:
    table: Mapping[str, Any] = options.get("conformance", {})
    username = args.username or table.get("username")
    if args.password_file is not None:
        password = args.password_file.read_text(encoding="utf-8").strip()
    else:
        password = table.get("password")
    other = args.other_username or table.get("other_username")
    if args.other_password_file is not None:
        other_password = args.other_password_file.read_text(encoding="utf-8").strip()
    else:
        other_password = table.get("other_password")
    if username is None and all(m.name == "sandbox" for m in parse_spec(args.name)):
        return SANDBOX_PROBE
    if not username or not password:
        raise AdapterConfigError(
            "a test login is needed: --username and --password-file, or [conformance] "
            "username/password in the adapter configuration"
        )
    return Probe(str(username), str(password), other, other_password)


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m adapters.conformance", description="FDX adapter conformance kit"
    )
    add_arguments(parser)
    return run(parser.parse_args(argv), environ=environ)
