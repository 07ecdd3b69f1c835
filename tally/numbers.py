"""Exact numbers shown to people: rounded for reading, never rounded onto the limit they are
compared with, so a reason never reads "90.00 < 90" or "10.0% > 10%"."""

from __future__ import annotations

import re
from collections.abc import Iterable
from fractions import Fraction


def decimal(value: Fraction, places: int = 2) -> str:
    rounded = round(value, places)
    sign = "-" if rounded < 0 else ""
    scaled = abs(rounded) * 10**places
    return f"{sign}{scaled // 10**places}.{int(scaled % 10**places):0{places}d}"


def against(value: Fraction, limits: Iterable[Fraction], places: int = 2) -> str:
    """`value` rounded, with more digits when rounding would make it read as one of the limits
    it is compared with (89.999 must not print as 90.00, nor 10.04% as 10.0%)."""
    limits = [limit for limit in limits if limit != value]
    for extra in range(places, 9):
        text = decimal(value, extra)
        if Fraction(text) not in limits:
            return text
    return f"≈{text}"  # closer than 1e-8 to a limit


def short(value: Fraction) -> str:
    """A number the organisers wrote (80, 12.5) without trailing zeros."""
    return decimal(value, 4).rstrip("0").rstrip(".")


def pct(value: Fraction) -> str:
    return f"{short(value * 100)}%"


def pct_against(value: Fraction, limit: Fraction) -> str:
    return f"{against(value * 100, [limit * 100], 1)}%"


def exact_text(value: Fraction) -> str:
    """The number as text that reads back to exactly it: a decimal where one is exact (12.5,
    80), else the fraction (1/3)."""
    text = f"{value.numerator}/{value.denominator}"
    scale = 1
    while scale <= 10**12:
        if (value * scale).denominator == 1:
            whole = value * scale
            digits = str(abs(whole.numerator)).rjust(len(str(scale)), "0")
            places = len(str(scale)) - 1
            sign = "-" if value < 0 else ""
            head, tail = digits[: len(digits) - places] or "0", digits[len(digits) - places :]
            return sign + (f"{head}.{tail}".rstrip("0").rstrip(".") if places else head)
        scale *= 10
    return text


# A number as a file or a form gives it: digits with at most one decimal point, or a fraction
# as `exact_text` writes one. Never an exponent: Fraction("1e999999") would take the process
# seconds and a megabyte to build.
NUMBER_TEXT = re.compile(r"-?[0-9]{1,15}(\.[0-9]{1,15}|/[1-9][0-9]{0,15})?")


def parse_number(text: str) -> Fraction | None:
    """The exact number this text writes (`NUMBER_TEXT`), or None."""
    text = text.strip()
    return Fraction(text) if NUMBER_TEXT.fullmatch(text) else None
