"""逐项测评: item checklists, their shares, scores, decisive items and voter groups."""

from __future__ import annotations

import random
from fractions import Fraction as F

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tally.errors import InputError
from tally.items import (
    FOUR_LEVELS,
    IS_OR_NOT,
    Item,
    ItemForm,
    item_scores,
    item_scores_by_group,
)
from tally.model import ABSTAIN, SPOILED, Group

PROPERTY = settings(max_examples=200, deadline=None)
GRADES = ("好", "较好", "一般", "差")
CUTOFFS = (F(90), F(80), F(60))
ITEMS = (Item("a", "政治建设"), Item("b", "廉洁自律", decisive=True), Item("c", "工作作风"))


def column(**counts: int) -> list[str]:
    """column(能=3, 不能=2, 弃权=1) -> one item's answers on 6 ballots."""
    names = {"弃权": ABSTAIN, "废": SPOILED}
    return [names.get(answer, answer) for answer, n in counts.items() for _ in range(n)]


def ballots(**columns: list[str]) -> list[dict[str, str]]:
    rows = max(len(c) for c in columns.values())
    return [{item: c[i] for item, c in columns.items() if i < len(c)} for i in range(rows)]


def test_shares_exclude_blanks_and_spoiled_answers() -> None:
    form = ItemForm(ITEMS)
    result = item_scores(form, ballots(a=column(能=3, 不能=1, 弃权=2, 废=1)))
    a = result.items[0]
    assert (a.answered, a.blank, a.spoiled) == (4, 2, 1)
    assert a.counts == {"能": 3, "不能": 1}
    assert (a.positive_share, a.negative_share, a.score) == (F(3, 4), F(1, 4), F(75))
    # b and c: never given on those 7 ballots, so 7 blanks each, and out of the mean
    assert result.items[1].blank == 7
    assert result.excluded == ("b", "c")
    assert result.score == 75


def test_mean_positive_is_the_mean_of_the_item_shares() -> None:
    form = ItemForm(ITEMS)
    result = item_scores(
        form, ballots(a=column(能=4), b=column(能=1, 不能=3), c=column(能=2, 不能=2))
    )
    assert result.score == (100 + 25 + 50) * F(1, 3)
    assert result.weights == {"a": F(1, 3), "b": F(1, 3), "c": F(1, 3)}
    assert result.steps[0].why == "3项“能”比例平均×100 = 58.33"


def test_item_weights() -> None:
    items = (Item("a", "甲", F(3)), Item("b", "乙", F(1)))
    result = item_scores(ItemForm(items), ballots(a=column(能=1), b=column(不能=1)))
    assert result.score == 75
    assert "加权平均" in result.steps[0].why


@pytest.mark.parametrize(
    ("answers", "majority"),
    [
        (column(能=5, 不能=5), False),  # exactly half is not a majority
        (column(能=4, 不能=5), True),
        (column(能=5, 不能=5, 弃权=3), False),  # blanks are not answers
        (column(能=4, 不能=5, 弃权=10), True),  # ... and do not dilute the negative ones
        (column(能=1, 不能=1, 废=5), False),
        (column(不能=1), True),
        (column(能=1, 不能=2), True),
        (column(能=0, 不能=0, 弃权=2), False),  # no answers, no majority
    ],
)
def test_a_decisive_item_needs_more_than_half_of_the_answers(
    answers: list[str], majority: bool
) -> None:
    form = ItemForm(ITEMS, decisive_grade="差", grades=GRADES, cutoffs=CUTOFFS)
    result = item_scores(form, ballots(a=column(能=len(answers)), b=answers))
    assert result.items[1].negative_majority is majority
    assert bool(result.decisive) is majority
    if majority:
        assert result.grade == "差"
        assert result.steps[-1].rule == "decisive" and result.steps[-1].grade == "差"
    else:
        assert result.grade != "差"


def test_decisive_reasons() -> None:
    form = ItemForm(ITEMS, decisive_grade="差", grades=GRADES, cutoffs=CUTOFFS)
    result = item_scores(form, ballots(a=column(能=11), b=column(能=5, 不能=6)))
    assert [s.rule for s in result.steps] == ["item_empty", "items", "base", "decisive"]
    assert result.steps[2].why == "逐项得分72.73 ≥ 60 → 一般"  # (100 + 5/11 × 100) / 2
    assert result.steps[-1].why == "否决项“廉洁自律”：不能 6/11=54.5%，超过50% → 差"
    assert result.grade == "差"
    assert result.steps[0].why == "项目“工作作风”无人作答（均为弃权），不计入平均"


