"""Personal data (ID numbers, phones): encrypted at rest, found by a keyed hash, shown masked.

The key is settings.PII_KEY (a Fernet key from the environment, or generated under ./var). The lookup
hash is an HMAC with a key derived from it, so equal values can be found without decrypting and
the hashes are useless without the key.
"""

import hashlib
import hmac
import re
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


@lru_cache(maxsize=4)
def _fernet(key: str) -> Fernet:
    return Fernet(key.encode())


def fernet() -> Fernet:
    """The Fernet of settings.PII_KEY (job files encrypt their chunks with it: wangge.jobs.files)."""
    return _fernet(settings.PII_KEY)


def encrypt(value: str) -> str:
    return _fernet(settings.PII_KEY).encrypt(value.encode()).decode() if value else ""


def decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        return _fernet(settings.PII_KEY).decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ValueError("personal data cannot be decrypted with the configured WANGGE_PII_KEY") from exc


def lookup_hash(value: str) -> str:
    """A keyed hash of a normalised value, for exact lookups and uniqueness."""
    if not value:
        return ""
    key = hashlib.sha256(b"wangge-lookup:" + settings.PII_KEY.encode()).digest()
    return hmac.new(key, value.strip().upper().encode(), hashlib.sha256).hexdigest()


_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}$")


def normalize_phone(value: str) -> str:
    """Digits (and the landline dash) only; +86 / 0086 prefixes dropped."""
    value = re.sub(r"[\s()]", "", value or "")
    for prefix in ("+86", "0086"):
        if value.startswith(prefix):
            value = value[len(prefix) :].lstrip("-")
    return value


def phone_hash(value: str) -> str:
    """The lookup hash of a phone number however it was written (+86, spaces, the landline dash)."""
    return lookup_hash(normalize_phone(value).replace("-", ""))


def is_mobile(value: str) -> bool:
    return bool(_MOBILE.match(value or ""))


def is_valid_phone(value: str) -> bool:
    """A mainland mobile (1[3-9] + 9 digits), a landline with area code, or a short service number."""
    return bool(_MOBILE.match(value) or _LANDLINE.match(value) or re.fullmatch(r"\d{5,6}", value or ""))


def mask_phone(value: str) -> str:
    if not value:
        return ""
    if len(value) >= 7:
        return value[:3] + "*" * (len(value) - 7) + value[-4:]
    return "*" * len(value)


def mask_id_number(value: str) -> str:
    """4****************X: the first and the last character only.

    The middle (region, birth date, sequence) stays hidden whatever else a page shows: with the birth
    year and sex shown, about 16,000 numbers per region still fit (365 days x 500 sequences / 11 check
    digits), and the only way to test a guess, the exact search, is logged and budgeted per user
    (wangge.privacy.search). Keeping the region and the last four hid exactly the birth date.
    """
    if not value:
        return ""
    if len(value) <= 4:
        return "*" * len(value)
    return value[:1] + "*" * (len(value) - 2) + value[-1:]
