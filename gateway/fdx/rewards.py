"""REWARDS: ``GET /reward-programs``, ``GET /reward-programs/{rewardProgramId}`` and
``GET /reward-programs/{rewardProgramId}/categories`` (FDX searchRewardPrograms,
getRewardProgram, getRewardProgramCategories): the rewards terms of 12 CFR 1033.211(d).

REWARDS on a consented account opens the programs (403/602 without), but only a program with
a membership on at least one consented REWARDS account exists for the recipient: any other is
left out of the list and answers ``/{id}`` and ``/{id}/categories`` as an unknown id does
(404/1101), so a consent on checking does not reveal the card's program or that it exists.
What a membership says about accounts is narrowed to the consent: ``accountIds`` keeps only
consented accounts with REWARDS, a membership left with none is dropped, ``customerId`` is
the token's pairwise subject, never the bank's own id (as for ``/customers/current``), and the
bank's internal ``memberId`` is left out for the same reason (the membership number the
consumer knows, ``memberNumber``, stays: the consent screen names it).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from starlette.routing import Route

from adapters import capability
from adapters.base import RewardProgram
from adapters.errors import RewardProgramNotFound
from authz.services import Services
from gateway.audit import AuditLog
from gateway.fdx.endpoint import Call, Served, fdx_route
from gateway.pagination import envelope, page_request
from gateway.projection import project, project_all
from gateway.responses import fdx_json

LIST = "GET /reward-programs"
ONE = "GET /reward-programs/{rewardProgramId}"
CATEGORIES = "GET /reward-programs/{rewardProgramId}/categories"


async def list_programs(call: Call) -> Served:
    accounts, clusters = call.customer_scope()
    bank = capability.rewards(call.services.bank)
    paging = page_request(call.query, call.services.settings)
    page = await bank.list_reward_programs(call.ctx.customer_id, paging)
    allowed = call.services.policy.allowed_fields("reward_program", clusters)
    shown = [p for p in page.items if _consented(p, accounts)]
    if len(shown) != len(page.items):
        # Left out after the adapter's page: its total counted the hidden programs too.
        page = replace(page, total=None)
    items = [_narrowed(project(p, allowed), accounts, call.ctx.claims.sub) for p in shown]
    body = envelope(call.request, page, "rewardPrograms", items)
    return Served(fdx_json(body), accounts, clusters, len(items))


async def get_program(call: Call) -> Served:
    accounts, clusters = call.customer_scope()
    bank = capability.rewards(call.services.bank)
    found = await bank.get_reward_program(call.ctx.customer_id, call.path["rewardProgramId"])
    if not _consented(found, accounts):
        raise RewardProgramNotFound("no membership on a consented account")
    allowed = call.services.policy.allowed_fields("reward_program", clusters)
    body = _narrowed(project(found, allowed), accounts, call.ctx.claims.sub)
    return Served(fdx_json(body), accounts, clusters, 1)


async def list_categories(call: Call) -> Served:
    accounts, clusters = call.customer_scope()
    bank = capability.rewards(call.services.bank)
    paging = page_request(call.query, call.services.settings)
    program_id = call.path["rewardProgramId"]
    program = await bank.get_reward_program(call.ctx.customer_id, program_id)
    if not _consented(program, accounts):
        raise RewardProgramNotFound("no membership on a consented account")
    page = await bank.list_reward_categories(call.ctx.customer_id, program_id, paging)
    allowed = call.services.policy.allowed_fields("reward_category", clusters)
    items = project_all(page.items, allowed)
    body = envelope(call.request, page, "rewardCategories", items)
    return Served(fdx_json(body), accounts, clusters, len(items))


def _consented(program: RewardProgram, accounts: tuple[str, ...]) -> bool:
    """Whether a membership of the program lists a consented account (read before projection:
    the membership decides whether the program exists for the recipient, shown or not)."""
    consented = set(accounts)
    memberships = program.get("memberships")
    if not isinstance(memberships, list):
        return False
    return any(
        isinstance(m, dict) and not consented.isdisjoint(_ids(m.get("accountIds")))
        for m in memberships
    )


def _ids(raw: Any) -> list[str]:
    return [a for a in raw if isinstance(a, str)] if isinstance(raw, list) else []


def _narrowed(program: dict[str, Any], accounts: tuple[str, ...], sub: str) -> dict[str, Any]:
    memberships = program.get("memberships")
    if not isinstance(memberships, list):
        return program
    consented = set(accounts)
    kept = []
    for membership in memberships:
        if not isinstance(membership, dict):
            continue
        ids = [a for a in membership.get("accountIds", ()) if a in consented]
        if not ids:
            continue
        narrowed = {k: v for k, v in membership.items() if k != "memberId"}
        narrowed["accountIds"] = ids
        if "customerId" in narrowed:
            narrowed["customerId"] = sub  # OIDC Core §8.1: pairwise, as /customers/current
        kept.append(narrowed)
    return {**program, "memberships": kept}


def routes(services: Services, audit: AuditLog) -> list[Route]:
    path = "/reward-programs"
    return [
        fdx_route(path, LIST, list_programs, services, audit),
        fdx_route(path + "/{rewardProgramId}", ONE, get_program, services, audit),
        fdx_route(
            path + "/{rewardProgramId}/categories", CATEGORIES, list_categories, services, audit
        ),
    ]