def test_a_decisive_item_without_a_decisive_grade_only_adds_a_reason() -> None:
    form = ItemForm(ITEMS, grades=GRADES, cutoffs=CUTOFFS)
    result = item_scores(form, ballots(a=column(能=3), b=column(能=1, 不能=2), c=column(能=3)))
    assert result.grade == "一般"  # (100 + 100/3 + 100) / 3 = 77.78
    assert result.steps[-1].rule == "decisive" and result.steps[-1].grade is None
    assert result.steps[-1].why.endswith("（未设否决等次，仅记录）")


def test_a_decisive_grade_without_cutoffs_is_the_only_grade() -> None:
    form = ItemForm(ITEMS, decisive_grade="差")
    assert item_scores(form, ballots(a=column(能=1), b=column(能=1))).grade is None
    assert item_scores(form, ballots(a=column(能=1), b=column(不能=1))).grade == "差"


def test_is_or_not_and_a_scale_with_a_positive_set() -> None:
    form = ItemForm(ITEMS[:1], IS_OR_NOT)
    assert item_scores(form, ballots(a=column(是=1, 不是=3))).score == 25
    scale = ItemForm(ITEMS, FOUR_LEVELS, positive=("好", "较好"), decisive_grade="差")
    result = item_scores(scale, ballots(a=column(好=1, 较好=1, 一般=1, 差=1), b=column(一般=3)))
    assert result.items[0].positive_share == F(1, 2)
    assert result.items[0].negative_share == F(1, 4)  # the last option, 差, by default
    assert result.grade is None  # 一般 is neither positive nor, by default, negative
    strict = ItemForm(
        ITEMS, FOUR_LEVELS, positive=("好",), negative=("一般", "差"), decisive_grade="差"
    )
    assert item_scores(strict, ballots(b=column(好=1, 一般=2))).grade == "差"


def test_points_scoring() -> None:
    form = ItemForm.points_scale(ITEMS[:2], 5)
    assert form.options == ("5", "4", "3", "2", "1", "0")
    result = item_scores(form, ballots(a=column(**{"5": 1, "3": 1}), b=column(**{"0": 1, "2": 1})))
    assert result.items[0].mean_points == 4 and result.items[0].score == 80
    assert result.items[1].mean_points == 1 and result.items[1].score == 20
    assert result.score == 50
    assert result.steps[0].why == "2项平均得分（满分5分）折合百分制后平均 = 50.00"
    scale = ItemForm(ITEMS[:1], FOUR_LEVELS, points=(F(100), F(80), F(60), F(0)), scoring="points")
    assert item_scores(scale, ballots(a=column(好=1, 较好=1, 一般=1, 差=1))).score == 60


def test_nothing_answered_is_no_score() -> None:
    result = item_scores(ItemForm(ITEMS), ballots(a=column(弃权=3)))
    assert result.score is None and result.grade is None and result.weights == {}
    assert result.steps[-1].why == "各项目均无人作答，无法计算逐项得分"
    assert item_scores(ItemForm(ITEMS), []).score is None


def test_bad_answers_are_refused() -> None:
    with pytest.raises(InputError, match="项目“z”不存在"):
        item_scores(ItemForm(ITEMS), [{"z": "能"}], "r1")
    with pytest.raises(InputError, match="逐项测评r1 第2张 a：无效的回答“好”"):
        item_scores(ItemForm(ITEMS), [{"a": "能"}, {"a": "好"}], "r1")


@pytest.mark.parametrize(
    ("kwargs", "where"),
    [
        ({"items": ()}, "items"),
        ({"items": (Item("a", "甲"), Item("a", "乙"))}, "items[2].id"),
        ({"items": (Item("a", "甲", F(0)),)}, "items[1].weight"),
        ({"options": ("能",)}, "items.options"),
        ({"options": ("能", "")}, "items.options"),
        ({"positive": ("好",)}, "items.positive"),
        ({"positive": ("能",), "negative": ("能",)}, "items.negative"),
        ({"scoring": "points"}, "items.points"),  # points mode without points
        ({"points": (F(1),)}, "items.points"),  # not one per option
        ({"scoring": "median"}, "items.scoring"),
        ({"grades": GRADES}, "items.cutoffs"),
        (
            {"grades": GRADES, "cutoffs": CUTOFFS, "decisive_grade": "不合格"},
            "items.decisive_grade",
        ),
    ],
)
def test_a_bad_form_is_refused(kwargs: dict, where: str) -> None:
    kwargs = {"items": ITEMS, **kwargs}
    with pytest.raises(InputError) as caught:
        ItemForm(**kwargs)
    assert caught.value.where == where


# -- per voter group -------------------------------------------------------------------------

GROUPS = (Group("lead", "县级领导", 10, F("0.4")), Group("base", "基层代表", 10, F("0.6")))


