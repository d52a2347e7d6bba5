"""The hash chain's format: a link's hash is SHA-256 of the previous hash and the canonical JSON
of the entry, and the fast paths build exactly the links the plain definition gives."""

from __future__ import annotations

import hashlib

import orjson
import pytest

from authz.store import chain
from authz.store.base import AuditEvent

ITEMS: list[chain.Item] = [
    (1_780_000_000.25, chain.DATA_ACCESS, chain.canonical({"id": "a1", "n": 1})),
    (1_780_000_001.0, chain.CONSENT_EVENT, chain.canonical({"consent_id": "c", "v": 2})),
    (1e16, "some_future_kind", chain.canonical({"é": "\u2028"})),
]


def _by_definition(prev: str, seq: int, time: float, kind: str, record: str) -> str:
    entry = {"kind": kind, "record": orjson.loads(record), "seq": seq, "time": time}
    # canonical JSON of the record is spliced verbatim, so re-encoding it must give it back
    body = chain.canonical(entry).replace(chain.canonical(orjson.loads(record)), record)
    return hashlib.sha256((prev + body).encode()).hexdigest()


@pytest.mark.parametrize("item", ITEMS, ids=["data-access", "consent-event", "other-kind"])
def test_a_link_hash_is_sha256_of_the_previous_hash_and_the_canonical_entry(item):
    """The documented formula, for each kind (the known ones are pre-encoded)."""
    time, kind, record = item

    assert _by_definition(chain.GENESIS, 7, time, kind, record) == chain.link_hash(
        chain.GENESIS, 7, time, kind, record
    )


def test_link_rows_are_the_links_as_stored_columns():
    """link_rows gives link's entries, field for field, chained from the given link."""
    expected = [
        (t.seq, t.time, t.kind, t.record, t.prev_hash, t.hash)
        for t in chain.link(41, "ab" * 32, ITEMS)
    ]

    actual = chain.link_rows(41, "ab" * 32, ITEMS)

    assert expected == actual
    assert [42, 43, 44] == [row[0] for row in actual]
    assert actual[1][4] == actual[0][5]


def test_an_access_item_is_the_canonical_event():
    """What the trail stores for a data access: every field of the event, keys sorted."""
    event = AuditEvent(
        "a1", 5.5, "c1", "cl1", "cu1", "GET /accounts", ("x",), ("B", "A"), 3, 200, "i"
    )

    time, kind, record = chain.access_item(event)

    assert (5.5, "data_access") == (time, kind)
    assert {"id": "a1", "clusters": ["B", "A"], "status": 200}.items() <= orjson.loads(
        record
    ).items()
