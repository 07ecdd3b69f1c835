"""Numbers in reasons: rounded for people, but never onto the limit they are compared with."""

from __future__ import annotations

from fractions import Fraction as F

import pytest

from tally.numbers import against, decimal, pct, pct_against, short


@pytest.mark.parametrize(
    ("value", "places", "text"),
    [(F(82), 2, "82.00"), (F(2, 3), 2, "0.67"), (F(-1, 8), 2, "-0.12"), (F(1, 8), 1, "0.1")],
)
def test_decimal_rounds_half_to_even_exactly(value: F, places: int, text: str) -> None:
    assert decimal(value, places) == text


def test_against_adds_digits_only_when_rounding_would_hit_a_limit() -> None:
    assert against(F(89999, 1000), [F(90), F(80)]) == "89.999"
    assert against(F(80001, 1000), [F(90), F(80)]) == "80.001"
    assert against(F(80), [F(90), F(80)]) == "80.00"
    assert against(F(8512, 100), [F(90), F(80)]) == "85.12"


def test_percentages() -> None:
    assert pct(F(1, 10)) == "10%" and pct(F(1, 8)) == "12.5%" and short(F(90)) == "90"
    assert pct_against(F(3, 20), F(1, 10)) == "15.0%"
    assert pct_against(F(1001, 10001), F(1, 10)) == "10.01%"
    assert pct_against(F(1, 10), F(1, 10)) == "10.0%"
