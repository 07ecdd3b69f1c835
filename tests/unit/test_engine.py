"""Every rule of the engine and its boundaries, on small hand-made meetings."""

from __future__ import annotations

from fractions import Fraction as F

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tally.engine import result_to_json, tally
from tally.errors import InputError
from tally.model import ABSTAIN, SPOILED, Ballot, Group, Meeting, Reporter, Rules

ALL = (Group("all", "全体", 100_000),)  # room for the big cases; over the seats is refused


def meeting(
    n: int = 1, groups: tuple[Group, ...] = ALL, flags: dict | None = None, **rules: object
) -> Meeting:
    flags = flags or {}
    reporters = tuple(
        Reporter(f"r{i}", f"述职人{i}", f"单位{i}", flags=flags.get(f"r{i}", ()))
        for i in range(1, n + 1)
    )
    return Meeting("测试会议", "2026-12-28", reporters, groups, Rules(**rules))


def marks(**counts: int) -> list[str]:
    """marks(好=9, 差=1, 弃权=2, 废=1) -> one reporter's marks on 13 ballots."""
    names = {"弃权": ABSTAIN, "废": SPOILED}
    return [names.get(grade, grade) for grade, n in counts.items() for _ in range(n)]


def ballots(columns: dict[str, list[str]], group: str = "all", prefix: str = "") -> list[Ballot]:
    """One ballot per row; a reporter whose column is shorter is not on the later ballots."""
    rows = max(len(column) for column in columns.values())
    return [
        Ballot(
            f"{prefix}{group}-{i:05d}",
            group,
            {rid: column[i] for rid, column in columns.items() if i < len(column)},
        )
        for i in range(rows)
    ]


def one(m: Meeting, bs: list[Ballot]) -> dict:
    return result_to_json(tally(m, bs))["reporters"][0]


def rules_of(reporter_json: dict) -> list[str]:
    return [step["rule"] for step in reporter_json["steps"]]


# -- rule 1: counting ----------------------------------------------------------------------


def test_counts_abstentions_and_spoiled_marks_add_up_to_cast() -> None:
    r = one(meeting(), ballots({"r1": marks(好=3, 较好=2, 一般=1, 差=1, 弃权=2, 废=1)}))
    assert r["counts"] == {"好": 3, "较好": 2, "一般": 1, "差": 1}
    assert (r["abstain"], r["invalid"], r["cast"]) == (2, 1, 10)
    assert r["counts_by_group"] == {"all": r["counts"]}


def test_a_ballot_without_the_reporter_does_not_count_for_them() -> None:
    m = meeting(2)
    result = result_to_json(tally(m, ballots({"r1": marks(好=10), "r2": marks(好=4)})))
    r1, r2 = result["reporters"]
    assert (r1["cast"], r2["cast"], r2["abstain"]) == (10, 4, 0)
    assert result["quorum"]["cast"] == 4  # the least-carried reporter
    assert result["groups"] == [
        {
            "id": "all",
            "name": "全体",
            "seats": 100_000,
            "cast": 10,
            "phone": None,  # no ballot is paper: how they came is not known
            "paper": None,
            "spoiled": 0,
        }
    ]


# -- rule 2: base grade by score -----------------------------------------------------------


@pytest.mark.parametrize(
    ("counts", "score", "grade"),
    [
        ({"好": 10}, 100.0, "好"),
        ({"好": 1, "较好": 1}, 90.0, "好"),  # exactly on the cut
        ({"较好": 10}, 80.0, "较好"),  # 80.0 is 较好
        ({"好": 1, "一般": 1}, 80.0, "较好"),
        ({"好": 1, "较好": 2}, 86.67, "较好"),  # the JSON rounds to two places
        ({"好": 2, "较好": 1}, 93.33, "好"),
        ({"好": 3, "较好": 1, "一般": 1, "差": 0}, 88.0, "较好"),
        ({"一般": 10}, 60.0, "一般"),
        ({"一般": 9, "差": 1}, 54.0, "差"),
    ],
)
def test_score_cutoffs_are_inclusive(counts: dict, score: float, grade: str) -> None:
    r = one(meeting(poor_share_limit=F(1)), ballots({"r1": marks(**counts)}))
    assert (r["score"], r["base_grade"], r["final_grade"]) == (score, grade, grade)
    assert r["steps"][0]["rule"] == "base" and r["decided_by"] == r["steps"][0]["why"]


