"""The scoring modules' shared input checks (tally/scoring.py): every refusal names where it is
and what was wrong; and the edges of the configurations that read them."""

from __future__ import annotations

from fractions import Fraction

import pytest

from tally.engine import Step
from tally.errors import InputError
from tally.indicators import Indicator
from tally.items import ItemForm
from tally.scoring import check_scale, exact, steps_to_json, unique_ids


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (True, "“True”不是数值"),
        (float("inf"), "“inf”不是有效数值"),
        (float("nan"), "“nan”不是有效数值"),
        ("七", "“七”不是数值"),
        ("1/0", "“1/0”不是数值"),
        (None, "“None”不是数值"),
        ([1], "“[1]”不是数值"),
    ],
)
def test_what_is_not_a_number_is_named(value: object, message: str) -> None:
    with pytest.raises(InputError) as refused:
        exact(value, "items.weight")
    assert (refused.value.where, refused.value.message) == ("items.weight", message)


def test_numbers_read_exactly() -> None:
    assert exact(0.1, "x") == Fraction(1, 10) and exact(" 2.5 ", "x") == Fraction(5, 2)
    assert exact(3, "x") == 3 and exact(Fraction(1, 3), "x") == Fraction(1, 3)


def test_ids_are_present_and_unique() -> None:
    unique_ids(["a", "b"], "items", "项目")
    with pytest.raises(InputError, match="项目编号不能为空") as refused:
        unique_ids(["a", ""], "items", "项目")
    assert refused.value.where == "items[2].id"
    with pytest.raises(InputError, match="项目编号“a”重复"):
        unique_ids(["a", "a"], "items", "项目")


@pytest.mark.parametrize("grades", [("好",), ("好", "好"), ("好", "")])
def test_a_scale_needs_two_distinct_grades(grades: tuple[str, ...]) -> None:
    with pytest.raises(InputError, match="等次应为2个以上互不相同的非空词") as refused:
        check_scale(grades, (Fraction(50),) * (len(grades) - 1), "composite")
    assert refused.value.where == "composite.grades"


def test_steps_serialise_as_the_engine_writes_them() -> None:
    steps = [Step("base", "好", "得分92≥90"), Step("item_empty", None, "无人作答")]
    assert steps_to_json(steps) == [
        {"rule": "base", "grade": "好", "why": "得分92≥90"},
        {"rule": "item_empty", "grade": None, "why": "无人作答"},
    ]


@pytest.mark.parametrize("top", [0, -1, True, 2.5, "5"])
def test_a_points_form_needs_a_whole_positive_top(top: object) -> None:
    with pytest.raises(InputError, match="应为≥1的整数") as refused:
        ItemForm.points_scale((), top)  # type: ignore[arg-type]
    assert refused.value.where == "items.points"


def test_thresholds_may_carry_a_target_too() -> None:
    indicator = Indicator("i1", "集体经济收入", "thresholds", target="10", thresholds=((10, 100),))
    assert indicator.target == 10
