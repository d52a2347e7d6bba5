"""The cluster policy: one file for the screen, the token scopes, the gate and the projection."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.policy import PolicyError, load_policy

REQUIRED = (
    "ACCOUNT_BASIC", "ACCOUNT_DETAILED", "TRANSACTIONS", "STATEMENTS", "CUSTOMER_CONTACT",
    "CUSTOMER_PERSONAL", "PAYMENT_SUPPORT", "INVESTMENTS",
)  # fmt: skip


def test_every_required_cluster_is_served_with_its_fdx_scope() -> None:
    """Scopes follow fdx:<cluster lowercased, no underscores>:read (docs/fdx.md §4)."""
    policy = load_policy()

    for name in REQUIRED:
        assert f"fdx:{name.lower().replace('_', '')}:read" == policy.scope_for(name)
        assert name == policy.cluster_for_scope(policy.scope_for(name))


def test_every_cluster_speaks_english_and_japanese() -> None:
    """The consent screen never falls back to a missing translation."""
    policy = load_policy()

    for cluster in policy.clusters.values():
        for lang in ("en", "ja"):
            text = cluster.wording(lang)
            assert text.title
            assert text.summary
            assert text.releases


def test_account_numbers_leave_only_through_payment_networks() -> None:
    """No cluster releases accountNumber on accounts (docs/fdx.md §8.16)."""
    policy = load_policy()
    every = set(policy.clusters)

    assert "accountNumber" not in policy.allowed_fields("account", every)
    assert "routingTransitNumber" not in policy.allowed_fields("account", every)
    assert "identifier" in policy.allowed_fields("payment_network", {"PAYMENT_SUPPORT"})


def test_allowed_fields_are_the_union_of_the_clusters() -> None:
    """Basic alone carries no balance; adding detailed adds it."""
    policy = load_policy()

    assert "currentBalance" not in policy.allowed_fields("account", {"ACCOUNT_BASIC"})
    assert "currentBalance" in policy.allowed_fields(
        "account", {"ACCOUNT_BASIC", "ACCOUNT_DETAILED"}
    )
    assert frozenset() == policy.allowed_fields("account", {"NO_SUCH_CLUSTER"})


def test_endpoints_map_to_the_clusters_that_open_them() -> None:
    """The gate asks which clusters open an endpoint."""
    policy = load_policy()

    assert {"TRANSACTIONS"} == policy.clusters_for_endpoint(
        "GET /accounts/{accountId}/transactions"
    )
    assert {"CUSTOMER_CONTACT", "CUSTOMER_PERSONAL"} == policy.clusters_for_endpoint(
        "GET /customers/current"
    )
    assert frozenset() == policy.clusters_for_endpoint("GET /nowhere")


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('[clusters.TRANSACTIONS]\nscope = "fdx:tx:read"\n', "scope"),
        ("[clusters.X]\n", "scope"),
        ("nothing = 1\n", "no \\[clusters"),
        ("[clusters.TRANSACTIONS\n", "cannot read"),
    ],
    ids=["wrong-scope", "empty-cluster", "no-clusters", "bad-toml"],
)
def test_a_malformed_policy_is_refused_naming_the_place(
    tmp_path: Path, toml: str, message: str
) -> None:
    """A broken policy file stops start-up instead of serving the wrong fields."""
    path = tmp_path / "clusters.toml"
    path.write_text(toml, encoding="utf-8")

    with pytest.raises(PolicyError, match=message):
        load_policy(path)
