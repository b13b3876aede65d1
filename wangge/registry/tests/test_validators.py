from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from wangge.core import pii
from wangge.registry.validators import parse_id_number, search_text, validate_credit_code


@pytest.mark.parametrize(
    "number,birth,sex",
    [
        ("11010519491231002X", date(1949, 12, 31), "F"),  # GB 11643-1999's own example
        ("440524188001010014", date(1880, 1, 1), "M"),  # the other example of the standard
        ("11010519491231002x", date(1949, 12, 31), "F"),  # lower-case x accepted
    ],
)
def test_valid_id_numbers_give_birth_date_and_sex(number, birth, sex):
    parsed = parse_id_number(number)
    assert (parsed.birth_date, parsed.sex, parsed.number[-1]) == (birth, sex, number[-1].upper())


def test_fifteen_digit_number_is_upgraded():
    # 15-digit first generation: 440524 800101 001 → 440524 19800101 001 + check digit
    upgraded = parse_id_number("440524800101001")
    assert upgraded.number == "440524198001010013" and upgraded.birth_date == date(1980, 1, 1)
    assert parse_id_number(upgraded.number).number == upgraded.number


@pytest.mark.parametrize(
    "number,reason",
    [
        ("110105194912310021", "check digit"),  # last digit changed
        ("11010519491231002", "18 characters"),
        ("11010519491331002X", "not a real date"),  # month 13
        ("991005194912310028", "region"),  # no province 99
        ("440005194912310028", "region"),  # xx00: a province, not a place
        ("110105209912310020", "not possible"),  # born in the future
    ],
)
def test_invalid_id_numbers_name_the_field_and_reason(number, reason):
    with translation.override("en"), pytest.raises(ValidationError) as exc:
        parse_id_number(number)
    assert "id_number" in exc.value.message_dict
    assert reason.split()[0] in " ".join(exc.value.message_dict["id_number"]) or reason in str(exc.value)


@pytest.mark.parametrize(
    "code",
    [
        "914403001922038216",  # 华为技术有限公司
        "9144030071526726XG",  # 深圳市腾讯计算机系统有限公司
        "91330100716105852F",
        "91110000600037341L",
    ],
)
def test_real_credit_codes_pass(code):
    assert validate_credit_code(code.lower()) == code


@pytest.mark.parametrize(
    "code",
    ["914403001922038217", "91440300192203821", "9144030019220382I6", "91ZZ00001922038216"],
)
def test_bad_credit_codes_are_refused(code):
    with pytest.raises(ValidationError) as exc:
        validate_credit_code(code)
    assert "credit_code" in exc.value.message_dict


@pytest.mark.parametrize(
    "raw,ok", [("13812345678", True), ("+86 138 1234 5678", True), ("0769-22123456", True), ("1381234567", False),
               ("12812345678", False), ("abc", False)],
)  # fmt: skip
def test_phone_validation(raw, ok):
    assert pii.is_valid_phone(pii.normalize_phone(raw)) is ok


def test_search_text_folds_full_width_and_punctuation():
    assert search_text("莞太路 １２号", "Ａ栋，3单元") == "莞太路12号a栋3单元"
