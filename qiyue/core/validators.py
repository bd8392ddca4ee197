"""Validators for Chinese business identifiers and money."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# The largest id a 64-bit primary key holds: bigger numbers in filters are refused, not sent to SQLite.
MAX_ID = 2**63 - 1

# GB 32100-2015 unified social credit code (统一社会信用代码): 18 characters from this
# 31-character set (no I, O, S, V, Z); the last is a checksum over the first 17.
CREDIT_CODE_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def credit_code_check_char(first17: str) -> str:
    total = sum(CREDIT_CODE_CHARSET.index(c) * w for c, w in zip(first17, CREDIT_CODE_WEIGHTS, strict=True))
    return CREDIT_CODE_CHARSET[(31 - total % 31) % 31]


def validate_credit_code(value: str) -> None:
    if len(value) != 18:
        raise ValidationError(
            _("A unified social credit code has exactly 18 characters (this one has %(n)s)."),
            code="credit_code_length", params={"n": len(value)},
        )
    bad = [c for c in value if c not in CREDIT_CODE_CHARSET]
    if bad:
        raise ValidationError(
            _("“%(c)s” cannot appear in a unified social credit code (digits and capital letters except I, O, S, V, Z)."),
            code="credit_code_charset", params={"c": bad[0]},
        )
    if credit_code_check_char(value[:17]) != value[17]:
        raise ValidationError(
            _("The check character of this unified social credit code is wrong; please check the code."),
            code="credit_code_checksum",
        )


TAXPAYER_ID = re.compile(r"[0-9A-Z]{15}|[0-9A-Z]{17,18}|[0-9A-Z]{20}")


def validate_taxpayer_id(value: str) -> None:
    """A taxpayer identification number (纳税人识别号) as invoices carry it: the 18-character unified
    social credit code, or an older 15-, 17- or 20-character number; digits and capital letters."""
    if value and not TAXPAYER_ID.fullmatch(value):
        raise ValidationError(_("A taxpayer ID has 15, 17, 18 or 20 digits and capital letters."),
                              code="taxpayer_id")


def normalize_credit_code(value: str) -> str:
    import unicodedata

    return unicodedata.normalize("NFKC", value or "").strip().upper().replace(" ", "")


# ISO 4217 active currency codes.
ISO_4217 = frozenset("""
AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN BZD
CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD
GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT
LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR
NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP
STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XCG
XOF XPF YER ZAR ZMW ZWG
""".split())

COMMON_CURRENCIES = ("CNY", "USD", "EUR", "HKD", "JPY", "GBP")


def validate_currency(value: str) -> None:
    if value not in ISO_4217:
        raise ValidationError(
            _("“%(value)s” is not an ISO 4217 currency code (for example CNY, USD, EUR)."),
            code="unknown_currency", params={"value": value},
        )
