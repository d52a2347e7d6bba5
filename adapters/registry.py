"""Adapters found by name: the built-in ones, installed packages' entry points, and composites.

``settings.adapter`` names what serves data (docs/adapters.md "Configure it")::

    sandbox                          one adapter, options from the [sandbox] table
    http                             the built-in HTTP core adapter, options from [http]
    acme                             an installed package's entry point in fdx_gateway.adapters
    deposits:http,cards:acme         a CompositeBank: label:name pairs, the first is the primary

Each adapter's options are the table named after its label in ``settings.adapter_config`` (a
TOML or JSON file); a composite reads its own options from the ``[composite]`` table.
"""

from __future__ import annotations

import importlib
import json
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from adapters.base import AdapterFactory, AdapterOptions, BankAdapter

ENTRY_POINT_GROUP = "fdx_gateway.adapters"
BUILT_IN = {"sandbox": "adapters.sandbox.factory:create", "http": "adapters.http:create"}
# Tables of the configuration file that are not adapters' own.
RESERVED = frozenset({"composite", "conformance"})
_NAME = re.compile(r"[a-z][a-z0-9_-]{0,39}")

Options = Mapping[str, AdapterOptions]


class AdapterConfigError(ValueError):
    """The adapter configuration names something unknown or malformed; the message says what."""


@dataclass(frozen=True, slots=True)
class Member:
    """One adapter of a deployment: ``label`` keys its options and ids, ``name`` its code."""

    label: str
    name: str


def parse_spec(spec: str) -> tuple[Member, ...]:
    """``"sandbox"`` or ``"deposits:http,cards:sandbox"`` → the members, primary first."""
    members: list[Member] = []
    for part in (p.strip() for p in spec.split(",")):
        label, _, name = part.rpartition(":")
        label = label or name
        if not _NAME.fullmatch(label) or not _NAME.fullmatch(name) or label in RESERVED:
            raise AdapterConfigError(
                f"adapter: {part!r} is not NAME or LABEL:NAME (lower-case letters, digits, - _)"
            )
        members.append(Member(label, name))
    labels = [m.label for m in members]
    if len(set(labels)) != len(labels):
        raise AdapterConfigError(f"adapter: labels must be unique, got {','.join(labels)}")
    return tuple(members)


def read_options(path: str | Path) -> dict[str, dict[str, Any]]:
    """The adapter configuration file: a table per adapter label (TOML, or JSON by extension)."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
        raw: Any = json.loads(text) if file.suffix == ".json" else tomllib.loads(text)
    except (OSError, ValueError) as exc:
        raise AdapterConfigError(f"adapter_config: cannot read {file} ({exc})") from exc
    if not isinstance(raw, dict) or not all(isinstance(v, dict) for v in raw.values()):
        raise AdapterConfigError(f"adapter_config: {file} must hold one table per adapter label")
    return raw


def find_factory(name: str) -> AdapterFactory:
    """A built-in adapter, else the one entry point of that name in ``fdx_gateway.adapters``."""
    if name in BUILT_IN:
        return _import(BUILT_IN[name])
    found = list(entry_points(group=ENTRY_POINT_GROUP, name=name))
    if not found:
        known = sorted({*BUILT_IN, *(e.name for e in entry_points(group=ENTRY_POINT_GROUP))})
        raise AdapterConfigError(f"adapter: unknown bank adapter {name!r} (known: {known})")
    if len({e.value for e in found}) > 1:
        raise AdapterConfigError(f"adapter: several installed packages provide {name!r}")
    try:
        factory: Any = found[0].load()
    except Exception as exc:
        raise AdapterConfigError(f"adapter: cannot load {name!r} ({exc})") from exc
    if not callable(factory):
        raise AdapterConfigError(f"adapter: entry point {name!r} is not callable")
    return factory  # type: ignore[no-any-return]


def load_adapter(spec: str, config: str | Path | Options | None = None) -> BankAdapter:
    """The adapter (or ``CompositeBank``) ``spec`` names, built from ``config``: a path to the
    adapter configuration file, its parsed tables, or None for no options."""
    members = parse_spec(spec)
    options: Options = {}
    if isinstance(config, str | Path):
        options = read_options(config) if str(config) else {}
    elif config is not None:
        options = config
    built: dict[str, BankAdapter] = {}
    for member in members:
        built[member.label] = _build(member, options.get(member.label, {}))
    if len(members) == 1:
        return built[members[0].label]
    from adapters.composite import CompositeBank

    return CompositeBank.from_options(built, members[0].label, options.get("composite", {}))


def _build(member: Member, options: AdapterOptions) -> BankAdapter:
    factory = find_factory(member.name)
    try:
        adapter = factory(options)
    except AdapterConfigError:
        raise
    except (TypeError, ValueError, KeyError, OSError) as exc:
        raise AdapterConfigError(f"adapter {member.label}: {exc}") from exc
    if not isinstance(adapter, BankAdapter):
        raise AdapterConfigError(f"adapter {member.label}: {member.name!r} is not a BankAdapter")
    return adapter


def _import(target: str) -> AdapterFactory:
    module, _, attribute = target.partition(":")
    factory: AdapterFactory = getattr(importlib.import_module(module), attribute)
    return factory