def test_a_score_a_hair_below_90_is_not_90() -> None:
    # 9999 × 好 and 10001 × 较好 is exactly 89.999: it must stay 较好, and say so.
    r = one(meeting(), ballots({"r1": marks(好=9999, 较好=10001)}))
    assert r["base_grade"] == "较好"
    assert r["score"] == 90.0  # the JSON rounds, the rule never does
    assert r["steps"][0]["why"] == "得分89.999 ≥ 80"


def test_the_reason_quotes_the_score_like_the_issue() -> None:
    r = one(meeting(), ballots({"r1": marks(好=3, 较好=4, 一般=3)}))
    assert r["steps"] == [{"rule": "base", "grade": "较好", "why": "得分80.00 ≥ 80"}]
    r = one(meeting(), ballots({"r1": marks(一般=1)}))
    assert r["steps"][0]["why"] == "得分60.00 ≥ 60"
    r = one(meeting(poor_share_limit=F(1)), ballots({"r1": marks(一般=1, 差=1)}))
    assert r["steps"][0]["why"] == "得分30.00 < 60"


def test_custom_grades_points_and_cutoffs() -> None:
    m = meeting(
        grades=("优秀", "合格", "不合格"),
        points=(F(10), F(6), F(0)),
        score_cutoffs=(F(8), F(5)),
    )
    r = one(m, ballots({"r1": marks(优秀=1, 合格=1)}))
    assert (r["score"], r["base_grade"]) == (8.0, "优秀")


# -- rule 2: weighted groups ---------------------------------------------------------------

GROUPS = (Group("a", "县级领导", 10, F("0.4")), Group("b", "基层代表", 10, F("0.6")))


def test_weighted_score_averages_the_groups_shares() -> None:
    bs = ballots({"r1": marks(好=1)}, "a") + ballots({"r1": marks(一般=9)}, "b")
    r = one(meeting(groups=GROUPS), bs)
    assert r["score"] == 76.0  # 0.4 × 100 + 0.6 × 60, whatever the group sizes
    assert r["base_grade"] == "一般"
    assert r["counts_by_group"]["a"]["好"] == 1 and r["counts_by_group"]["b"]["一般"] == 9


def test_a_group_without_votes_is_left_out_and_the_weights_renormalised() -> None:
    bs = ballots({"r1": marks(好=3)}, "a") + ballots({"r1": marks(弃权=4, 废=1)}, "b")
    r = one(meeting(groups=GROUPS), bs)
    assert (r["score"], r["base_grade"]) == (100.0, "好")
    assert r["steps"][0]["why"] == "得分100.00 ≥ 90（基层代表无有效票，权重在其余组间按比例折算）"


def test_two_groups_without_votes_are_both_named() -> None:
    groups = (
        Group("a", "县级领导", 5, F("0.2")),
        Group("b", "部门负责人", 5, F("0.3")),
        Group("c", "基层代表", 5, F("0.5")),
    )
    r = one(meeting(groups=groups), ballots({"r1": marks(较好=1, 一般=1)}, "c"))
    assert r["steps"][0]["why"] == (
        "得分70.00 ≥ 60（县级领导、部门负责人无有效票，权重在其余组间按比例折算）"
    )


# -- rule 2: base grade by share -----------------------------------------------------------


@pytest.mark.parametrize(
    ("counts", "grade", "why"),
    [
        ({"好": 6, "较好": 4}, "好", "好占60.0% ≥ 60%"),  # 60% reaches 0.6 exactly
        ({"好": 5, "较好": 1, "一般": 4}, "较好", "较好及以上占60.0% ≥ 60%"),
        ({"好": 5, "较好": 0, "一般": 5}, "一般", "一般及以上占100.0% ≥ 60%"),
        ({"好": 6001, "较好": 3999}, "好", "好占60.01% ≥ 60%"),  # not "60.0% ≥ 60%"
        ({"好": 5999, "较好": 4001}, "较好", "较好及以上占100.0% ≥ 60%"),
        ({"差": 10}, "差", "差及以上占100.0% ≥ 60%"),
    ],
)
def test_share_base_takes_the_best_grade_whose_cumulative_share_reaches_the_threshold(
    counts: dict, grade: str, why: str
) -> None:
    r = one(meeting(base="share", poor_share_limit=F(1)), ballots({"r1": marks(**counts)}))
    assert r["steps"] == [{"rule": "base", "grade": grade, "why": why}]


