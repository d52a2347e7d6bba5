"""The data-cluster policy (``config/clusters.toml``) loaded into frozen values.

One object answers every policy question: which scope names a cluster, which clusters open an
endpoint, which JSON fields a set of clusters releases, and what the consent screen says.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType

from config import locale

POLICY_FILE = Path(__file__).with_name("clusters.toml")
OBJECTS = frozenset(
    {
        "account",
        "transaction",
        "statement",
        "contact",
        "holder",
        "payment_network",
        "customer",
        "payment",
        "recurring_payment",
        "reward_program",
        "reward_category",
        "tax_statement",
        "asset_transfer_network",
    }
)
_ENDPOINT = re.compile(r"^(GET|POST|PUT|DELETE) /[A-Za-z0-9/{}_-]*$")


class PolicyError(Exception):
    """clusters.toml is malformed; the message names the cluster and key."""


@dataclass(frozen=True, slots=True)
class ClusterText:
    title: str
    summary: str
    releases: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Cluster:
    name: str
    scope: str
    endpoints: frozenset[str]
    fields: Mapping[str, frozenset[str]]
    text: Mapping[str, ClusterText]

    def wording(self, lang: str) -> ClusterText:
        """The cluster in ``lang``: from this file, else from the language's gettext catalog
        (``config.locale``), else in English."""
        if lang in self.text:
            return self.text[lang]
        return _from_catalog(self.name, lang) or self.text["en"]


def _from_catalog(name: str, lang: str) -> ClusterText | None:
    messages = locale.catalog(lang)
    key = f"cluster.{name}."
    title, summary = messages.get(key + "title"), messages.get(key + "summary")
    if title is None or summary is None:
        return None
    releases = tuple(r for r in messages.get(key + "releases", "").split("\n") if r)
    return ClusterText(title=title, summary=summary, releases=releases)


@dataclass(frozen=True, slots=True, eq=False)  # identity hash: the lru_cache key below
class Policy:
    clusters: Mapping[str, Cluster]
    _by_scope: Mapping[str, str] = field(repr=False)
    _by_endpoint: Mapping[str, frozenset[str]] = field(repr=False)
    # Clusters the file defines but the bank's adapter cannot serve (``served_by``): unknown
    # to every question above, so never offered, granted or opened.
    withheld: frozenset[str] = frozenset()

    def served_by(self, withheld: Iterable[str]) -> Policy:
        """This policy without the ``withheld`` clusters (adapters/capability.py)."""
        gone = frozenset(withheld) & frozenset(self.clusters)
        if not gone:
            return self
        return _indexed(
            {n: c for n, c in self.clusters.items() if n not in gone}, self.withheld | gone
        )

    def cluster_for_scope(self, scope: str) -> str | None:
        return self._by_scope.get(scope)

    def scope_for(self, cluster: str) -> str:
        return self.clusters[cluster].scope

    def scopes_for(self, clusters: Iterable[str]) -> list[str]:
        """Scopes for the clusters, in policy-file order (stable token ``scope`` strings)."""
        wanted = set(clusters)
        return [c.scope for name, c in self.clusters.items() if name in wanted]

    def clusters_for_endpoint(self, endpoint: str) -> frozenset[str]:
        """Clusters any one of which opens ``endpoint`` (e.g. ``"GET /accounts/{accountId}"``)."""
        return self._by_endpoint.get(endpoint, frozenset())

    def allowed_fields(self, obj: str, clusters: Iterable[str]) -> frozenset[str]:
        """The union of ``obj`` fields released by ``clusters``: nothing else may leave."""
        return _allowed(self, obj, frozenset(clusters))

    def ordered(self, clusters: Iterable[str]) -> list[Cluster]:
        wanted = set(clusters)
        return [c for name, c in self.clusters.items() if name in wanted]


@lru_cache(maxsize=4096)
def _allowed(policy: Policy, obj: str, clusters: frozenset[str]) -> frozenset[str]:
    out: set[str] = set()
    for name in clusters:
        cluster = policy.clusters.get(name)
        if cluster is not None:
            out |= cluster.fields.get(obj, frozenset())
    return frozenset(out)


def load_policy(path: Path = POLICY_FILE) -> Policy:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise PolicyError(f"{path}: cannot read policy ({exc})") from exc
    table = raw.get("clusters")
    if not isinstance(table, dict) or not table:
        raise PolicyError(f"{path}: no [clusters.*] tables")
    return _indexed({name: _cluster(name, body) for name, body in table.items()})


def _indexed(clusters: dict[str, Cluster], withheld: frozenset[str] = frozenset()) -> Policy:
    by_scope: dict[str, str] = {}
    by_endpoint: dict[str, set[str]] = {}
    for c in clusters.values():
        if c.scope in by_scope:
            raise PolicyError(f"clusters.{c.name}.scope: {c.scope} is also {by_scope[c.scope]}'s")
        by_scope[c.scope] = c.name
        for ep in c.endpoints:
            by_endpoint.setdefault(ep, set()).add(c.name)
    return Policy(
        clusters=MappingProxyType(clusters),
        _by_scope=MappingProxyType(by_scope),
        _by_endpoint=MappingProxyType({k: frozenset(v) for k, v in by_endpoint.items()}),
        withheld=withheld,
    )


def _cluster(name: str, body: object) -> Cluster:
    where = f"clusters.{name}"
    if not isinstance(body, dict):
        raise PolicyError(f"{where}: must be a table")
    if not re.fullmatch(r"[A-Z][A-Z_]*", name):
        raise PolicyError(f"{where}: cluster names are FDX enum values (A-Z and _)")
    expected_scope = f"fdx:{name.lower().replace('_', '')}:read"
    scope = body.get("scope")
    if scope != expected_scope:
        raise PolicyError(f"{where}.scope: expected {expected_scope!r}, got {scope!r}")
    endpoints = body.get("endpoints")
    if not isinstance(endpoints, list) or not endpoints:
        raise PolicyError(f"{where}.endpoints: a non-empty list of 'GET /path' strings")
    for ep in endpoints:
        if not isinstance(ep, str) or not _ENDPOINT.match(ep):
            raise PolicyError(f"{where}.endpoints: {ep!r} is not 'METHOD /path'")
    fields = body.get("fields")
    # An empty table is a cluster that releases documents only (IMAGES): no JSON fields.
    if not isinstance(fields, dict):
        raise PolicyError(f"{where}.fields: a table of each object's field list")
    for obj, names in fields.items():
        if obj not in OBJECTS:
            raise PolicyError(f"{where}.fields.{obj}: unknown object (known: {sorted(OBJECTS)})")
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise PolicyError(f"{where}.fields.{obj}: a list of field names")
    text = body.get("text")
    if not isinstance(text, dict) or "en" not in text or "ja" not in text:
        raise PolicyError(f"{where}.text: needs both text.en and text.ja")
    wording: dict[str, ClusterText] = {}
    for lang, t in text.items():
        try:
            wording[lang] = ClusterText(str(t["title"]), str(t["summary"]), tuple(t["releases"]))
        except (KeyError, TypeError):
            raise PolicyError(f"{where}.text.{lang}: needs title, summary and releases") from None
    return Cluster(
        name=name,
        scope=scope,
        endpoints=frozenset(endpoints),
        fields=MappingProxyType({k: frozenset(v) for k, v in fields.items()}),
        text=MappingProxyType(wording),
    )
