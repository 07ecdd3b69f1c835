"""项目指标: each scoring rule at its edges, weights, missing values, and properties."""

from __future__ import annotations

import random
from fractions import Fraction as F

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tally.errors import InputError
from tally.indicators import Indicator, indicator_score, indicator_scores, score_indicator

PROPERTY = settings(max_examples=200, deadline=None)


def linear(target: int | str, lower: bool = False) -> Indicator:
    return Indicator("i", "指标", "linear", target=F(target), lower_is_better=lower)


STEPS = ((F(10), F(100)), (F(5), F(60)), (F(1), F(30)))


@pytest.mark.parametrize(
    ("indicator", "actual", "expected"),
    [
        # linear, more is better
        (linear(100), 100, F(100)),  # exactly at target
        (linear(100), "99.99", F("99.99")),
        (linear(100), 150, F(100)),  # capped
        (linear(100), 0, F(0)),
        (linear(100), -5, F(0)),  # never below 0
        (linear(3), 1, F(100, 3)),  # exact thirds
        (linear(0), 0, F(100)),  # a zero target is met by any actual ≥ 0
        (linear(0), 7, F(100)),
        (linear(0), -1, F(0)),
        (linear("0.5"), "0.25", F(50)),
        # linear, less is better
        (linear(5, True), 5, F(100)),  # exactly at target
        (linear(5, True), 10, F(50)),
        (linear(5, True), 0, F(100)),  # 0 never divides
        (linear(5, True), -1, F(100)),
        (linear(0, True), 0, F(100)),  # zero target met by zero
        (linear(0, True), 3, F(0)),  # zero target missed: 0/3
        # thresholds, at each edge
        (Indicator("i", "指标", "thresholds", thresholds=STEPS), 10, F(100)),
        (Indicator("i", "指标", "thresholds", thresholds=STEPS), "9.99", F(60)),
        (Indicator("i", "指标", "thresholds", thresholds=STEPS), 5, F(60)),
        (Indicator("i", "指标", "thresholds", thresholds=STEPS), "4.99", F(30)),
        (Indicator("i", "指标", "thresholds", thresholds=STEPS), 1, F(30)),
        (Indicator("i", "指标", "thresholds", thresholds=STEPS), "0.99", F(0)),
        (Indicator("i", "指标", "thresholds", thresholds=STEPS, below=F(10)), 0, F(10)),
        (Indicator("i", "指标", "thresholds", thresholds=STEPS[::-1]), 5, F(60)),  # any order
        # thresholds, less is better: (at most value, score)
        (Indicator("i", "指标", "thresholds", thresholds=STEPS, lower_is_better=True), 1, F(30)),
        (Indicator("i", "指标", "thresholds", thresholds=STEPS, lower_is_better=True), 0, F(30)),
        (Indicator("i", "指标", "thresholds", thresholds=STEPS, lower_is_better=True), 2, F(60)),
        (Indicator("i", "指标", "thresholds", thresholds=STEPS, lower_is_better=True), 10, F(100)),
        (Indicator("i", "指标", "thresholds", thresholds=STEPS, lower_is_better=True), 11, F(0)),
        # pass / fail
        (Indicator("i", "指标", "pass_fail", target=F(1)), 1, F(100)),
        (Indicator("i", "指标", "pass_fail", target=F(1)), "0.999", F(0)),
        (Indicator("i", "指标", "pass_fail", target=F(0), lower_is_better=True), 0, F(100)),
        (Indicator("i", "指标", "pass_fail", target=F(0), lower_is_better=True), 1, F(0)),
    ],
)
def test_one_indicator_table(indicator: Indicator, actual: object, expected: F) -> None:
    score, step = score_indicator(indicator, actual)  # type: ignore[arg-type]
    assert score == expected
    assert step.rule == "indicator" and "指标“指标”" in step.why


def test_reasons_read_well() -> None:
    _, step = score_indicator(Indicator("g", "招商引资", target=F(100), unit="万元"), 80)
    assert step.why == "指标“招商引资”（按完成比例）：实际80万元 / 目标100万元 = 80.00%，得80.00分"
    _, step = score_indicator(Indicator("x", "信访", target=F(5), lower_is_better=True), 10)
    assert step.why == "指标“信访”（按完成比例）：目标5 / 实际10 = 50.00%，得50.00分"
    _, step = score_indicator(Indicator("t", "发展党员", "thresholds", thresholds=STEPS), "0.5")
    assert step.why == "指标“发展党员”（分档）：实际0.5 ＜ 最低一档1，得0.00分"
    _, step = score_indicator(Indicator("p", "整改", "pass_fail", target=F(1)), 1)
    assert step.why == "指标“整改”（达标制）：实际1 ≥ 目标1，达标，得100.00分"


INDICATORS = (
    Indicator("a", "招商引资", target=F(100), weight=F("0.5")),
    Indicator("b", "信访", target=F(5), lower_is_better=True, weight=F("0.3")),
    Indicator("c", "发展党员", "thresholds", thresholds=STEPS, weight=F("0.2")),
)


def test_weighted_mean_of_the_indicators() -> None:
    result = indicator_score(INDICATORS, {"a": 80, "b": 10, "c": 5})
    assert result.score == F("0.5") * 80 + F("0.3") * 50 + F("0.2") * 60
    assert sum(result.weights.values()) == 1
    assert (
        result.steps[-1].why
        == "项目指标得分 = 加权平均 67.00（权重：招商引资50%、信访30%、发展党员20%）"
    )