def test_share_base_is_weighted_over_groups() -> None:
    bs = ballots({"r1": marks(好=1)}, "a") + ballots({"r1": marks(好=1, 较好=1)}, "b")
    # 好: 0.4 × 1 + 0.6 × 0.5 = 0.7
    r = one(meeting(groups=GROUPS, base="share", share_threshold=F("0.7")), bs)
    assert r["base_grade"] == "好"
    r = one(meeting(groups=GROUPS, base="share", share_threshold=F("0.71")), bs)
    assert r["base_grade"] == "较好"


# -- rule 3: the poor-vote rule ------------------------------------------------------------


def test_exactly_ten_percent_poor_is_not_poor() -> None:
    r = one(meeting(), ballots({"r1": marks(好=9, 差=1)}))
    assert r["poor_share"] == 0.1
    assert r["final_grade"] == "好" and "poor_share" not in rules_of(r)


def test_more_than_ten_percent_poor_is_poor_and_says_why() -> None:
    r = one(meeting(), ballots({"r1": marks(好=17, 差=3)}))
    assert (r["base_grade"], r["final_grade"]) == ("较好", "差")
    assert r["steps"][-1] == {
        "rule": "poor_share",
        "grade": "差",
        "why": "差票 3/20=15.0% > 10%（占有效票）→ 差",
    }
    assert r["decided_by"] == r["steps"][-1]["why"]
    assert r["poor_share"] == 0.15


def test_a_poor_share_just_above_the_limit_is_not_shown_as_the_limit() -> None:
    r = one(meeting(), ballots({"r1": marks(好=9000, 差=1001)}))  # 10.009%
    assert r["final_grade"] == "差"
    assert "=10.01% > 10%" in r["decided_by"]


def test_poor_share_basis_valid_excludes_blanks_basis_cast_includes_them() -> None:
    column = marks(好=8, 差=1, 弃权=1, 废=1)
    valid = one(meeting(), ballots({"r1": column}))
    assert valid["poor_share"] == round(1 / 9, 4) and valid["final_grade"] == "差"
    assert valid["poor_share_of"] == 9
    cast = one(meeting(poor_share_basis="cast"), ballots({"r1": column}))
    assert cast["poor_share"] == round(1 / 11, 4) and cast["final_grade"] != "差"
    assert cast["poor_share_of"] == 11


def test_the_reason_names_the_basis_of_the_poor_share() -> None:
    column = marks(好=7, 差=2, 弃权=1)
    valid = one(meeting(), ballots({"r1": column}))
    assert valid["steps"][-1]["why"] == "差票 2/9=22.2% > 10%（占有效票）→ 差"
    cast = one(meeting(poor_share_basis="cast"), ballots({"r1": column}))
    assert cast["steps"][-1] == {
        "rule": "poor_share",
        "grade": "差",
        "why": "差票 2/10=20.0% > 10%（占实投票）→ 差",
    }


def test_poor_votes_are_pooled_over_groups_not_weighted() -> None:
    # 差 is 1 of 2 votes in group a (50%) but 1 of 11 pooled (9.1%): not 差.
    bs = ballots({"r1": marks(好=1, 差=1)}, "a") + ballots({"r1": marks(好=9)}, "b")
    r = one(meeting(groups=GROUPS), bs)
    assert r["final_grade"] != "差"


# -- rule 4: overrides ---------------------------------------------------------------------


def test_an_override_flag_makes_the_grade_poor() -> None:
    r = one(meeting(flags={"r1": ("问责",)}), ballots({"r1": marks(好=10)}))
    assert (r["base_grade"], r["final_grade"]) == ("好", "差")
    assert r["steps"][-1] == {"rule": "override", "grade": "差", "why": "标记“问责” → 差"}


def test_other_flags_do_nothing() -> None:
    r = one(meeting(flags={"r1": ("新任",)}), ballots({"r1": marks(好=10)}))
    assert r["final_grade"] == "好"


