"""The rewards card's program (FDX RewardProgram) and its earning categories.

Cash back is earned on posted card purchases at each category's multiplier of the base 1 %;
whole multiples of $25 are redeemed as statement credits once a year, so a balance, the year's
accruals and the year's redemptions all follow from the card's own transactions.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from adapters.sandbox.book import opaque_id

PROGRAM_NAME = "Sandbox Rewards Cash Back"
PROGRAM_URL = "https://sandbox-bank.example/rewards"
BASE_RATE = 0.01
# (categoryId, name, multiplier, the transaction category it applies to, description)
CATEGORIES = (
    ("100", "Dining", 3.0, "Food and Drink", "Restaurants, cafes, bars and food delivery."),
    ("101", "Travel", 2.0, "Travel", "Airlines, hotels, car rental and travel agencies."),
    ("199", "Everything else", 1.0, None, "Every other eligible purchase."),
)
REDEEM_STEP = 2_500  # cents


def program_id(seed: int) -> str:
    """One program for the whole bank: every rewards card belongs to it."""
    return opaque_id("rwd", seed, PROGRAM_NAME)


def categories(seed: int) -> list[dict[str, Any]]:
    pid = program_id(seed)
    return [
        {
            "rewardProgramId": pid,
            "categoryId": cid,
            "categoryName": name,
            "multiplier": multiplier,
            "description": text,
        }
        for cid, name, multiplier, _, text in CATEGORIES
    ]


def program(
    seed: int, member: str, card_id: str, purchases: Iterable[dict[str, Any]], today: date
) -> dict[str, Any]:
    """The program with the customer's one membership, balances from the card's history."""
    earned_before = earned_this_year = 0.0
    for txn in purchases:
        posted = str(txn.get("postedTimestamp", ""))[:10]
        if txn.get("transactionType") != "PURCHASE" or not posted:
            continue
        cents = float(txn["amount"]) * 100 * BASE_RATE * _multiplier(txn.get("category"))
        if posted[:4] == str(today.year):
            earned_this_year += cents
        else:
            earned_before += cents
    redeemed = int(earned_before) // REDEEM_STEP * REDEEM_STEP
    balance = round(earned_before + earned_this_year - redeemed)
    return {
        "rewardProgramId": program_id(seed),
        "programName": PROGRAM_NAME,
        "programUrl": PROGRAM_URL,
        "memberships": [
            {
                "accountIds": [card_id],
                "customerId": member,
                "memberId": opaque_id("mbr", seed, member),
                "memberNumber": str(int(opaque_id("n", seed, member)[2:12], 16) % 10**10),
                "memberTier": "Signature",
                "businessOrConsumer": "CONSUMER",
                "balances": [
                    {
                        "name": "Cash back",
                        "type": "CASHBACK",
                        "balance": balance / 100,
                        "accruedYtd": round(earned_this_year) / 100,
                        "redeemedYtd": redeemed / 100,
                        "qualifying": False,
                    }
                ],
            }
        ],
    }


def _multiplier(category: object) -> float:
    for _, _, multiplier, applies_to, _ in CATEGORIES:
        if applies_to is None or applies_to == category:
            return multiplier
    return 1.0
