"""How large and how precise a written number may be (400 INVALID_VALUE otherwise).

NetSuite keeps numbers in fixed-size columns, so the sandbox refuses what
they could not hold instead of storing a 400-digit invoice total:

- Every number field (``money``, ``rate``, ``number``) holds at most
  `MAX_INTEGER_DIGITS` (15) integer digits, i.e. ``abs(value) < 10**15``.
  NaN and ±Infinity are never accepted.
- ``money`` (currency amounts: line ``amount``, ``payment``, applied
  amounts, billing-schedule amounts, ``custentity_eg_nte``) takes no more
  decimals than the record's currency: 2 for USD/GBP/EUR and most others, 0
  for JPY/KRW/..., 3 for KWD/BHD/... (`CURRENCY_PLACES`; the table follows ISO
  4217 and Oracle's list of NetSuite currency precisions, unverified per
  account). The check runs after derivation, when the currency is known.
- ``rate`` (an item line's unit price) and ``number`` (quantity, exchange
  rate) take up to `NUMBER_PLACES` (8) decimals (unverified: Oracle documents
  eight decimals for SuiteBilling price and quantity fields).
- A derived line amount (quantity * rate) is rounded half-up to the currency's
  places, as NetSuite rounds it; one that overflows, or an invoice ``total``
  that overflows, is INVALID_VALUE on that field.

Over-precise values are refused, not rounded (the sandbox's choice: a
client sending them has a bug worth seeing).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, localcontext

from sandboxes.netsuite.errors import NsError, bad_request
from sandboxes.netsuite.schema import RecordSpec
from sandboxes.netsuite.state import Record, Store

__all__ = [
    "CURRENCY_PLACES",
    "MAX_INTEGER_DIGITS",
    "NUMBER_PLACES",
    "check_money_places",
    "check_number",
    "currency_places",
    "line_amount",
    "out_of_range",
]

MAX_INTEGER_DIGITS = 15
NUMBER_PLACES = 8
DEFAULT_CURRENCY_PLACES = 2
CURRENCY_PLACES: dict[str, int] = {
    **dict.fromkeys(
        ("CLP", "HUF", "IDR", "ISK", "JPY", "KRW", "PYG", "UGX", "VND", "XAF", "XOF", "XPF"), 0
    ),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
}
_LIMIT = Decimal(10) ** MAX_INTEGER_DIGITS


def out_of_range(path: str, detail: str) -> NsError:
    return bad_request(
        "INVALID_VALUE",
        f"Invalid value for the resource or sub-resource field '{path}'. {detail}",
        path,
    )


def _places(value: Decimal) -> int:
    """Decimal places `value` really uses (``8000.000`` uses none), computed exactly."""
    _, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)  # callers pass finite values only
    if exponent >= 0:
        return 0
    significant = len(digits)
    while significant and digits[significant - 1] == 0:
        significant -= 1
    trailing_zeros = len(digits) - significant
    return max(0, -exponent - trailing_zeros)


def check_number(value: Decimal, path: str, places: int | None) -> Decimal:
    """`value` if finite, under 10**15 and within `places` decimals (None: no limit yet)."""
    if not value.is_finite():
        raise out_of_range(path, "The value must be a finite number.")
    if abs(value) >= _LIMIT:
        raise out_of_range(
            path, f"The value must have at most {MAX_INTEGER_DIGITS} digits before the point."
        )
    if places is not None and _places(value) > places:
        raise out_of_range(
            path, f"The value must have at most {places} digits after the decimal point."
        )
    return value


def currency_places(store: Store, currency_id: str | None) -> int:
    currency = store.records["currency"].get(currency_id or "")
    code = currency.get("symbol") if currency is not None else None
    return CURRENCY_PLACES.get(code or "", DEFAULT_CURRENCY_PLACES)


def line_amount(quantity: Decimal, rate: Decimal, places: int, path: str) -> Decimal:
    """quantity * rate, rounded half-up to the currency's places, or INVALID_VALUE."""
    with localcontext() as exact:
        exact.prec = 2 * (MAX_INTEGER_DIGITS + NUMBER_PLACES) + 2  # no rounding in the product
        product = quantity * rate
    check_number(product, path, None)
    return product.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def check_money_places(store: Store, spec: RecordSpec, record: Record) -> None:
    """Every writable ``money`` value of `record` within its currency's decimals."""
    places = currency_places(store, record.get("currency"))
    for name, field_spec in spec.fields.items():
        value = record.get(name)
        if field_spec.kind == "money" and not field_spec.read_only and value is not None:
            check_number(value, name, places)
    for sublist, fields in spec.sublists.items():
        money = [n for n, f in fields.items() if f.kind == "money" and not f.read_only]
        for index, line in enumerate(record.get(sublist, [])):
            for name in money:
                if line.get(name) is not None:
                    check_number(line[name], f"{sublist}.items[{index}].{name}", places)