def test_custom_override_flags() -> None:
    m = meeting(flags={"r1": ("问责",)}, override_flags=("重大失误",))
    assert one(m, ballots({"r1": marks(好=10)}))["final_grade"] == "好"


# -- rule 5: quotas ------------------------------------------------------------------------


def scored(*goods: int, total: int = 10) -> dict[str, list[str]]:
    """Reporter i gets goods[i] × 好 and the rest 较好: a higher count ranks higher."""
    return {f"r{i}": marks(好=g, 较好=total - g) for i, g in enumerate(goods, 1)}


def test_quota_moves_the_lowest_ranked_down_one_grade() -> None:
    m = meeting(5, quota=(("好", F("0.4")),))  # at most 2 of 5
    result = result_to_json(tally(m, ballots(scored(10, 9, 8, 10, 10, total=10))))
    finals = {r["id"]: r["final_grade"] for r in result["reporters"]}
    # r1, r4, r5 all score 100: a tie across the cut of 2 is not guessed.
    assert result["undecided"][0]["reporters"] == ["r1", "r4", "r5"]
    assert finals == {"r1": "好", "r2": "较好", "r3": "较好", "r4": "好", "r5": "好"}

    result = result_to_json(tally(m, ballots(scored(10, 9, 5, 8, 7))))
    finals = {r["id"]: r["final_grade"] for r in result["reporters"]}
    assert finals == {"r1": "好", "r2": "好", "r3": "较好", "r4": "较好", "r5": "较好"}
    assert result["undecided"] == []
    assert result["quota"] == [{"grade": "好", "limit": 2, "holders": ["r1", "r2"]}]
    r4 = result["reporters"][3]
    assert r4["steps"][-1] == {
        "rule": "quota",
        "grade": "较好",
        "why": "好限40%×5人=2人，排第3位 → 较好",
    }


def test_a_quota_that_is_not_full_changes_nothing() -> None:
    m = meeting(3, quota=(("好", F("0.7")),))  # two of three
    result = result_to_json(tally(m, ballots(scored(10, 10, 7))))
    assert [r["final_grade"] for r in result["reporters"]] == ["好", "好", "较好"]
    assert result["quota"] == [{"grade": "好", "limit": 2, "holders": ["r1", "r2"]}]


def test_a_quota_on_the_last_grade_cannot_move_anyone() -> None:
    m = meeting(2, quota=(("差", F(0)),))
    result = result_to_json(tally(m, ballots({"r1": marks(差=3), "r2": marks(差=3)})))
    assert [r["final_grade"] for r in result["reporters"]] == ["差", "差"]


def test_quota_cascades_into_the_next_grades_quota() -> None:
    m = meeting(5, quota=(("好", F("0.2")), ("较好", F("0.4"))))
    result = result_to_json(tally(m, ballots(scored(10, 9, 8, 7, 5))))
    finals = [r["final_grade"] for r in result["reporters"]]
    assert finals == ["好", "较好", "较好", "一般", "一般"]
    r4 = result["reporters"][3]
    assert [s["grade"] for s in r4["steps"]] == ["好", "较好", "一般"]


def test_quota_limit_is_floored_and_zero_empties_the_grade() -> None:
    m = meeting(3, quota=(("好", F("0.3")),))  # floor(0.9) = 0
    result = result_to_json(tally(m, ballots(scored(10, 10, 9))))
    assert [r["final_grade"] for r in result["reporters"]] == ["较好"] * 3
    assert result["undecided"] == []


def test_ranking_breaks_score_ties_by_best_share_then_fewer_poor_votes() -> None:
    quota = (("好", F("0.5")),)  # one of two
    # Both score 90: r2 (好 and 一般) has the higher 好 share than r1 (好 and 较好).
    columns = {"r1": marks(好=10, 较好=10), "r2": marks(好=15, 一般=5)}
    result = result_to_json(tally(meeting(2, quota=quota), ballots(columns)))
    assert [r["final_grade"] for r in result["reporters"]] == ["较好", "好"]
    assert [r["rank"] for r in result["reporters"]] == [2, 1]

    # Same score and 好 share: fewer 差 votes wins (一般 is worth 0 points here, like 差).
    points = (F(100), F(80), F(0), F(0))
    m = meeting(2, quota=quota, points=points, poor_share_limit=F(1))
    columns = {"r1": marks(好=9, 差=1), "r2": marks(好=9, 一般=1)}
    result = result_to_json(tally(m, ballots(columns)))
    assert [r["final_grade"] for r in result["reporters"]] == ["较好", "好"]


