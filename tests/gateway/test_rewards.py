"""REWARDS: the rewards card's program, its balances and earning categories."""

from __future__ import annotations

from tests.gateway.conftest import assert_fdx_error


def test_the_rewards_program_is_listed_with_the_cards_membership(alice, fdx_validate):
    """REWARDS on the card: its program, membership on the card, cash back balance."""
    token = alice.grant({"CREDITCARD": ["REWARDS"]})

    response = alice.h.get("/fdx/v6/reward-programs", token)

    assert 200 == response.status_code
    fdx_validate(response.json(), "RewardProgramsentity")
    [program] = response.json()["rewardPrograms"]
    [membership] = program["memberships"]
    assert [alice.accounts["CREDITCARD"]] == membership["accountIds"]
    assert "CASHBACK" == membership["balances"][0]["type"]
    assert "pairwise-sub" == membership["customerId"]  # never the bank's own customer id
    assert "memberId" not in membership  # the bank's internal id: correlatable, not consented
    assert membership["memberNumber"]


def test_one_program_and_its_categories(alice, fdx_validate):
    """By id: the program, then its categories with their multipliers."""
    token = alice.grant({"CREDITCARD": ["REWARDS"]})
    program_id = alice.record.reward_program["rewardProgramId"]

    one = alice.h.get(f"/fdx/v6/reward-programs/{program_id}", token)
    categories = alice.h.get(f"/fdx/v6/reward-programs/{program_id}/categories", token)

    fdx_validate(one.json(), "RewardProgramentity")
    fdx_validate(categories.json(), "RewardCategoriesentity")
    assert program_id == one.json()["rewardProgramId"]
    listed = categories.json()["rewardCategories"]
    multipliers = {c["categoryName"]: c["multiplier"] for c in listed}
    assert 3.0 == multipliers["Dining"]


def test_a_program_without_a_consented_membership_does_not_exist(alice, fdx_validate):
    """REWARDS granted on checking only, the card merely ACCOUNT_BASIC: the card's program is
    neither listed nor readable, by id or through its categories, as if it were unknown."""
    token = alice.grant({"CHECKING": ["REWARDS"], "CREDITCARD": ["ACCOUNT_BASIC"]})
    program_id = alice.record.reward_program["rewardProgramId"]

    listed = alice.h.get("/fdx/v6/reward-programs", token)
    one = alice.h.get(f"/fdx/v6/reward-programs/{program_id}", token)
    categories = alice.h.get(f"/fdx/v6/reward-programs/{program_id}/categories", token)

    assert 200 == listed.status_code
    fdx_validate(listed.json(), "RewardProgramsentity")
    assert [] == listed.json()["rewardPrograms"]
    assert "totalElements" not in listed.json()["page"]
    assert_fdx_error(one, 404, "1101", fdx_validate)
    assert_fdx_error(categories, 404, "1101", fdx_validate)


def test_an_unknown_program_is_1101(alice, fdx_validate):
    """FDX 1101 'Reward program Id not found' for the program and for its categories."""
    token = alice.grant({"CREDITCARD": ["REWARDS"]})

    one = alice.h.get("/fdx/v6/reward-programs/rwd_nope", token)
    categories = alice.h.get("/fdx/v6/reward-programs/rwd_nope/categories", token)

    assert_fdx_error(one, 404, "1101", fdx_validate)
    assert_fdx_error(categories, 404, "1101", fdx_validate)


def test_rewards_need_the_rewards_cluster(alice, fdx_validate):
    """ACCOUNT_DETAILED shows rewardProgramId on the card, but the program needs REWARDS."""
    token = alice.grant({"CREDITCARD": ["ACCOUNT_DETAILED"]})
    program_id = alice.record.reward_program["rewardProgramId"]

    card = alice.h.get(f"/fdx/v6/accounts/{alice.accounts['CREDITCARD']}", token).json()
    response = alice.h.get(f"/fdx/v6/reward-programs/{program_id}", token)

    assert program_id == card["rewardProgramId"]
    assert_fdx_error(response, 403, "602", fdx_validate)
