"""专家点评: trimming the highest and the lowest score, exactly, and its reasons."""

from __future__ import annotations

import random
from fractions import Fraction as F

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tally.errors import InputError
from tally.experts import ExpertPanel, expert_score, expert_scores

PROPERTY = settings(max_examples=200, deadline=None)


def panel_of(scores: list[int | str]) -> dict[str, int | str]:
    return {f"e{i}": s for i, s in enumerate(scores, 1)}


@pytest.mark.parametrize(
    ("scores", "trim_from", "expected", "high", "low"),
    [
        ([80], 5, F(80), None, None),
        ([80, 90], 5, F(85), None, None),
        ([80, 90, 70, 60], 5, F(75), None, None),  # 4 < 5: the plain mean
        ([80, 90, 70, 60, 100], 5, F(80), "e5", "e4"),  # exactly 5: trimmed
        ([80, 90, 70, 60, 100, 50], 5, F(75), "e5", "e6"),
        ([90, 90, 90, 60, 60], 5, F(80), "e3", "e4"),  # ties: one each, by (score, id)
        ([80, 80, 80, 80, 80], 5, F(80), "e5", "e1"),  # all tied: still two experts dropped
        ([80, 90, 70], 3, F(80), "e2", "e3"),  # trim_from configured lower
        ([80, 90, 70, 60, 100], 6, F(80), None, None),  # ... or higher
        (["82.5", "77.5", 90, 60, 100], 5, F(250, 3), "e5", "e4"),  # decimals, exactly
    ],
)
def test_trimming_table(
    scores: list[int | str], trim_from: int, expected: F, high: str | None, low: str | None
) -> None:
    result = expert_score(panel_of(scores), ExpertPanel(trim_from=trim_from))
    assert result.score == expected
    assert (result.dropped_high, result.dropped_low) == (high, low)
    assert len(result.used) == len(scores) - (2 if high else 0)


def test_reasons_name_the_dropped_experts_and_why() -> None:
    result = expert_score({"e1": 90, "e2": 95, "e3": 95, "e4": 60, "e5": 70})
    (step,) = result.steps
    assert step.rule == "experts" and step.grade is None
    assert "专家5人（≥5人）" in step.why
    assert "去掉一个最高分：e3 95分（e2、e3并列95分，只去掉一个：e3）" in step.why
    assert "一个最低分：e4 60分；其余3人平均" in step.why
    assert result.used == ("e1", "e2", "e5")


def test_fewer_experts_than_the_trim_say_so() -> None:
    (step,) = expert_score({"a": 70, "b": 80}).steps
    assert step.why == "专家2人（不足5人，不去分），平均 75.00"


def test_a_missing_score_is_left_out_with_a_reason() -> None:
    result = expert_score({"e1": 90, "e2": None, "e3": 80, "e4": 70, "e5": 60})
    assert result.score == F(75)  # 4 scores: not trimmed
    assert result.steps[0].why == "专家e2未评分，不计入"
    assert result.dropped_high is None


def test_no_scores_is_no_score() -> None:
    result = expert_score({"e1": None})
    assert result.score is None
    assert result.steps[-1].why == "无专家评分，专家点评缺失"
    assert expert_score({}).score is None


def test_another_scale_is_brought_to_100() -> None:
    result = expert_score({"e1": 9, "e2": 8}, ExpertPanel(max_score=F(10)))
    assert result.score == F(85)
    assert "满分10" in result.steps[-1].why and "折合百分制 85.00" in result.steps[-1].why
    assert expert_score({"e1": "7.5"}, ExpertPanel(max_score=F("7.5"))).score == 100


@pytest.mark.parametrize("bad", [-1, 101, "x", True, float("nan")])
def test_a_score_out_of_range_or_not_a_number_is_refused(bad: object) -> None:
    with pytest.raises(InputError, match="专家评分r01 e1"):
        expert_score({"e1": bad}, reporter="r01")  # type: ignore[dict-item]


def test_boundaries_of_the_scale_are_allowed() -> None:
    assert expert_score({"e1": 0, "e2": 100}).score == 50


@pytest.mark.parametrize(
    ("kwargs", "key"),
    [
        ({"trim_from": 2}, "trim_from"),
        ({"max_score": 0}, "max_score"),
        ({"trim_from": True}, "trim_from"),
    ],
)
def test_a_panel_that_makes_no_sense_is_refused(kwargs: dict, key: str) -> None:
    with pytest.raises(InputError, match=f"experts.{key}"):
        ExpertPanel(**kwargs)


def test_every_reporter_at_once() -> None:
    out = expert_scores({"r1": {"e1": 80}, "r2": {"e1": None}})
    assert out["r1"].score == 80 and out["r2"].score is None


SCORES = st.dictionaries(
    st.sampled_from([f"e{i}" for i in range(1, 10)]),
    st.integers(0, 100) | st.fractions(0, 100, max_denominator=8),
    max_size=9,
)


@PROPERTY
@given(SCORES, st.integers(3, 8), st.randoms(use_true_random=False))
def test_the_order_of_experts_never_matters(
    scores: dict, trim_from: int, rng: random.Random
) -> None:
    items = list(scores.items())
    rng.shuffle(items)
    panel = ExpertPanel(trim_from=trim_from)
    assert expert_score(dict(items), panel) == expert_score(scores, panel)


@PROPERTY
@given(SCORES, st.integers(3, 8))
def test_the_score_stays_within_the_scores_and_0_to_100(scores: dict, trim_from: int) -> None:
    result = expert_score(scores, ExpertPanel(trim_from=trim_from))
    if not scores:
        assert result.score is None
        return
    assert result.score is not None
    assert min(scores.values()) <= result.score <= max(scores.values())
    assert 0 <= result.score <= 100


@PROPERTY
@given(SCORES)
def test_trimming_drops_exactly_one_highest_and_one_lowest(scores: dict) -> None:
    result = expert_score(scores)
    if len(scores) < 5:
        assert result.score == (F(sum(scores.values()), len(scores)) if scores else None)
        return
    values = sorted(scores.values())
    assert result.score == F(sum(values[1:-1])) / (len(values) - 2)
    assert result.dropped_high != result.dropped_low
    assert scores[result.dropped_high] == values[-1] and scores[result.dropped_low] == values[0]
