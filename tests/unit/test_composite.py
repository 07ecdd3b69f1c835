"""综合得分: weighted sources, a missing source renormalised away, the grade by cutoffs."""

from __future__ import annotations

import random
from fractions import Fraction as F

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tally.composite import Composite, Source, composite, composites
from tally.engine import Step
from tally.errors import InputError

PROPERTY = settings(max_examples=200, deadline=None)

CONFIG = Composite(
    (
        Source("ind", "项目指标", F("0.4")),
        Source("vote", "群众测评", F("0.4")),
        Source("exp", "专家点评", F("0.2")),
    )
)


@pytest.mark.parametrize(
    ("scores", "score", "grade"),
    [
        ({"ind": 90, "vote": 90, "exp": 90}, F(90), "好"),  # exactly at the cutoff
        ({"ind": 100, "vote": 80, "exp": 90}, F(90), "好"),
        ({"ind": "89.99", "vote": 90, "exp": 90}, F("89.996"), "较好"),  # 89.996 is not 90
        ({"ind": 80, "vote": 80, "exp": 80}, F(80), "较好"),
        ({"ind": 60, "vote": 60, "exp": 60}, F(60), "一般"),
        ({"ind": 0, "vote": 0, "exp": 0}, F(0), "差"),
        ({"ind": 100, "vote": 100, "exp": 100}, F(100), "好"),
        ({"ind": 100, "vote": 50}, F(75), "一般"),  # 专家点评 missing: 0.5 + 0.5
        ({"ind": None, "vote": 70, "exp": 100}, F(80), "较好"),  # 2/3 × 70 + 1/3 × 100
        ({"exp": 95}, F(95), "好"),  # only one source left: its score
    ],
)
def test_composite_table(scores: dict, score: F, grade: str) -> None:
    result = composite(scores, CONFIG)
    assert result.score == score
    assert result.grade == result.base_grade == grade
    assert sum(result.weights.values()) == 1


def test_reasons_name_the_missing_source_and_the_weights_used() -> None:
    result = composite({"ind": 100, "vote": 50, "exp": None}, CONFIG)
    assert result.missing == ("exp",)
    assert result.weights == {"ind": F(1, 2), "vote": F(1, 2)}
    assert result.scores == {"ind": 100, "vote": 50, "exp": None}
    assert [s.why for s in result.steps] == [
        "专家点评缺失，其权重去掉，其余来源按比例折算",
        "综合得分 = 0.5×100.00 + 0.5×50.00 = 75.00（权重：项目指标50%、群众测评50%）",
        "综合得分75.00 ≥ 60 → 一般",
    ]
    assert result.steps[-1].grade == "一般"


def test_every_source_missing_is_no_score() -> None:
    result = composite({}, CONFIG)
    assert result.score is None and result.grade is None and result.weights == {}
    assert result.steps[-1].why == "项目指标、群众测评、专家点评均缺失，无法计算综合得分"


def test_a_forced_grade_replaces_the_cutoff_grade() -> None:
    veto = Step("decisive", "差", "否决项“廉洁自律”：不能 6/10=60.0%，超过50% → 差")
    result = composite({"ind": 95, "vote": 95, "exp": 95}, CONFIG, forced=[veto])
    assert (result.base_grade, result.grade) == ("好", "差")
    assert result.steps[-1] == veto
    # a step that forces nothing (no decisive grade configured) changes nothing
    note = Step("decisive", None, "否决项…（未设否决等次，仅记录）")
    assert composite({"ind": 95}, CONFIG, forced=[note]).grade == "好"
    with pytest.raises(InputError, match="强制等次“不合格”不在等次中"):
        composite({"ind": 95}, CONFIG, forced=[Step("decisive", "不合格", "…")])


def test_another_scale() -> None:
    config = Composite((Source("a", "甲", F(1)),), ("优秀", "合格", "不合格"), (F(85), F(60)))
    assert composite({"a": 85}, config).grade == "优秀"
    assert composite({"a": "59.999"}, config).steps[-1].why == "综合得分59.999 < 60 → 不合格"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Composite(()), "至少需要一个评价来源"),
        (lambda: Composite((Source("a", "甲", F("0.5")),)), "各来源权重之和为0.5；应恰好为1"),
        (lambda: Composite((Source("a", "甲", F(0)), Source("b", "乙", F(1)))), "应大于0"),
        (lambda: Composite((Source("a", "甲", F("0.5")), Source("a", "乙", F("0.5")))), "重复"),
        (lambda: Composite((Source("a", "甲", F(1)),), cutoffs=(F(90), F(80))), "少一个"),
        (lambda: Composite((Source("a", "甲", F(1)),), cutoffs=(F(80), F(90), F(60))), "递减"),
    ],
)
def test_a_bad_composite_is_refused(make: object, message: str) -> None:
    with pytest.raises(InputError, match=message):
        make()  # type: ignore[operator]


def test_bad_scores_are_refused() -> None:
    with pytest.raises(InputError, match="来源“x”不存在"):
        composite({"x": 1}, CONFIG)
    with pytest.raises(InputError, match="r1 ind"):
        composite({"ind": 101}, CONFIG, reporter="r1")


def test_every_reporter_at_once() -> None:
    veto = Step("decisive", "差", "…")
    out = composites({"r1": {"ind": 90}, "r2": {"ind": 90}}, CONFIG, {"r2": [veto]})
    assert out["r1"].grade == "好" and out["r2"].grade == "差"


def test_without_renormalises_the_configuration() -> None:
    assert [s.weight for s in CONFIG.without("exp").sources] == [F(1, 2), F(1, 2)]


WEIGHTS = st.lists(st.integers(1, 9), min_size=1, max_size=5)
SCORE = st.none() | st.integers(0, 100) | st.fractions(0, 100, max_denominator=9)


@st.composite
def cases(draw: st.DrawFn) -> tuple[Composite, dict]:
    raw = draw(WEIGHTS)
    total = sum(raw)
    config = Composite(tuple(Source(f"s{i}", f"来源{i}", F(w, total)) for i, w in enumerate(raw)))
    scores = {s.id: draw(SCORE) for s in config.sources}
    return config, scores


@PROPERTY
@given(cases(), st.randoms(use_true_random=False))
def test_score_within_0_to_100_weights_sum_to_1_order_free(case: tuple, rng: random.Random) -> None:
    config, scores = case
    result = composite(scores, config)
    if result.score is None:
        assert all(v is None for v in scores.values())
        return
    assert sum(result.weights.values()) == 1
    present = [v for v in scores.values() if v is not None]
    assert min(present) <= result.score <= max(present)
    assert 0 <= result.score <= 100
    items = list(scores.items())
    rng.shuffle(items)
    assert composite(dict(items), config).score == result.score


@PROPERTY
@given(cases())
def test_a_missing_source_equals_a_configuration_without_it(case: tuple) -> None:
    config, scores = case
    result = composite(scores, config)
    reduced = config
    for sid, value in scores.items():
        if value is None and len(reduced.sources) > 1:
            reduced = reduced.without(sid)
    kept = {s.id: scores[s.id] for s in reduced.sources}
    other = composite(kept, reduced)
    assert (other.score, other.grade, other.weights) == (result.score, result.grade, result.weights)
