"""The sandbox bank's fixed cast: its customers, the merchants they pay and the funds they hold.

Everything here is fiction made to look ordinary. Names, addresses (555 numbers, reserved ZIPs
aside) and tax ids are invented; the securities are real index funds so that recipients which
look symbols up see familiar ones.
"""

from __future__ import annotations

from dataclasses import dataclass

BANK_NAME = "Sandbox Bank"
# An 8-digit prefix in a Federal Reserve district range; the ninth digit is the ABA check digit
# computed in ``generate.aba_routing_number`` (docs/fdx.md §2 PaymentNetwork ``bankId``).
ROUTING_PREFIX = "11200025"


@dataclass(frozen=True, slots=True)
class Person:
    username: str
    password: str
    first: str
    last: str
    nickname: str
    email: str
    phone: str
    line1: str
    city: str
    region: str
    postal_code: str
    birth_date: str
    tax_id_last4: str
    customer_since: str
    employer: str
    salary_cents: int  # per semi-monthly pay period, after tax
    housing: str  # "RENT" paid by check, or "MORTGAGE" paid from checking
    housing_cents: int
    loan_type: str  # FDX AccountType of the loan
    investment_type: str  # FDX AccountType of the investment account
    joint_holder: tuple[str, str] | None = None  # (first, last) on the savings account
    closed_savings: bool = False
    totp_secret: str | None = None  # RFC 6238 second factor at the built-in sign-in


PEOPLE: tuple[Person, ...] = (
    Person(
        username="alice",
        password="sandbox-alice",  # noqa: S106 - published demo login (config/demo/consumers.json)
        first="Alice",
        last="Johnson",
        nickname="Alice",
        email="alice.johnson@example.com",
        phone="5035550142",
        line1="1420 SE Belmont St",
        city="Portland",
        region="OR",
        postal_code="97214",
        birth_date="1988-04-12",
        tax_id_last4="4821",
        customer_since="2014-09-02",
        employer="Northwind Analytics",
        salary_cents=312_500,
        housing="RENT",
        housing_cents=215_000,
        loan_type="AUTOLOAN",
        investment_type="TAXABLE",
    ),
    Person(
        username="bob",
        password="sandbox-bob",  # noqa: S106 - published demo login
        first="Bob",
        last="Tanaka",
        nickname="田中 ボブ",
        email="bob.tanaka@example.net",
        phone="4155550187",
        line1="88 Dolores St Apt 4",
        city="San Francisco",
        region="CA",
        postal_code="94103",
        birth_date="1979-11-03",
        tax_id_last4="7305",
        customer_since="2009-03-16",
        employer="Golden Gate Robotics Inc",
        salary_cents=488_000,
        housing="MORTGAGE",
        housing_cents=0,  # the mortgage payment comes from the loan's amortization
        loan_type="MORTGAGE",
        investment_type="401K",
        joint_holder=("Yuki", "Tanaka"),
    ),
    Person(
        username="carol",
        password="sandbox-carol",  # noqa: S106 - published demo login
        # Published on purpose too (config/demo/consumers.json): the demo of the second factor.
        totp_secret="NFW7LM2W3T7YTK4UY576MWFHHQGMKG3G",  # noqa: S106
        first="Carol",
        last="Martinez",
        nickname="Carol",
        email="carol.martinez@example.org",
        phone="5125550119",
        line1="2101 E Cesar Chavez St",
        city="Austin",
        region="TX",
        postal_code="78702",
        birth_date="1996-07-21",
        tax_id_last4="1968",
        customer_since="2018-06-11",
        employer="Lone Star Health Partners",
        salary_cents=226_000,
        housing="RENT",
        housing_cents=148_500,
        loan_type="STUDENTLOAN",
        investment_type="TAXABLE",
        closed_savings=True,
    ),
)


@dataclass(frozen=True, slots=True)
class Merchant:
    name: str
    category: str
    sub_category: str
    low_cents: int
    high_cents: int
    tips: bool = False  # restaurants settle for more than they authorized


GROCERIES = (
    Merchant("Trader Joe's", "Food and Drink", "Groceries", 2_400, 11_800),
    Merchant("Safeway", "Food and Drink", "Groceries", 1_800, 14_500),
    Merchant("Whole Foods Market", "Food and Drink", "Groceries", 2_200, 16_000),
    Merchant("Costco Wholesale", "Food and Drink", "Groceries", 6_500, 28_000),
)
RESTAURANTS = (
    Merchant("Blue Bottle Coffee", "Food and Drink", "Coffee Shops", 450, 1_400, tips=True),
    Merchant("Chipotle Mexican Grill", "Food and Drink", "Restaurants", 1_100, 3_200, tips=True),
    Merchant("Shake Shack", "Food and Drink", "Restaurants", 1_300, 4_100, tips=True),
    Merchant("Olive Garden", "Food and Drink", "Restaurants", 3_800, 11_000, tips=True),
    Merchant("Sushi Ran", "Food and Drink", "Restaurants", 5_500, 16_000, tips=True),
)
FUEL = (
    Merchant("Shell", "Transportation", "Gas Stations", 3_200, 7_800),
    Merchant("Chevron", "Transportation", "Gas Stations", 3_000, 8_200),
)
SHOPPING = (
    Merchant("Amazon.com", "Shopping", "Online Marketplaces", 900, 18_000),
    Merchant("Target", "Shopping", "General Merchandise", 1_500, 13_000),
    Merchant("REI Co-op", "Shopping", "Sporting Goods", 2_500, 24_000),
    Merchant("Apple Store", "Shopping", "Electronics", 1_900, 32_000),
    Merchant("Walgreens", "Health", "Pharmacies", 600, 5_500),
)
TRAVEL = (
    Merchant("Uber", "Transportation", "Ride Share", 900, 5_200, tips=True),
    Merchant("Alaska Airlines", "Travel", "Airlines", 12_000, 52_000),
    Merchant("Marriott Hotels", "Travel", "Lodging", 16_000, 68_000),
)
SUBSCRIPTIONS = (
    Merchant("Netflix", "Entertainment", "Streaming", 1_549, 1_549),
    Merchant("Spotify", "Entertainment", "Streaming", 1_199, 1_199),
    Merchant("Planet Fitness", "Health", "Gyms", 2_499, 2_499),
)


@dataclass(frozen=True, slots=True)
class Biller:
    name: str
    category: str
    low_cents: int
    high_cents: int
    day: int


UTILITIES = (
    Biller("City Power & Light", "Utilities", 6_500, 18_500, 8),
    Biller("Metro Water District", "Utilities", 3_200, 7_400, 12),
    Biller("Comcast Xfinity", "Internet", 7_999, 7_999, 18),
    Biller("Verizon Wireless", "Telephone", 6_800, 9_400, 22),
)


@dataclass(frozen=True, slots=True)
class Security:
    symbol: str
    name: str
    cusip: str
    kind: str  # FDX SecurityType / HoldingType
    base_price: float
    drift: float  # yearly
    dividend_yield: float  # yearly, paid quarterly


SECURITIES = (
    Security("VTI", "Vanguard Total Stock Market ETF", "922908769", "STOCK", 232.0, 0.08, 0.014),
    Security(
        "VXUS", "Vanguard Total International Stock ETF", "921909768", "STOCK", 57.0, 0.04, 0.03
    ),
    Security("BND", "Vanguard Total Bond Market ETF", "921937835", "STOCK", 72.0, 0.01, 0.035),
    Security(
        "VFIAX", "Vanguard 500 Index Fund Admiral", "922908710", "MUTUALFUND", 440.0, 0.09, 0.013
    ),
)
