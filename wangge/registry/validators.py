"""Checks of Chinese identifiers: resident ID numbers (GB 11643), unified social credit codes
(GB 32100), and the normalised search text of addresses."""

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# GB/T 2260 province-level codes (the first two digits of every division code), with Taiwan,
# Hong Kong and Macao as they appear in resident ID numbers.
PROVINCE_CODES = {
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
    "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65",
    "71", "81", "82",
}  # fmt: skip
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"
EARLIEST_BIRTH = date(1880, 1, 1)


@dataclass(frozen=True)
class IdNumber:
    number: str  # 18 characters, upper-case X
    birth_date: date
    sex: str  # "M" or "F"
    region: str  # the six-digit division code of the place of first registration


def id_check_char(first17: str) -> str:
    return ID_CHECK[sum(int(c) * w for c, w in zip(first17, ID_WEIGHTS, strict=True)) % 11]


def parse_id_number(value: str, *, field: str = "id_number", today: date | None = None) -> IdNumber:
    """Validate a resident ID number (GB 11643-1999) and derive the birth date and sex.

    15-digit first-generation numbers are converted to 18 digits. The region is checked against
    the province list and must not be a province itself (xx00xx); a county code can be historic
    (the code of the place of first registration, kept for life), so it is not checked further.
    """
    number = (value or "").strip().upper().replace(" ", "")
    if re.fullmatch(r"\d{15}", number):
        number = number[:6] + "19" + number[6:]
        number += id_check_char(number)
    if not re.fullmatch(r"\d{17}[\dX]", number):
        raise ValidationError({field: _("An ID number has 18 characters: 17 digits and a digit or X.")})
    if number[:2] not in PROVINCE_CODES or number[2:4] == "00":
        raise ValidationError({field: _("The ID number starts with an unknown region code %(r)s.") % {"r": number[:6]}})
    try:
        birth = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ValidationError({field: _("The birth date in the ID number is not a real date.")}) from None
    if not (EARLIEST_BIRTH <= birth <= (today or date.today())):
        raise ValidationError({field: _("The birth date in the ID number is not possible.")})
    if id_check_char(number[:17]) != number[17]:
        raise ValidationError({field: _("The check digit of the ID number is wrong; check the number again.")})
    return IdNumber(number, birth, "M" if int(number[16]) % 2 else "F", number[:6])


# GB 32100-2015: 18 characters from 31 (no I, O, Z, S, V); the 18th is a check character.
USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def uscc_check_char(first17: str) -> str:
    total = sum(USCC_CHARS.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_CHARS[(31 - total % 31) % 31]


def validate_credit_code(value: str, *, field: str = "credit_code") -> str:
    """A unified social credit code (统一社会信用代码), upper-cased; ValidationError naming the field."""
    code = (value or "").strip().upper().replace(" ", "")
    if len(code) != 18:
        raise ValidationError({field: _("A unified social credit code has 18 characters.")})
    bad = sorted({c for c in code if c not in USCC_CHARS})
    if bad:
        raise ValidationError(
            {field: _("The credit code contains characters that are never used: %(c)s.") % {"c": "".join(bad)}}
        )
    if not code[2:8].isdigit() or code[2:4] not in PROVINCE_CODES:
        raise ValidationError({field: _("Characters 3–8 of the credit code must be a region code.")})
    if uscc_check_char(code[:17]) != code[17]:
        raise ValidationError({field: _("The check character of the credit code is wrong; check the code again.")})
    return code


_NOT_SEARCHED = re.compile(r"[\W_]+", re.UNICODE)


def search_text(*parts: str) -> str:
    """Parts of an address folded for substring search: NFKC (full-width ０-９ Ａ-Ｚ → 0-9 A-Z),
    lower case, no spaces or punctuation ("莞太路 １２号" → "莞太路12号")."""
    text = " ".join(p for p in parts if p)
    return _NOT_SEARCHED.sub("", unicodedata.normalize("NFKC", text).lower())


_NOT_NAME = re.compile(r"[\s·•．.\-_]+")


@lru_cache(maxsize=50_000)
def _sound(char: str) -> str:
    from pypinyin import lazy_pinyin

    return lazy_pinyin(char)[0].lower() if "\u3400" <= char <= "\u9fff" else char.lower()


@lru_cache(maxsize=200_000)
def name_key(name: str) -> str:
    """A name as it sounds: toneless pinyin of each character, lower case ("张 伟", "章玮" → "zhang wei").
    Character by character (cached), so that a million names cost a dictionary lookup each. Kept on
    every Person (name_key) and watch-list entry, so that screening by sound is an indexed join."""
    return " ".join(_sound(c) for c in _NOT_NAME.sub("", name or ""))
