"""x-fapi-interaction-id: echoed when sane, generated otherwise, on every response."""

from __future__ import annotations

import uuid

import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from gateway.middleware import InteractionIdMiddleware, new_interaction_id


def test_a_sane_interaction_id_is_echoed(h):
    """The client's id comes back unchanged."""
    _, token = h.grant()

    response = h.get("/fdx/v6/accounts", token, headers={"x-fapi-interaction-id": "c0ffee-42"})

    assert "c0ffee-42" == response.headers["x-fapi-interaction-id"]


def test_a_missing_interaction_id_is_generated(h):
    """Without one, the response carries a fresh UUID."""
    response = h.get("/fdx/v6/accounts", None)

    assert 4 == uuid.UUID(response.headers["x-fapi-interaction-id"]).version


@pytest.mark.parametrize(
    "value", ["a" * 65, "bad id", "x;y", ""], ids=["long", "space", "semicolon", "empty"]
)
def test_an_unsafe_interaction_id_is_replaced(h, value):
    """Ids that could inject into logs are not echoed."""
    response = h.get("/fdx/v6/accounts", None, headers={"x-fapi-interaction-id": value})

    assert value != response.headers["x-fapi-interaction-id"]
    uuid.UUID(response.headers["x-fapi-interaction-id"])


def test_the_id_reaches_the_app_and_every_path():
    """The middleware serves any path, and the app reads the id from the scope."""

    async def echo(request: Request) -> PlainTextResponse:
        return PlainTextResponse(request.scope["fdx.interaction_id"] + request.state.interaction_id)

    app = Starlette(
        routes=[Route("/oauth/x", echo)], middleware=[Middleware(InteractionIdMiddleware)]
    )
    with TestClient(app) as client:
        response = client.get("/oauth/x", headers={"x-fapi-interaction-id": "id-1"})

    assert "id-1id-1" == response.text
    assert "id-1" == response.headers["x-fapi-interaction-id"]


def test_a_made_up_interaction_id_is_a_random_uuid4():
    """The id made for a request without one reads as str(uuid.uuid4()) does, and differs."""
    made = [new_interaction_id() for _ in range(100)]

    assert all(str(uuid.UUID(m)) == m and 4 == uuid.UUID(m).version for m in made)
    assert all(uuid.RFC_4122 == uuid.UUID(m).variant for m in made)
    assert 100 == len(set(made))
