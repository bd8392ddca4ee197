import pytest
from django.core.exceptions import ValidationError

from qiyue.core.text import normalize_company_name, split_tags
from qiyue.core.validators import credit_code_check_char, validate_credit_code, validate_currency

# Unified social credit codes with valid checksums.
VALID_CODES = ["91350100M000100Y43", "91310000132200821H", "914403001922038216"]


@pytest.mark.parametrize("code", VALID_CODES)
def test_valid_credit_codes_pass(code):
    validate_credit_code(code)
    assert credit_code_check_char(code[:17]) == code[17]


@pytest.mark.parametrize(
    ("code", "error_code"),
    [
        ("91350100M000100Y44", "credit_code_checksum"),
        ("91350100M000100Y", "credit_code_length"),
        ("91350100M000100Y433", "credit_code_length"),
        ("91350100M000100O43", "credit_code_charset"),  # O is not in the character set
        ("91350100m000100Y43", "credit_code_charset"),
    ],
)
def test_bad_credit_codes_are_refused_with_a_code(code, error_code):
    with pytest.raises(ValidationError) as exc:
        validate_credit_code(code)
    assert exc.value.code == error_code


def test_single_character_change_is_caught():
    code = VALID_CODES[0]
    for i in range(17):
        for replacement in "0123456789ABCDEFGHJKLMNPQRTUWXY":
            if replacement == code[i]:
                continue
            mutated = code[:i] + replacement + code[i + 1:]
            with pytest.raises(ValidationError):
                validate_credit_code(mutated)


@pytest.mark.parametrize("value", ["CNY", "USD", "EUR", "HKD", "JPY"])
def test_known_currencies(value):
    validate_currency(value)


@pytest.mark.parametrize("value", ["RMB", "usd", "XXX1", ""])
def test_unknown_currencies(value):
    with pytest.raises(ValidationError) as exc:
        validate_currency(value)
    assert exc.value.code == "unknown_currency"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("上海明德精密机械有限公司", "上海明德精密机械股份有限公司"),
        ("上海明德精密机械有限公司", "上海明德精密机械"),
        ("上海明德 精密机械有限公司", "上海明德精密机械有限公司"),
        ("ＡＢＣ科技有限公司", "abc科技有限公司"),  # full-width vs half-width
        ("北京（中关村）科技有限责任公司", "北京(中关村)科技"),
        ("Acme Trading Co., Ltd.", "ACME trading"),
    ],
)
def test_normalised_names_match(a, b):
    assert normalize_company_name(a) == normalize_company_name(b)


def test_different_companies_stay_different():
    assert normalize_company_name("上海明德精密机械有限公司") != normalize_company_name("上海明德精密仪器有限公司")
    # A name that is only a suffix keeps its text rather than becoming empty.
    assert normalize_company_name("有限公司") != ""


def test_split_tags():
    assert split_tags("重点, 框架，续签、重点") == ["重点", "框架", "续签"]
    assert split_tags(["a", " b ", ""]) == ["a", "b"]
    assert split_tags(None) == []