def test_an_exact_tie_across_the_cut_is_undecided_and_keeps_its_grade() -> None:
    m = meeting(4, quota=(("好", F("0.5")),))  # two of four
    result = result_to_json(tally(m, ballots(scored(10, 9, 9, 8))))
    why = "好限50%×4人=2人，述职人2、述职人3得分等完全相同，名额内外无法区分，待会议决定"
    assert result["undecided"] == [{"grade": "好", "reporters": ["r2", "r3"], "why": why}]
    finals = [r["final_grade"] for r in result["reporters"]]
    assert finals == ["好", "好", "好", "较好"]  # r4, below the tie, still moves down
    for r in result["reporters"][1:3]:
        assert r["steps"][-1] == {"rule": "undecided", "grade": "好", "why": why}
    assert result["reporters"][3]["steps"][-1]["why"] == "好限50%×4人=2人，排第4位 → 较好"


def test_a_tie_for_the_only_place_is_undecided() -> None:
    m = meeting(3, quota=(("好", F(1, 3)),))  # one of three
    result = result_to_json(tally(m, ballots(scored(10, 10, 9))))
    why = "好限33.3333%×3人=1人，述职人1、述职人2得分等完全相同，名额内外无法区分，待会议决定"
    assert result["undecided"] == [{"grade": "好", "reporters": ["r1", "r2"], "why": why}]
    assert [r["final_grade"] for r in result["reporters"]] == ["好", "好", "较好"]
    assert result["reporters"][2]["steps"][-1]["why"] == "好限33.3333%×3人=1人，排第3位 → 较好"


@pytest.mark.parametrize(
    ("goods", "whys"),
    [
        ((10,), ["好限50%×1人=0人，排第1位 → 较好"]),
        ((10, 10), ["好限25%×2人=0人，排第1位 → 较好", "好限25%×2人=0人，排第2位 → 较好"]),
        ((9, 10), ["好限25%×2人=0人，排第2位 → 较好", "好限25%×2人=0人，排第1位 → 较好"]),
    ],
)
def test_a_quota_of_no_one_moves_every_holder_and_is_never_a_tie(goods: tuple, whys: list) -> None:
    m = meeting(len(goods), quota=(("好", F(1, 2 * len(goods))),))  # floor(0.5) = 0
    result = result_to_json(tally(m, ballots(scored(*goods))))
    assert result["undecided"] == []
    assert [r["final_grade"] for r in result["reporters"]] == ["较好"] * len(goods)
    assert [r["steps"][-1]["why"] for r in result["reporters"]] == whys


def test_a_tie_inside_the_quota_is_no_problem() -> None:
    m = meeting(4, quota=(("好", F("0.5")),))
    result = result_to_json(tally(m, ballots(scored(10, 10, 9, 8))))
    assert result["undecided"] == []
    assert [r["rank"] for r in result["reporters"]] == [1, 1, 3, 4]


def test_forced_poor_is_never_moved_up_nor_counted_in_a_quota() -> None:
    m = meeting(3, flags={"r1": ("重大失误",)}, quota=(("好", F("0.34")),))
    result = result_to_json(tally(m, ballots(scored(10, 9, 8))))
    finals = [r["final_grade"] for r in result["reporters"]]
    assert finals == ["差", "好", "较好"]
    # The best votes, but forced to 差: ranked below everyone with a better grade.
    assert [r["rank"] for r in result["reporters"]] == [3, 1, 2]


# -- quorum --------------------------------------------------------------------------------


