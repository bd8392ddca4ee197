"""Money: an amount is a `Decimal` with its ISO 4217 currency, and each currency has its own number
of decimals (its minor unit): JPY has none, CNY two, KWD three. Pure functions, no database.

Amounts are stored with two decimals (the column is the same for every currency); what a currency
allows beyond that is checked here (`fits_minor_unit`), and totals and displayed amounts are
rounded here (`quantize_money`, `format_money`), never with an ad-hoc `quantize(Decimal("0.01"))`.
"""

from decimal import ROUND_HALF_UP, Decimal

from django.template.defaultfilters import floatformat

# ISO 4217 currencies (of `validators.ISO_4217`) whose minor unit is not 2 decimals.
MINOR_UNITS = {
    **dict.fromkeys(("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "VND",
                     "VUV", "XAF", "XOF", "XPF"), 0),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
}
DEFAULT_MINOR_UNIT = 2


def minor_unit(currency: str) -> int:
    """How many decimals an amount in `currency` has (2 unless ISO 4217 says otherwise)."""
    return MINOR_UNITS.get((currency or "").upper(), DEFAULT_MINOR_UNIT)


def quantize_money(amount: Decimal | int | str, currency: str) -> Decimal:
    """`amount` rounded to the currency's minor unit, half away from zero (四舍五入):
    JPY 1234.5 → 1235, CNY 0.125 → 0.13, KWD 1.0005 → 1.001."""
    return Decimal(amount).quantize(Decimal(1).scaleb(-minor_unit(currency)), rounding=ROUND_HALF_UP)


def fits_minor_unit(amount: Decimal, currency: str) -> bool:
    """Whether `amount` has no more decimals than `currency` allows (JPY 100.00 does, JPY 100.50 not)."""
    return amount == quantize_money(amount, currency)


def format_money(amount: Decimal | int | str | None, currency: str) -> str:
    """`amount` for display: rounded to the currency's minor unit, with exactly that many decimals
    and the active language's grouping (1,234,567.89; JPY 1,234,568). Empty for no amount."""
    if amount is None or amount == "":
        return ""
    digits = minor_unit(currency)
    return floatformat(quantize_money(amount, currency), f"{digits}g")
