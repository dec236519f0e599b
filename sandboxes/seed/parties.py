"""People of the firm and its customers (with the ERP-only duplicate customers)."""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Literal

from sandboxes.firm import Customer, Person

from .reference import (
    CURRENCY_FACTOR,
    FIRST_NAMES,
    LAST_NAMES,
    LEGAL_ENTITIES,
    ROLE_BASE_COST_USD,
    STAFF_PLAN,
    money,
)

__all__ = ["build_customers", "build_duplicates", "build_people"]

_CURRENCY = {entity.code: entity.currency for entity in LEGAL_ENTITIES}
_CONTRACTOR_ROLES = ("Architect", "Consultant", "Engineer", "Analyst")

_COMPANY_PREFIXES: dict[str, tuple[str, ...]] = {
    "US": (
        "Acme", "Globex", "Initech", "Hooli", "Vandelay", "Cyberdyne", "Pinnacle", "Summit",
        "Lakeshore", "Redwood", "Granite", "Bluewater", "Ironclad", "Prairie", "Keystone",
        "Harbor", "Liberty", "Cascade",
    ),
    "UK": (
        "Thames", "Albion", "Pennine", "Cotswold", "Severn", "Mersey", "Highland", "Kingsway",
        "Britannia", "Windsor", "Cambrian", "Solent",
    ),
    "DE": (
        "Rhein", "Isar", "Elbe", "Spree", "Hanse", "Alpen", "Nordstern", "Schwarzwald", "Main",
        "Weser",
    ),
}  # fmt: skip
_COMPANY_SUFFIXES: dict[str, tuple[tuple[str, str], ...]] = {
    "EN": (
        ("Logistics", "Transportation"),
        ("Health", "Healthcare"),
        ("Energy", "Energy"),
        ("Retail", "Retail"),
        ("Financial", "Financial Services"),
        ("Manufacturing", "Manufacturing"),
        ("Media", "Media"),
        ("Foods", "Consumer Goods"),
        ("Telecom", "Telecommunications"),
        ("Insurance", "Insurance"),
        ("Pharma", "Life Sciences"),
        ("Aerospace", "Aerospace"),
    ),
    "DE": (
        ("Logistik", "Transportation"),
        ("Energie", "Energy"),
        ("Versicherung", "Insurance"),
        ("Maschinenbau", "Manufacturing"),
        ("Handel", "Retail"),
        ("Bank", "Financial Services"),
        ("Pharma", "Life Sciences"),
        ("Medien", "Media"),
    ),
}
_US_STATES = ("US-NY", "US-CA", "US-MA", "US-IL", "US-TX", "US-WA")
_CUSTOMERS_PER_ENTITY = {"US": 30, "UK": 18, "DE": 12}
_DUPLICATE_SUFFIX = {"US": " Inc.", "UK": " Ltd.", "DE": " GmbH"}

CustomerStatus = Literal["ACTIVE", "ON_HOLD", "PROSPECT"]


def build_people(rng: random.Random) -> list[Person]:
    slots = [
        (entity, role)
        for entity, plan in STAFF_PLAN.items()
        for role, count in plan.items()
        for _ in range(count)
    ]
    rng.shuffle(slots)
    taken: set[str] = set()
    people: list[Person] = []
    for number, (entity, role) in enumerate(slots, start=1):
        while True:
            first = rng.choice(FIRST_NAMES[entity])
            last = rng.choice(LAST_NAMES[entity])
            email = f"{first}.{last}@northwind.example".lower()
            if email not in taken:
                taken.add(email)
                break
        contractor = role in _CONTRACTOR_ROLES and rng.random() < 0.15
        currency = _CURRENCY[entity]
        spread = Decimal(rng.randint(90, 110)) / 100
        uplift = Decimal("1.15") if contractor else Decimal(1)
        cost = money(ROLE_BASE_COST_USD[role] * CURRENCY_FACTOR[currency] * spread * uplift)
        people.append(
            Person(
                key=f"P-{number:04d}",
                first_name=first,
                last_name=last,
                email=email,
                role=role,
                legal_entity=entity,
                cost_rate=cost,
                currency=currency,
                weekly_capacity_hours=30 if contractor else 40,
                is_contractor=contractor,
                is_active=True,
            )
        )
    return people


def _company_names(rng: random.Random, entity: str, count: int) -> list[tuple[str, str]]:
    suffixes = _COMPANY_SUFFIXES["DE" if entity == "DE" else "EN"]
    pairs = [(prefix, suffix) for prefix in _COMPANY_PREFIXES[entity] for suffix in suffixes]
    chosen = rng.sample(pairs, count)
    return [(f"{prefix} {suffix}", industry) for prefix, (suffix, industry) in chosen]


def build_customers(rng: random.Random) -> list[Customer]:
    """Sixty customers; most ACTIVE, a few ON_HOLD or PROSPECT, three without tax data."""
    slots = [
        (entity, name, industry)
        for entity, count in _CUSTOMERS_PER_ENTITY.items()
        for name, industry in _company_names(rng, entity, count)
    ]
    rng.shuffle(slots)
    special = rng.sample(range(len(slots)), 12)
    status_of: dict[int, CustomerStatus] = dict.fromkeys(special[:4], "ON_HOLD")
    status_of.update(dict.fromkeys(special[4:9], "PROSPECT"))
    no_tax = special[9:]
    customers: list[Customer] = []
    for index, (entity, name, industry) in enumerate(slots):
        tax: str | None
        if index in no_tax:
            tax = None
        elif entity == "US":
            tax = rng.choice(_US_STATES)
        else:
            tax = "GB" if entity == "UK" else "DE"
        slug = name.lower().replace(" ", "-")
        customers.append(
            Customer(
                key=f"CUST-{index + 1:04d}",
                name=name,
                legal_entity=entity,
                currency=_CURRENCY[entity],
                status=status_of.get(index, "ACTIVE"),
                tax_jurisdiction=tax,
                industry=industry,
                email=f"accounts.payable@{slug}.example",
            )
        )
    return customers


def build_duplicates(rng: random.Random, customers: list[Customer], count: int) -> list[Customer]:
    """ERP-only near-duplicates of good customers: same party, another key and name."""
    good = [c for c in customers if c.status == "ACTIVE" and c.tax_jurisdiction is not None]
    return [
        Customer(
            key=f"{original.key}-DUP",
            name=original.name + _DUPLICATE_SUFFIX[original.legal_entity],
            legal_entity=original.legal_entity,
            currency=original.currency,
            status="ACTIVE",
            tax_jurisdiction=original.tax_jurisdiction,
            industry=original.industry,
            email=original.email,
        )
        for original in sorted(rng.sample(good, count), key=lambda c: c.key)
    ]
