"""Numbers in reasons: rounded for people, but never onto the limit they are compared with."""

from __future__ import annotations

from fractions import Fraction as F

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tally.numbers import against, decimal, pct, pct_against, short


@pytest.mark.parametrize(
    ("value", "places", "text"),
    [
        (F(82), 2, "82.00"),
        (F(100), 2, "100.00"),
        (F(2, 3), 2, "0.67"),
        (F(1, 100), 2, "0.01"),
        (F(105, 100), 2, "1.05"),
        (F(1, 8), 2, "0.12"),  # half to even, exactly: 0.125 is not a float here
        (F(3, 8), 2, "0.38"),
        (F(1, 8), 1, "0.1"),
        (F(1, 3), 4, "0.3333"),
        (F(-1, 8), 2, "-0.12"),
        (F(-6, 1000), 2, "-0.01"),
        (F(-123456, 1000), 1, "-123.5"),
        # No negative zero: what rounds to 0 reads 0.
        (F(-1, 1000), 2, "0.00"),
        (F(-5, 1000), 2, "0.00"),
        (F(-1, 100000), 4, "0.0000"),
    ],
)
def test_decimal_rounds_half_to_even_exactly(value: F, places: int, text: str) -> None:
    assert decimal(value, places) == text


def test_decimal_gives_two_places_by_default() -> None:
    assert decimal(F(1, 3)) == "0.33"


@given(st.fractions(min_value=-1000, max_value=1000), st.integers(1, 6))
def test_decimal_is_the_nearest_number_with_that_many_places(value: F, places: int) -> None:
    text = decimal(value, places)
    assert abs(F(text) - value) <= F(1, 2 * 10**places)
    assert len(text.partition(".")[2]) == places
    assert not text.startswith("-") or F(text) < 0


@pytest.mark.parametrize(
    ("value", "limits", "places", "text"),
    [
        (F(8512, 100), [F(90), F(80)], 2, "85.12"),
        (F(80), [F(90), F(80)], 2, "80.00"),  # on the limit: it may read as the limit
        (F(89999, 1000), [F(90), F(80)], 2, "89.999"),
        (F(80001, 1000), [F(90), F(80)], 2, "80.001"),
        (F(899999, 10000), [F(90)], 2, "89.9999"),
        (F(90) - F(1, 10**8), [F(90)], 2, "89.99999999"),
        (F(90) - F(1, 10**9), [F(90)], 2, "≈90.00000000"),  # closer than the last digit
        (F(-1, 1000), [F(0)], 2, "-0.001"),
        (F(1, 1000), [F(0)], 2, "0.001"),
        (F(1005, 100), [F(10)], 1, "10.05"),
        (F(9999, 1000), [F(10)], 1, "9.999"),
        (F(9999, 1000), [], 1, "10.0"),
    ],
)
def test_against_adds_digits_only_when_rounding_would_hit_a_limit(
    value: F, limits: list[F], places: int, text: str
) -> None:
    assert against(value, iter(limits), places) == text


def test_against_gives_two_places_by_default() -> None:
    assert against(F(8999, 100), [F(90)]) == "89.99"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (F(90), "90"),
        (F(100), "100"),
        (F(0), "0"),
        (F(25, 2), "12.5"),
        (F(-3, 2), "-1.5"),
        (F(1, 3), "0.3333"),
        (F(101, 10), "10.1"),
    ],
)
def test_short_drops_trailing_zeros(value: F, text: str) -> None:
    assert short(value) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [(F(1, 10), "10%"), (F(1, 8), "12.5%"), (F(2, 3), "66.6667%"), (F(1), "100%"), (F(0), "0%")],
)
def test_pct(value: F, text: str) -> None:
    assert pct(value) == text


@pytest.mark.parametrize(
    ("value", "limit", "text"),
    [
        (F(3, 20), F(1, 10), "15.0%"),
        (F(1, 10), F(1, 10), "10.0%"),
        (F(1001, 10001), F(1, 10), "10.01%"),
        (F(1, 2), F(3, 5), "50.0%"),
        (F(5999, 10000), F(3, 5), "59.99%"),
        (F(7, 10), F(4, 5), "70.0%"),
    ],
)
def test_pct_against(value: F, limit: F, text: str) -> None:
    assert pct_against(value, limit) == text
