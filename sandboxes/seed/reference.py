"""Reference data of the demo firm: entities, org structure, roles and the rate card.

None of this depends on the seed; the seed only decides who and what happened.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_HALF_EVEN, Decimal

from sandboxes.firm import Department, LegalEntity, Location, RateCardRate, ServiceLine

__all__ = [
    "CENT",
    "CURRENCY_FACTOR",
    "DEPARTMENTS",
    "FIRST_NAMES",
    "LAST_NAMES",
    "LEGAL_ENTITIES",
    "LOCATIONS",
    "RATE_CARD_VERSIONS",
    "ROLES",
    "ROLE_BASE_COST_USD",
    "SERVICE_LINES",
    "STAFF_PLAN",
    "build_rate_card",
    "money",
    "round_up",
]

CENT = Decimal("0.01")


def money(value: Decimal) -> Decimal:
    """Round to the minor unit, half-even: the one place amounts are rounded."""
    return value.quantize(CENT, rounding=ROUND_HALF_EVEN)


def round_up(value: Decimal, step: int) -> Decimal:
    """``value`` rounded up to a whole multiple of ``step`` (at least one step)."""
    units = (value / step).to_integral_value(rounding=ROUND_CEILING)
    return money(max(units, Decimal(1)) * step)


LEGAL_ENTITIES: tuple[LegalEntity, ...] = (
    LegalEntity("US", "Northwind Consulting Inc.", "US", "USD", "US-NY"),
    LegalEntity("UK", "Northwind Consulting Ltd", "GB", "GBP", "GB"),
    LegalEntity("DE", "Northwind Consulting GmbH", "DE", "EUR", "DE"),
)

DEPARTMENTS: tuple[Department, ...] = (
    Department("CONSULTING", "Consulting"),
    Department("ENGINEERING", "Engineering"),
    Department("MANAGED", "Managed Services"),
)

LOCATIONS: tuple[Location, ...] = (
    Location("US-NYC", "New York", "US"),
    Location("US-SFO", "San Francisco", "US"),
    Location("UK-LON", "London", "UK"),
    Location("DE-BER", "Berlin", "DE"),
    Location("DE-MUC", "Munich", "DE"),
)

ROLES: tuple[str, ...] = (
    "Partner",
    "Principal",
    "Architect",
    "Senior Consultant",
    "Consultant",
    "Engineer",
    "Analyst",
)

SERVICE_LINES: tuple[ServiceLine, ...] = (
    ServiceLine(
        "STRATEGY",
        "Strategy & Transformation",
        "CONSULTING",
        "CL-STRAT",
        "Strategy Engagement",
        ("Partner", "Principal", "Senior Consultant", "Consultant", "Analyst"),
    ),
    ServiceLine(
        "CLOUD",
        "Cloud Migration",
        "ENGINEERING",
        "CL-CLOUD",
        "Cloud Delivery",
        ("Principal", "Architect", "Senior Consultant", "Engineer", "Consultant"),
    ),
    ServiceLine(
        "DATA",
        "Data & Analytics",
        "ENGINEERING",
        "CL-DATA",
        "Data Platform Delivery",
        ("Principal", "Architect", "Engineer", "Analyst", "Consultant"),
    ),
    ServiceLine(
        "SECURITY",
        "Cyber Security",
        "ENGINEERING",
        "CL-SEC",
        "Security Assessment",
        ("Principal", "Architect", "Senior Consultant", "Engineer"),
    ),
    ServiceLine(
        "MANAGED_SERVICES",
        "Managed Services",
        "MANAGED",
        "CL-MS",
        "Managed Service Onboarding",
        ("Principal", "Engineer", "Analyst", "Consultant"),
    ),
)

RATE_CARD_VERSIONS: tuple[str, str] = ("RC-2025", "RC-2026")

# Hourly bill rates of RC-2025 per role, per currency; RC-2026 applies the uplift.
_RC_2025: dict[str, tuple[Decimal, Decimal, Decimal]] = {
    # role: (USD, GBP, EUR)
    "Partner": (Decimal("450.00"), Decimal("350.00"), Decimal("415.00")),
    "Principal": (Decimal("375.00"), Decimal("290.00"), Decimal("345.00")),
    "Architect": (Decimal("300.00"), Decimal("235.00"), Decimal("275.00")),
    "Senior Consultant": (Decimal("260.00"), Decimal("205.00"), Decimal("240.00")),
    "Consultant": (Decimal("200.00"), Decimal("155.00"), Decimal("185.00")),
    "Engineer": (Decimal("220.00"), Decimal("170.00"), Decimal("200.00")),
    "Analyst": (Decimal("150.00"), Decimal("115.00"), Decimal("140.00")),
}
_UPLIFT_2026: dict[str, Decimal] = {
    "Partner": Decimal("1.04"),
    "Principal": Decimal("1.05"),
    "Architect": Decimal("1.06"),
    "Senior Consultant": Decimal("1.05"),
    "Consultant": Decimal("1.05"),
    "Engineer": Decimal("1.06"),
    "Analyst": Decimal("1.04"),
}
_CURRENCIES: tuple[str, str, str] = ("USD", "GBP", "EUR")

# Multiplier from USD to an entity's currency, for cost rates (not FX accounting).
CURRENCY_FACTOR: dict[str, Decimal] = {
    "USD": Decimal("1.00"),
    "GBP": Decimal("0.78"),
    "EUR": Decimal("0.92"),
}

ROLE_BASE_COST_USD: dict[str, Decimal] = {
    "Partner": Decimal("185.00"),
    "Principal": Decimal("150.00"),
    "Architect": Decimal("120.00"),
    "Senior Consultant": Decimal("105.00"),
    "Consultant": Decimal("80.00"),
    "Engineer": Decimal("90.00"),
    "Analyst": Decimal("60.00"),
}

# Head count per legal entity and role (80 people in all).
STAFF_PLAN: dict[str, dict[str, int]] = {
    "US": {
        "Partner": 2,
        "Principal": 5,
        "Architect": 5,
        "Senior Consultant": 7,
        "Consultant": 5,
        "Engineer": 9,
        "Analyst": 5,
    },
    "UK": {
        "Partner": 2,
        "Principal": 3,
        "Architect": 3,
        "Senior Consultant": 4,
        "Consultant": 4,
        "Engineer": 5,
        "Analyst": 3,
    },
    "DE": {
        "Partner": 1,
        "Principal": 2,
        "Architect": 2,
        "Senior Consultant": 3,
        "Consultant": 3,
        "Engineer": 4,
        "Analyst": 3,
    },
}

FIRST_NAMES: dict[str, tuple[str, ...]] = {
    "US": (
        "James", "Mary", "Robert", "Patricia", "Michael", "Jennifer", "David", "Linda",
        "William", "Elizabeth", "Daniel", "Susan", "Matthew", "Jessica", "Anthony", "Sarah",
        "Mark", "Karen", "Steven", "Nancy", "Andrew", "Lisa", "Joshua", "Ashley",
        "Kevin", "Emily", "Brian", "Michelle", "Jason", "Amanda", "Ryan", "Melissa",
    ),
    "UK": (
        "Oliver", "Amelia", "George", "Isla", "Harry", "Ava", "Jack", "Emily",
        "Charlie", "Sophie", "Thomas", "Grace", "Oscar", "Lily", "William", "Freya",
        "Alfie", "Evie", "Henry", "Poppy", "Archie", "Ella", "Edward", "Chloe",
    ),
    "DE": (
        "Lukas", "Anna", "Leon", "Lena", "Felix", "Laura", "Jonas", "Julia",
        "Maximilian", "Sarah", "Paul", "Lea", "Elias", "Hannah", "Tim", "Marie",
        "Niklas", "Katharina", "Jan", "Johanna", "Moritz", "Clara", "Tobias", "Sophie",
    ),
}  # fmt: skip

LAST_NAMES: dict[str, tuple[str, ...]] = {
    "US": (
        "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis",
        "Rodriguez", "Martinez", "Wilson", "Anderson", "Taylor", "Thomas", "Moore", "Jackson",
        "Martin", "Lee", "Thompson", "White", "Harris", "Clark", "Lewis", "Walker",
        "Young", "Allen", "King", "Wright", "Scott", "Green", "Baker", "Nelson",
    ),
    "UK": (
        "Evans", "Hughes", "Edwards", "Roberts", "Wood", "Turner", "Hall", "Wright",
        "Clarke", "Cooper", "Ward", "Morris", "Hill", "Bennett", "Price", "Griffiths",
        "Harrison", "Marshall", "Kelly", "Palmer", "Mason", "Holmes", "Russell", "Fletcher",
    ),
    "DE": (
        "Mueller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
        "Schulz", "Hoffmann", "Koch", "Richter", "Klein", "Wolf", "Neumann", "Schwarz",
        "Zimmermann", "Braun", "Krueger", "Hofmann", "Hartmann", "Lange", "Werner", "Krause",
    ),
}  # fmt: skip


def build_rate_card() -> list[RateCardRate]:
    """Both versions, one rate per role per currency; RC-2026 is RC-2025 plus 4-6%."""
    rates: list[RateCardRate] = []
    for version in RATE_CARD_VERSIONS:
        for role in ROLES:
            for currency, base in zip(_CURRENCIES, _RC_2025[role], strict=True):
                rate = base if version == "RC-2025" else money(base * _UPLIFT_2026[role])
                rates.append(RateCardRate(version, role, currency, rate))
    return rates
