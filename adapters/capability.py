"""Which optional categories an adapter serves, read once at start-up.

The core (accounts, transactions, statements, contact, payment networks, customer) is the
``BankAdapter`` Protocol itself. The rest is optional: an adapter serves a category by
implementing its Protocol (``adapters.base.BillsSource`` …), or states what it serves with a
``categories`` attribute, a frozenset of the names below. Wrappers (a proxy, the fault injector,
the composite) state it for what they wrap, since they carry every method whatever is behind.

The gateway turns the answer into policy (``config.policy.Policy.served_by``): a cluster whose
category is missing is never offered on the consent screen, is refused at PAR with
``invalid_authorization_details``, and is absent from ``/capability``.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from adapters.base import (
    BillsSource,
    ImagesSource,
    RewardsSource,
    TaxFormsSource,
    TransferNetworksSource,
)
from adapters.errors import CategoryNotServed

BILLS, REWARDS, IMAGES, TAX, TRANSFER_NETWORKS = (
    "bills",
    "rewards",
    "images",
    "tax",
    "transfer_networks",
)
PROTOCOLS: Mapping[str, type[Any]] = MappingProxyType(
    {
        BILLS: BillsSource,
        REWARDS: RewardsSource,
        IMAGES: ImagesSource,
        TAX: TaxFormsSource,
        TRANSFER_NETWORKS: TransferNetworksSource,
    }
)
ALL = frozenset(PROTOCOLS)
# The FDX data cluster each category is: without the category the cluster cannot be served.
# Transfer networks are one endpoint of PAYMENT_SUPPORT, which the core serves: without them
# that endpoint answers 501/1106 and the cluster stays.
CLUSTERS: Mapping[str, str] = MappingProxyType(
    {BILLS: "BILLS", REWARDS: "REWARDS", IMAGES: "IMAGES", TAX: "TAX"}
)


def categories(bank: object) -> frozenset[str]:
    """The optional categories ``bank`` serves: its ``categories`` if it says, else those
    whose Protocol it implements."""
    declared = getattr(bank, "categories", None)
    if isinstance(declared, frozenset):
        return declared & ALL
    return frozenset(name for name, proto in PROTOCOLS.items() if isinstance(bank, proto))


def withheld_clusters(bank: object) -> frozenset[str]:
    """The data clusters ``bank`` cannot serve."""
    served = categories(bank)
    return frozenset(cluster for name, cluster in CLUSTERS.items() if name not in served)


# ``bank`` as the category's Protocol, or ``CategoryNotServed`` (501/1106) if it does not serve
# it: what the gateway's handlers call before the adapter.


def bills(bank: object) -> BillsSource:
    if BILLS in categories(bank) and isinstance(bank, BillsSource):
        return bank
    raise CategoryNotServed(f"the adapter does not serve {BILLS}")


def rewards(bank: object) -> RewardsSource:
    if REWARDS in categories(bank) and isinstance(bank, RewardsSource):
        return bank
    raise CategoryNotServed(f"the adapter does not serve {REWARDS}")


def images(bank: object) -> ImagesSource:
    if IMAGES in categories(bank) and isinstance(bank, ImagesSource):
        return bank
    raise CategoryNotServed(f"the adapter does not serve {IMAGES}")


def tax_forms(bank: object) -> TaxFormsSource:
    if TAX in categories(bank) and isinstance(bank, TaxFormsSource):
        return bank
    raise CategoryNotServed(f"the adapter does not serve {TAX}")


def transfer_networks(bank: object) -> TransferNetworksSource:
    if TRANSFER_NETWORKS in categories(bank) and isinstance(bank, TransferNetworksSource):
        return bank
    raise CategoryNotServed(f"the adapter does not serve {TRANSFER_NETWORKS}")


__all__ = [
    "ALL",
    "BILLS",
    "CLUSTERS",
    "IMAGES",
    "PROTOCOLS",
    "REWARDS",
    "TAX",
    "TRANSFER_NETWORKS",
    "bills",
    "categories",
    "images",
    "rewards",
    "tax_forms",
    "transfer_networks",
    "withheld_clusters",
]