def test_groups_are_weighted_and_both_results_exposed() -> None:
    form = ItemForm(ITEMS, decisive_grade="差")
    answers = {
        "lead": ballots(a=column(能=1), b=column(不能=1)),
        "base": ballots(a=column(能=1, 不能=1), b=column(能=3)),
    }
    result = item_scores_by_group(form, answers, GROUPS)
    assert result.by_group["lead"].score == 50 and result.by_group["lead"].grade == "差"
    assert result.by_group["base"].score == 75
    a, b = result.combined.items[:2]
    assert a.positive_share == F("0.4") * 1 + F("0.6") * F(1, 2)
    assert b.negative_share == F("0.4")  # 0.4 × 1 + 0.6 × 0: not a majority
    assert result.combined.score == F("0.4") * 50 + F("0.6") * 75
    assert result.combined.grade is None
    assert result.weights == {"lead": F("0.4"), "base": F("0.6")}
    assert a.counts == {"能": 2, "不能": 1}  # counts are pooled, shares are weighted


def test_a_group_without_answers_gives_its_weight_to_the_others() -> None:
    form = ItemForm(ITEMS, decisive_grade="差")
    result = item_scores_by_group(form, {"base": ballots(b=column(不能=2, 能=1))}, GROUPS)
    assert result.weights == {"base": F(1)}
    assert result.by_group["lead"].score is None
    assert result.combined.steps[0].why == "县级领导无作答，其权重在其余组间按比例折算"
    assert result.combined.grade == "差"
    assert result.combined.decisive[0].why == "否决项“廉洁自律”：不能各组加权占66.7%，超过50% → 差"


def test_an_unknown_group_is_refused() -> None:
    with pytest.raises(InputError, match="分组“x”不存在"):
        item_scores_by_group(ItemForm(ITEMS), {"x": []}, GROUPS)


# -- properties ------------------------------------------------------------------------------

ANSWER = st.sampled_from(["能", "不能", ABSTAIN, SPOILED, None])  # None: item left out


@st.composite
def checklists(draw: st.DrawFn) -> tuple[ItemForm, list[dict[str, str]]]:
    n = draw(st.integers(1, 5))
    weights = draw(st.lists(st.sampled_from([F(1), F(2), F(1, 3)]), min_size=n, max_size=n))
    decisive = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    items = tuple(Item(f"i{k}", f"项目{k}", weights[k], decisive[k]) for k in range(n))
    form = ItemForm(items, decisive_grade=draw(st.sampled_from([None, "差"])))
    rows = []
    for _ in range(draw(st.integers(0, 12))):
        rows.append({item.id: a for item in items if (a := draw(ANSWER)) is not None})
    return form, rows


@PROPERTY
@given(checklists(), st.randoms(use_true_random=False))
def test_the_order_of_ballots_never_matters(case: tuple, rng: random.Random) -> None:
    form, rows = case
    shuffled = list(rows)
    rng.shuffle(shuffled)
    assert item_scores(form, shuffled) == item_scores(form, rows)


@PROPERTY
@given(checklists())
def test_scores_stay_within_0_to_100_and_weights_sum_to_1(case: tuple) -> None:
    form, rows = case
    result = item_scores(form, rows)
    if result.score is None:
        assert not result.weights
        return
    assert 0 <= result.score <= 100
    assert all(t.score is None or 0 <= t.score <= 100 for t in result.items)
    assert sum(result.weights.values()) == 1


@PROPERTY
@given(checklists(), st.sampled_from([F(1), F(3), F(1, 7)]))
def test_equal_weights_equal_the_unweighted_mean(case: tuple, weight: F) -> None:
    form, rows = case
    same = ItemForm(tuple(Item(i.id, i.text, weight, i.decisive) for i in form.items))
    result = item_scores(same, rows)
    shares = [t.positive_share for t in result.items if t.positive_share is not None]
    expected = sum(shares, F(0)) * 100 / len(shares) if shares else None
    assert result.score == expected
    unweighted = ItemForm(tuple(Item(i.id, i.text) for i in form.items))
    assert result.score == item_scores(unweighted, rows).score


@PROPERTY
@given(checklists())
def test_a_decisive_majority_is_strictly_more_than_half(case: tuple) -> None:
    form, rows = case
    result = item_scores(form, rows)
    for tally in result.items:
        assert tally.negative_majority is (2 * tally.counts["不能"] > tally.answered)
    forced = [s for s in result.steps if s.rule == "decisive"]
    assert len(forced) == sum(t.item.decisive and t.negative_majority for t in result.items)
    if forced and form.decisive_grade:
        assert result.grade == form.decisive_grade


@PROPERTY
@given(checklists())
def test_one_group_combined_equals_the_plain_result(case: tuple) -> None:
    form, rows = case
    one = (Group("all", "全体", 100, F(1)),)
    grouped = item_scores_by_group(form, {"all": rows}, one)
    plain = item_scores(form, rows)
    assert grouped.combined.score == plain.score
    assert grouped.combined.grade == plain.grade
    assert grouped.by_group["all"] == plain