@pytest.mark.parametrize(("cast", "met"), [(8, True), (7, False), (10, True)])
def test_quorum_is_cast_over_seats(cast: int, met: bool) -> None:
    m = meeting(groups=(Group("all", "全体", 10),), quorum=F("0.8"))
    result = result_to_json(tally(m, ballots({"r1": marks(好=cast)})))
    assert result["valid"] is met
    assert result["quorum"] == {"cast": cast, "seats": 10, "required": 0.8, "met": met}
    r = result["reporters"][0]
    assert r["final_grade"] == "好"  # the grades are kept either way
    if not met:
        assert r["steps"][-1] == {
            "rule": "quorum",
            "grade": "好",
            "why": "实到7/应到10=70.0% < 80% → 测评无效",
        }
        assert r["decided_by"] == "得分100.00 ≥ 90"
    else:
        assert rules_of(r) == ["base"]


def test_quorum_counts_the_least_carried_reporter_over_all_groups() -> None:
    bs = ballots({"r1": marks(好=8), "r2": marks(好=4)}, "a") + ballots({"r1": marks(好=2)}, "b")
    result = result_to_json(tally(meeting(2, groups=GROUPS, quorum=F("0.3")), bs))
    assert result["quorum"]["cast"] == 4 and result["quorum"]["seats"] == 20
    assert result["valid"] is False


# -- more ballots than seats ---------------------------------------------------------------


def test_more_ballots_than_seats_in_a_group_is_refused_naming_the_group_and_counts() -> None:
    m = meeting(groups=GROUPS)
    fits = ballots({"r1": marks(好=10)}, "a") + ballots({"r1": marks(好=10)}, "b")
    assert result_to_json(tally(m, fits))["groups"][0]["cast"] == 10  # exactly the seats: fine
    with pytest.raises(InputError) as error:
        tally(m, fits + ballots({"r1": marks(好=1)}, "a", prefix="x"))
    assert error.value.where == "分组a"
    assert error.value.message == "“县级领导”：10个席位，却有11张选票；选票多于发出的席位，不能计票"


def test_with_a_round_per_report_the_ballots_carrying_one_reporter_are_compared() -> None:
    m = meeting(2, groups=GROUPS)
    m = Meeting(m.title, m.date, m.reporters, m.groups, m.rules, voting="each")
    rounds = ballots({"r1": marks(好=10)}, "a") + ballots({"r2": marks(好=10)}, "a", prefix="2-")
    assert result_to_json(tally(m, rounds))["groups"][0]["cast"] == 20  # 2 rounds of 10 seats
    with pytest.raises(InputError) as error:
        tally(m, rounds + ballots({"r2": marks(好=1)}, "a", prefix="x"))
    assert error.value.message.startswith("“县级领导”：10个席位，却有11张选票评议述职人2；")


# -- per-group scores and rounding ---------------------------------------------------------


def test_the_score_is_the_weighted_mean_of_the_group_scores() -> None:
    bs = ballots({"r1": marks(好=2, 一般=1)}, "a") + ballots({"r1": marks(较好=1, 差=1)}, "b")
    r = one(meeting(groups=GROUPS), bs)
    assert r["score_by_group"] == {"a": 86.67, "b": 40.0}  # 260/3 and 80/2
    assert r["score"] == round(0.4 * 260 / 3 + 0.6 * 40, 2) == 58.67
    silent = one(meeting(groups=GROUPS), ballots({"r1": marks(好=1)}, "a"))
    assert silent["score_by_group"] == {"a": 100.0, "b": None}


def test_rounding_is_half_up_from_the_exact_value() -> None:
    from tally.engine import round_half_up

    assert round_half_up(F("0.125"), 2) == F("0.13")  # round() would give 0.12
    assert round_half_up(F("-0.125"), 2) == F("-0.13")
    assert round_half_up(F("0.1249"), 2) == F("0.12")
    assert round_half_up(F(0), 2) == 0 and round_half_up(F("-0.004"), 2) == 0
    r = one(meeting(), ballots({"r1": marks(好=1, 差=7)}))  # 12.5 exactly, 差 87.5 %
    assert (r["score"], r["poor_share"]) == (12.5, 0.875)
    r = one(meeting(), ballots({"r1": marks(好=7, 差=9993)}))  # 0.07 → 差 0.9993
    assert r["score"] == 0.07


# -- no votes ------------------------------------------------------------------------------


