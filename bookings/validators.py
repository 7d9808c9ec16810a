"""Input rules of the booking form: mainland mobile numbers and resident ID numbers (GB 11643)."""

import datetime as dt
import re

from django.core.exceptions import ValidationError

MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
ID_RE = re.compile(r"^\d{17}[\dX]$")
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CODES = "10X98765432"


def normalise_mobile(value: str) -> str:
    """Strip what people type around a number (spaces, dashes, +86) and check it is a mainland mobile."""
    digits = re.sub(r"[\s\-()]", "", value or "")
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if not MOBILE_RE.match(digits):
        raise ValidationError("请输入正确的11位手机号码（如 13800138000）", code="invalid_mobile")
    return digits


def id_check_code(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS, strict=True))
    return ID_CHECK_CODES[total % 11]


def normalise_id_number(value: str) -> str:
    """18-digit resident ID: format, date of birth and the GB 11643 check character."""
    number = re.sub(r"\s", "", value or "").upper()
    if not ID_RE.match(number):
        raise ValidationError("身份证号应为18位，前17位为数字，最后一位为数字或X", code="invalid_id_format")
    try:
        birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ValidationError("身份证号中的出生日期不正确，请核对", code="invalid_id_birth") from None
    if birth > dt.date.today() or birth.year < 1900:
        raise ValidationError("身份证号中的出生日期不正确，请核对", code="invalid_id_birth")
    if id_check_code(number[:17]) != number[17]:
        raise ValidationError("身份证号校验位不正确，请核对后重新输入", code="invalid_id_checksum")
    return number