def test_a_missing_actual_is_excluded_and_its_weight_spread() -> None:
    result = indicator_score(INDICATORS, {"a": 80, "b": None})
    assert result.excluded == ("b", "c")
    assert result.weights == {"a": 1}
    assert result.score == 80
    missing = [s.why for s in result.steps if s.rule == "indicator_missing"]
    assert missing == ["指标“信访”无实际值，不计入", "指标“发展党员”无实际值，不计入"]
    assert "信访、发展党员无实际值，其权重在其余指标间按比例折算" in result.steps[-1].why
    assert indicator_score(INDICATORS, {"a": 80, "b": " ", "c": 5}).excluded == ("b",)


def test_no_actual_at_all_is_no_score() -> None:
    result = indicator_score(INDICATORS, {})
    assert result.score is None and result.weights == {}
    assert result.steps[-1].why == "无任何指标实际值，项目指标缺失"


def test_every_reporter_at_once() -> None:
    out = indicator_scores(INDICATORS, {"r1": {"a": 100}, "r2": {}})
    assert out["r1"].score == 100 and out["r2"].score is None


@pytest.mark.parametrize(
    ("make", "where"),
    [
        (lambda: Indicator("i", "指标"), "indicators.i.target"),  # linear needs a target
        (lambda: Indicator("i", "指标", target=F(-1)), "indicators.i.target"),
        (lambda: Indicator("i", "指标", "thresholds"), "indicators.i.thresholds"),
        (
            lambda: Indicator("i", "指标", "thresholds", thresholds=((F(1), F(50)), (F(1), F(60)))),
            "indicators.i.thresholds",
        ),
        (
            lambda: Indicator("i", "指标", "thresholds", thresholds=((F(1), F(150)),)),
            "indicators.i.thresholds",
        ),
        (lambda: Indicator("i", "指标", target=F(1), weight=F(0)), "indicators.i.weight"),
        (lambda: Indicator("i", "指标", "share", target=F(1)), "indicators.i.rule"),  # type: ignore[arg-type]
        (lambda: Indicator("", "指标", target=F(1)), "indicators.id"),
    ],
)
def test_a_bad_indicator_is_refused(make: object, where: str) -> None:
    with pytest.raises(InputError) as caught:
        make()  # type: ignore[operator]
    assert caught.value.where.startswith(where)


def test_unknown_indicator_or_bad_value_is_refused() -> None:
    with pytest.raises(InputError, match="指标“z”不存在"):
        indicator_score(INDICATORS, {"z": 1}, "r1")
    with pytest.raises(InputError, match="a实际值"):
        indicator_score(INDICATORS, {"a": "很多"})
    with pytest.raises(InputError, match="重复"):
        indicator_score((*INDICATORS, INDICATORS[0]), {})


ACTUAL = st.one_of(st.none(), st.integers(-5, 200), st.fractions(-5, 200, max_denominator=7))
RULES = st.sampled_from(
    [
        linear(100),
        linear(0),
        linear(5, True),
        linear(0, True),
        Indicator("i", "指标", "thresholds", thresholds=STEPS),
        Indicator("i", "指标", "thresholds", thresholds=STEPS, lower_is_better=True),
        Indicator("i", "指标", "pass_fail", target=F(50)),
    ]
)


@st.composite
def indicator_sets(draw: st.DrawFn) -> tuple[tuple[Indicator, ...], dict]:
    n = draw(st.integers(1, 5))
    indicators = []
    for i in range(n):
        base = draw(RULES)
        weight = draw(st.sampled_from([F(1), F(1, 3), F("0.25"), F(2)]))
        indicators.append(
            Indicator(
                f"i{i}",
                f"指标{i}",
                base.rule,
                base.target,
                base.thresholds,
                base.below,
                base.lower_is_better,
                weight,
            )
        )
    actuals = {ind.id: draw(ACTUAL) for ind in indicators}
    return tuple(indicators), actuals


@PROPERTY
@given(indicator_sets(), st.randoms(use_true_random=False))
def test_scores_stay_within_0_to_100_and_weights_sum_to_1(case: tuple, rng: random.Random) -> None:
    indicators, actuals = case
    result = indicator_score(indicators, actuals)
    if result.score is None:
        assert all(v is None for v in actuals.values())
        return
    assert 0 <= result.score <= 100
    assert all(0 <= s <= 100 for s in result.scores.values())
    assert sum(result.weights.values()) == 1
    items = list(actuals.items())
    rng.shuffle(items)
    shuffled = list(indicators)
    rng.shuffle(shuffled)
    assert indicator_score(tuple(shuffled), dict(items)).score == result.score


@PROPERTY
@given(indicator_sets())
def test_a_missing_actual_equals_computing_without_that_indicator(case: tuple) -> None:
    indicators, actuals = case
    present = tuple(i for i in indicators if actuals[i.id] is not None)
    without = indicator_score(present, {k: v for k, v in actuals.items() if v is not None})
    assert indicator_score(indicators, actuals).score == without.score


@PROPERTY
@given(st.fractions(0, 1000, max_denominator=9), st.fractions(0, 1000, max_denominator=9))
def test_linear_is_monotone_in_the_right_direction(a: F, b: F) -> None:
    lo, hi = sorted((a, b))
    more, less = linear(100), linear(100, True)
    assert score_indicator(more, lo)[0] <= score_indicator(more, hi)[0]
    assert score_indicator(less, lo)[0] >= score_indicator(less, hi)[0]