def test_a_reporter_without_votes_gets_no_grade_and_goes_to_the_meeting() -> None:
    result = result_to_json(tally(meeting(), ballots({"r1": marks(弃权=3)})))
    r = result["reporters"][0]
    assert (r["score"], r["base_grade"], r["final_grade"], r["rank"]) == (None, None, None, None)
    assert r["poor_share"] is None and r["poor_share_of"] is None and r["cast"] == 3
    why = "无有效票（全部弃权或废票），无法评定等次"
    assert r["steps"] == [{"rule": "base", "grade": None, "why": why}]
    assert r["decided_by"] == why
    assert result["undecided"] == [
        {"grade": None, "reporters": ["r1"], "why": "无有效票，等次由会议决定"}
    ]


def test_without_votes_the_poor_share_of_cast_ballots_is_still_known() -> None:
    r = one(meeting(poor_share_basis="cast"), ballots({"r1": marks(弃权=2, 废=1)}))
    assert (r["poor_share"], r["final_grade"], r["abstain"], r["invalid"]) == (0.0, None, 2, 1)


def test_the_ranking_figures_behind_the_json() -> None:
    result = tally(meeting(2), ballots({"r1": marks(好=3, 较好=2), "r2": marks(弃权=1)}))
    r1, r2 = result.reporters
    assert (r1.score, r1.best_share, r1.poor_share) == (F(92), F(3, 5), F(0))
    assert (r2.score, r2.best_share, r2.poor_share) == (None, None, None)
    assert (r1.base_grade, r2.base_grade, r2.final_grade) == ("好", None, None)


def test_rules_with_a_point_missing_are_refused() -> None:
    m = meeting(points=(F(100), F(80), F(60)))  # four grades, three points
    with pytest.raises(ValueError, match="zip"):
        tally(m, ballots({"r1": marks(好=1)}))
    with pytest.raises(ValueError, match="zip"):  # with no votes at all too
        tally(m, ballots({"r1": marks(弃权=1)}))


def test_a_share_threshold_no_share_can_reach_is_refused() -> None:
    # The meeting file keeps share_threshold within 0 to 1; Rules made in code are not checked.
    m = meeting(base="share", share_threshold=F(11, 10))
    with pytest.raises(AssertionError, match="^shares sum to 1$"):
        tally(m, ballots({"r1": marks(好=1)}))


def test_no_ballots_at_all() -> None:
    result = result_to_json(tally(meeting(quorum=F("0.5")), []))
    assert result["valid"] is False and result["quorum"]["cast"] == 0
    assert result["reporters"][0]["poor_share"] is None


def test_an_override_still_applies_without_votes() -> None:
    result = result_to_json(tally(meeting(flags={"r1": ("问责",)}), []))
    assert result["reporters"][0]["final_grade"] == "差" and result["undecided"] == []


# -- bad ballots ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ballot", "where", "words"),
    [
        (Ballot("b9", "nope", {"r1": "好"}), "选票b9", "分组“nope”不存在"),
        (Ballot("b9", "all", {"r1": "优"}), "选票b9 r1", "无效的标记“优”"),
        (Ballot("b9", "all", {"r1": "-"}), "选票b9 r1", "无效的标记“-”"),
        (Ballot("b9", "all", {"r1": "好", "zz": "好"}), "选票b9", "述职人“zz”不在本次会议中"),
        (Ballot("b1", "all", {"r1": "好"}), "选票b1", "选票编号重复"),
    ],
)
@pytest.mark.parametrize("others", [0, 20])  # a few odd ballots, or one among many alike
def test_bad_ballots_are_refused_by_name(
    ballot: Ballot, where: str, words: str, others: int
) -> None:
    # With many ballots alike, the bad mark is counted in one column with theirs.
    alike = [Ballot(f"a{i}", "all", {"r1": "好"}) for i in range(others)]
    with pytest.raises(InputError) as caught:
        tally(meeting(), [Ballot("b1", "all", {"r1": "好"}), *alike, ballot])
    assert caught.value.where == where and words in caught.value.message


# -- the JSON ------------------------------------------------------------------------------


