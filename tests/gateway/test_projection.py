"""project keeps only the released top-level fields."""

from __future__ import annotations

from typing import Any

from gateway.projection import project, project_all, project_contact


def test_project_drops_fields_not_allowed():
    """Only the allowed keys survive, in a new dict; the input is untouched."""
    obj = {"a": 1, "b": 2, "accountNumber": "123"}

    out = project(obj, frozenset({"a", "b"}))

    assert {"a": 1, "b": 2} == out
    assert "accountNumber" in obj


def test_project_returns_the_object_itself_when_nothing_is_dropped():
    """The hot path allocates nothing."""
    obj = {"a": 1}

    assert project(obj, frozenset({"a", "b"})) is obj


def test_contact_holders_are_projected_with_holder_fields():
    """holders[] items follow the holder field list, not the contact's."""
    holder = {"name": "A", "taxId": "1"}
    contact = {"holders": [holder], "emails": ["e"], "secret": 1}

    out = project_contact(contact, frozenset({"holders", "emails"}), frozenset({"name"}))

    assert {"holders": [{"name": "A"}], "emails": ["e"]} == out
    assert {"name": "A", "taxId": "1"} == holder


def test_a_page_is_projected_as_a_whole_or_item_by_item():
    """A page with nothing to drop passes through; one stray field is dropped from its item only."""
    clean: list[dict[str, Any]] = [{"a": 1}, {"b": 2}]
    mixed: list[dict[str, Any]] = [{"a": 1}, {"a": 2, "accountNumber": "123"}]
    allowed = frozenset({"a", "b"})

    assert clean == project_all(clean, allowed)
    assert all(x is y for x, y in zip(project_all(clean, allowed), clean, strict=True))
    assert [{"a": 1}, {"a": 2}] == project_all(mixed, allowed)
    assert [] == project_all([], allowed)
