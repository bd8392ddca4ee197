"""Money helpers: each currency's minor unit, rounding to it, checking against it, and display.
Pure functions: no database."""

from decimal import Decimal

import pytest
from django.utils import translation

from qiyue.core.money import MINOR_UNITS, fits_minor_unit, format_money, minor_unit, quantize_money
from qiyue.core.validators import ISO_4217


@pytest.mark.parametrize(("currency", "digits"), [
    ("CNY", 2), ("USD", 2), ("EUR", 2), ("HKD", 2), ("GBP", 2),
    ("JPY", 0), ("KRW", 0), ("VND", 0), ("CLP", 0), ("ISK", 0), ("UGX", 0),
    ("XAF", 0), ("XOF", 0), ("XPF", 0),
    ("BHD", 3), ("KWD", 3), ("OMR", 3), ("JOD", 3), ("IQD", 3), ("LYD", 3), ("TND", 3),
    ("jpy", 0), ("", 2),
])
def test_minor_unit(currency, digits):
    assert minor_unit(currency) == digits


def test_every_exception_is_a_known_currency():
    assert set(MINOR_UNITS) <= ISO_4217


@pytest.mark.parametrize(("amount", "currency", "expected"), [
    ("1234.5", "JPY", "1235"),
    ("1234.49", "JPY", "1234"),
    ("0.125", "CNY", "0.13"),  # half away from zero, not to even
    ("0.135", "CNY", "0.14"),
    ("-0.125", "CNY", "-0.13"),
    ("1.0005", "KWD", "1.001"),
    ("100", "USD", "100.00"),
    (7, "EUR", "7.00"),
])
def test_quantize_money(amount, currency, expected):
    result = quantize_money(Decimal(amount) if isinstance(amount, str) else amount, currency)
    assert result == Decimal(expected) and str(result) == expected


@pytest.mark.parametrize(("amount", "currency", "fits"), [
    ("100", "JPY", True), ("100.00", "JPY", True), ("100.50", "JPY", False), ("0.01", "KRW", False),
    ("100.50", "CNY", True), ("100.505", "CNY", False),
    ("1.25", "KWD", True), ("1.125", "KWD", True), ("1.1255", "KWD", False),
])
def test_fits_minor_unit(amount, currency, fits):
    assert fits_minor_unit(Decimal(amount), currency) is fits


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize(("amount", "currency", "shown"), [
    (Decimal("1234567.89"), "CNY", "1,234,567.89"),
    (Decimal("1234567.00"), "USD", "1,234,567.00"),
    (Decimal("1234567.50"), "JPY", "1,234,568"),
    (Decimal("1234.5"), "KWD", "1,234.500"),
    (Decimal("0"), "CNY", "0.00"),
    ("12.3", "CNY", "12.30"),
    (None, "CNY", ""),
])
def test_format_money(language, amount, currency, shown):
    with translation.override(language):
        assert format_money(amount, currency) == shown