def test_json_shape() -> None:
    m = meeting(2, quota=(("好", F("0.5")),))
    result = result_to_json(tally(m, ballots(scored(10, 6))))
    assert set(result) == {
        "valid", "quorum", "grades", "groups", "quota", "reporters", "undecided",
        "poor_grade", "bottom", "bottom_size",
    }  # fmt: skip
    assert (result["poor_grade"], result["bottom"], result["bottom_size"]) == ("差", [], 0)
    assert set(result["reporters"][0]) == {
        "id", "name", "org", "mode", "cast", "counts", "abstain", "invalid", "counts_by_group",
        "score", "score_by_group", "poor_share", "poor_share_of", "base_grade", "final_grade", "rank", "steps", "decided_by",
    }  # fmt: skip
    assert result["grades"] == ["好", "较好", "一般", "差"]
    assert result["reporters"][1]["score"] == 92.0


# -- per group: phone, paper and spoiled as a whole ------------------------------------------

TWO = (Group("a", "县级领导", 10, F("0.4")), Group("b", "基层代表", 10, F("0.6")))


def group_counts(m: Meeting, bs: list[Ballot]) -> list[tuple]:
    return [
        (g["id"], g["cast"], g["phone"], g["paper"], g["spoiled"])
        for g in result_to_json(tally(m, bs))["groups"]
    ]


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        # (group, paper, marks of r1 and r2) -> (id, cast, phone, paper, spoiled) per group
        ([], [("a", 0, None, None, 0), ("b", 0, None, None, 0)]),
        (  # no ballot is paper: how they came is not known, the spoiled ones are
            [("a", False, {"r1": "好", "r2": "差"}), ("a", False, {"r1": SPOILED, "r2": SPOILED})],
            [("a", 2, None, None, 1), ("b", 0, None, None, 0)],
        ),
        (  # one paper ballot: every ballot's way is known, in every group
            [("a", True, {"r1": "好", "r2": "好"}), ("b", False, {"r1": "好", "r2": "好"})],
            [("a", 1, 0, 1, 0), ("b", 1, 1, 0, 0)],
        ),
        (  # a paper ballot spoiled as a whole counts as paper and as spoiled
            [("a", True, {"r1": SPOILED, "r2": SPOILED}), ("a", False, {"r1": "好", "r2": "好"})],
            [("a", 2, 1, 1, 1), ("b", 0, 0, 0, 0)],
        ),
        (  # one spoiled mark, a blank, or nothing on it: not spoiled as a whole
            [
                ("b", True, {"r1": SPOILED, "r2": "好"}),
                ("b", True, {"r1": SPOILED, "r2": ABSTAIN}),
                ("b", True, {}),
                ("b", False, {"r1": SPOILED}),  # the only reporter on it, 废: spoiled
            ],
            [("a", 0, 0, 0, 0), ("b", 4, 1, 3, 1)],
        ),
    ],
)
def test_each_group_counts_its_phone_paper_and_spoiled_ballots(
    rows: list[tuple], expected: list[tuple]
) -> None:
    m = meeting(2, groups=TWO)
    bs = [Ballot(f"{i:03d}", group, marks, paper) for i, (group, paper, marks) in enumerate(rows)]
    assert group_counts(m, bs) == expected


@settings(deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from("ab"),
            st.booleans(),
            st.lists(st.sampled_from(["好", "差", ABSTAIN, SPOILED, None]), min_size=2, max_size=2),
        ),
        max_size=20,
    )
)
def test_phone_and_paper_add_up_to_the_returned_ballots_and_spoiled_ones_are_whole(
    rows: list[tuple],
) -> None:
    m = meeting(2, groups=tuple(Group(g.id, g.name, 20, g.weight) for g in TWO))
    bs = [
        Ballot(
            f"{i:03d}", group, {r: x for r, x in (("r1", x1), ("r2", x2)) if x is not None}, paper
        )
        for i, (group, paper, (x1, x2)) in enumerate(rows)
    ]
    known = any(b.paper for b in bs)
    for gid, cast, phone, paper, spoiled in group_counts(m, bs):
        mine = [b for b in bs if b.group == gid]
        assert cast == len(mine)
        if known:
            assert (phone, paper) == (sum(not b.paper for b in mine), sum(b.paper for b in mine))
            assert phone + paper == cast
        else:
            assert phone is None and paper is None
        whole = [b for b in mine if b.marks and set(b.marks.values()) == {SPOILED}]
        assert spoiled == len(whole) <= cast
