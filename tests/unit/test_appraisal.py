"""`tally.appraisal.appraise`: grade-only meetings exactly as before, and a 三评 meeting's
groups, items, sources and composite, computed by hand."""

from __future__ import annotations

import json
import random
import tomllib
from fractions import Fraction as F
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tally.appraisal import appraise, format_appraisal
from tally.ballot_csv import parse_ballots_csv
from tally.engine import result_to_json, tally
from tally.errors import InputError
from tally.meeting_file import parse_meeting, parse_meeting_text
from tally.model import Ballot, Meeting
from tally.report import format_table
from tests.unit.test_forms_file import base

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "examples" / "demo-meeting.toml"
DEMO_BALLOTS = ROOT / "examples" / "demo-ballots.csv"
EXPERTS = {"c1": {"e1": F(80), "e2": F(90), "e3": F(70), "e4": F(85), "e5": F(95)}}
INDICATORS = {"c1": {"income": F(8)}}


def demo() -> tuple[Meeting, list[Ballot]]:
    meeting = parse_meeting_text(DEMO.read_text(encoding="utf-8"), str(DEMO))
    return meeting, parse_ballots_csv(DEMO_BALLOTS.read_text(encoding="utf-8"), meeting)


def test_a_grade_only_meeting_is_tallied_exactly_as_before() -> None:
    meeting, ballots = demo()
    before = result_to_json(tally(meeting, ballots))
    after = appraise(meeting, ballots)
    assert json.dumps(after, ensure_ascii=False, indent=2) == json.dumps(
        before, ensure_ascii=False, indent=2
    )
    assert format_table(after) == format_table(before)


def test_experts_or_indicators_need_a_composite() -> None:
    meeting, ballots = demo()
    with pytest.raises(InputError, match="未设\\[composite\\]"):
        appraise(meeting, ballots, experts={})


def test_a_composite_on_a_grade_only_meeting_keeps_every_existing_key() -> None:
    data = tomllib.loads(DEMO.read_text(encoding="utf-8"))
    data["composite"] = {"sources": [{"id": "vote", "name": "群众测评", "weight": 1}]}
    meeting = parse_meeting(data, "demo.toml")
    _, ballots = demo()
    before = result_to_json(tally(demo()[0], ballots))
    after = appraise(meeting, ballots)
    assert {k: after[k] for k in before if k != "reporters"} == {
        k: v for k, v in before.items() if k != "reporters"
    }
    for old, new in zip(before["reporters"], after["reporters"], strict=True):
        assert {k: new[k] for k in old} == old
        # one group form for all: the vote score is the grade score on the same weights
        assert new["vote_score"] == old["score"] == new["composite_score"]


def ballots_for(c1_town_grades: tuple[str, ...] = ("好", "较好", "一般")) -> list[Ballot]:
    """3 town ballots and 4 rural ones; z1 is graded by both, c1 per its forms, c2 by none."""
    town_a1, town_a2 = ("能", "能", "不能"), ("能", "不能", "不能")
    rural_a1, rural_a2 = ("能", "能", "能", ""), ("能", "能", "不能", "废")
    out = [
        Ballot(
            f"t{i}",
            "town",
            {"z1": "好", "c1": c1_town_grades[i]},
            items={"c1": {"a1": town_a1[i], "a2": town_a2[i]}},
        )
        for i in range(3)
    ]
    out += [
        Ballot(
            f"v{i}", "rural", {"z1": "较好"}, items={"c1": {"a1": rural_a1[i], "a2": rural_a2[i]}}
        )
        for i in range(4)
    ]
    return out


def row(result: dict, rid: str) -> dict:
    return next(r for r in result["reporters"] if r["id"] == rid)


def test_a_sanping_reporter_computed_by_hand() -> None:
    meeting = parse_meeting(base(), "m.toml")
    result = appraise(meeting, ballots_for(), EXPERTS, INDICATORS)
    c1 = row(result, "c1")
    # The grade part, as today: town only, 好 较好 一般 = 80 → 较好
    assert (c1["score"], c1["final_grade"], c1["counts"]) == (
        80.0,
        "较好",
        {"好": 1, "较好": 1, "一般": 1, "差": 0},
    )
    assert c1["decided_by"] == "得分80.00 ≥ 80"  # rural never grades c1: not named as missing
    town, rural = c1["by_group"]["town"], c1["by_group"]["rural"]
    # town, "both": grade 80; items a1 2/3, a2 1/3 → 50; 0.4×80 + 0.6×50 = 62
    assert (town["grade_score"], town["item_score"], town["score"]) == (80.0, 50.0, 62.0)
    assert town["why"] == "等次 0.4×80.00 + 逐项 0.6×50.00 = 62.00"
    assert town["weight"] == 0.4 and town["positive_shares"] == {"a1": 0.6667, "a2": 0.3333}
    # rural, items: a1 3/3 (a blank left out), a2 2/3 (废 left out) → 83.33
    assert (rural["grade_score"], rural["item_score"], rural["score"]) == (None, 83.33, 83.33)
    # 群众测评 = 0.4×62 + 0.6×250/3 = 74.8
    assert c1["vote_score"] == 74.8
    assert c1["source_steps"]["vote"][0]["why"] == (
        "群众测评 = 镇机关 0.4×62.00 + 农村 0.6×83.33 = 74.80"
    )
    # the items combined with the category's weights: a1 0.4×2/3 + 0.6 = 13/15, a2 8/15
    a1, a2 = c1["items"]
    assert (a1["positive_share"], a2["positive_share"]) == (0.8667, 0.5333)
    assert (a2["counts"], a2["spoiled"], a2["answered"]) == ({"能": 3, "不能": 3}, 1, 6)
    assert c1["item_score"] == 70.0 and a2["negative_majority"] is False
    # experts: drop 95 and 70 → 85; indicators: 8 of 10 → 80
    assert c1["sources"] == {"vote": 74.8, "indicators": 80.0, "experts": 85.0}
    # composite: 0.5×74.8 + 0.3×80 + 0.2×85 = 78.4 → 一般
    assert (c1["composite_score"], c1["composite_grade"]) == (78.4, "一般")
    assert c1["weights"] == {"vote": 0.5, "indicators": 0.3, "experts": 0.2}
    assert c1["composite_steps"][0]["why"] == (
        "综合得分 = 0.5×74.80 + 0.3×80.00 + 0.2×85.00 = 78.40"
        "（权重：群众测评50%、项目指标30%、专家点评20%）"
    )
    assert c1["composite_decided_by"] == "综合得分78.40 ≥ 60 → 一般"
    # z1: 镇党委, the grade in both groups at 0.5 each: 0.5×100 + 0.5×80 = 90
    z1 = row(result, "z1")
    assert (z1["vote_score"], z1["items"], z1["category"]) == (90.0, None, "镇党委")
    assert result["appraisal"]["sources"][0] == {"id": "vote", "name": "群众测评", "weight": 0.5}
    assert "综合得分" in format_appraisal(result)


def test_a_missing_source_is_renormalised_with_a_reason() -> None:
    meeting = parse_meeting(base(), "m.toml")
    c1 = row(appraise(meeting, ballots_for(), None, INDICATORS), "c1")
    # (0.5×74.8 + 0.3×80) / 0.8 = 76.75
    assert c1["sources"]["experts"] is None
    assert c1["weights"] == {"vote": 0.625, "indicators": 0.375}
    assert c1["composite_score"] == 76.75
    assert c1["composite_steps"][0] == {
        "rule": "source_missing",
        "grade": None,
        "why": "专家点评缺失，其权重去掉，其余来源按比例折算",
    }
    assert c1["source_steps"]["experts"][0]["why"] == "未提供专家评分（--experts），专家点评缺失"
    # c2: nobody voted on c2, and neither file has a row: no composite at all
    c2 = row(appraise(meeting, ballots_for(), EXPERTS, INDICATORS), "c2")
    assert (c2["vote_score"], c2["composite_score"], c2["composite_rank"]) == (None, None, None)
    assert c2["composite_steps"][0]["why"] == "群众测评、项目指标、专家点评均缺失，无法计算综合得分"


def test_the_grade_parts_poor_votes_force_the_composite_grade() -> None:
    meeting = parse_meeting(base(), "m.toml")
    c1 = row(appraise(meeting, ballots_for(("好", "好", "差")), EXPERTS, INDICATORS), "c1")
    assert c1["final_grade"] == "差"
    assert c1["composite_base_grade"] != "差" and c1["composite_grade"] == "差"
    assert c1["composite_steps"][-1] == {
        "rule": "poor_share",
        "grade": "差",
        "why": "差票 1/3=33.3% > 10%（占有效票）→ 差",
    }


def test_a_decisive_items_majority_forces_the_composite_grade() -> None:
    meeting = parse_meeting(base(), "m.toml")
    ballots = ballots_for()
    for ballot in ballots:
        ballot.items["c1"]["a2"] = "不能"
    result = appraise(meeting, ballots, EXPERTS, INDICATORS)
    c1 = row(result, "c1")
    assert c1["items"][1]["negative_majority"] is True
    last = c1["composite_steps"][-1]
    assert (last["rule"], last["grade"]) == ("decisive", "差")
    assert last["why"].startswith("否决项“能不能廉洁自律”：不能各组加权占100.0%")
    assert c1["composite_grade"] == "差"
    decisive = next(s["why"] for s in c1["item_steps"] if s["rule"] == "decisive")
    assert f"{c1['name']}：{decisive}" in format_appraisal(result).splitlines()  # named below


def test_a_reporter_no_group_grades_has_no_grade_part() -> None:
    data = base()
    data["groups"][0]["forms"] = {"村党支部书记": "cun"}
    meeting = parse_meeting(data, "m.toml")
    ballots = [
        Ballot(b.id, b.group, {k: v for k, v in b.marks.items() if k == "z1"}, items=b.items)
        for b in ballots_for()
    ]
    result = appraise(meeting, ballots, EXPERTS, INDICATORS)
    c1 = row(result, "c1")
    assert c1["final_grade"] is None and c1["rank"] is None and c1["cast"] == 7
    assert c1["steps"] == [
        {"rule": "base", "grade": None, "why": "本会议对该述职人只作逐项测评，无等次测评"}
    ]
    assert not any(u["reporters"] == ["c1"] for u in result["undecided"])
    assert c1["by_group"]["town"]["score"] == 50.0 and c1["composite_grade"] is not None


def test_a_grade_where_the_form_has_none_is_refused() -> None:
    meeting = parse_meeting(base(), "m.toml")
    ballots = ballots_for()
    ballots.append(Ballot("v9", "rural", {"c1": "好"}))
    with pytest.raises(InputError) as caught:
        appraise(meeting, ballots)
    assert caught.value.where == "选票v9 c1" and "不作等次测评" in caught.value.message


def test_the_quorum_counts_ballots_carrying_either_part() -> None:
    data = base()
    data["rules"] = {"quorum": 0.8}
    meeting = parse_meeting(data, "m.toml")
    result = appraise(meeting, ballots_for(), EXPERTS, INDICATORS)
    # c2 is on no ballot: 0 of 9
    assert result["valid"] is False and result["quorum"]["cast"] == 0
    assert row(result, "c1")["composite_steps"][-1]["rule"] == "quorum"


PROPERTY = settings(max_examples=60, deadline=None)


@PROPERTY
@given(st.randoms(use_true_random=False))
def test_the_order_of_ballots_never_matters(rng: random.Random) -> None:
    meeting = parse_meeting(base(), "m.toml")
    ballots = ballots_for(("好", "一般", "差"))
    expected = appraise(meeting, ballots, EXPERTS, INDICATORS)
    shuffled = list(ballots)
    rng.shuffle(shuffled)
    assert appraise(meeting, shuffled, EXPERTS, INDICATORS) == expected


@PROPERTY
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["town", "rural"]),
            st.sampled_from(["好", "较好", "一般", "差", "", "废"]),
            st.sampled_from(["能", "不能", "", "废"]),
            st.sampled_from(["能", "不能", "", "废"]),
        ),
        min_size=1,
        max_size=9,
    ),
    st.randoms(use_true_random=False),
)
def test_any_ballots_in_any_order_give_the_same_result_within_bounds(
    rows: list[tuple[str, str, str, str]], rng: random.Random
) -> None:
    meeting = parse_meeting(base(), "m.toml")
    seats = {"town": 4, "rural": 5}
    ballots = []
    for i, (group, grade, a1, a2) in enumerate(rows):
        if sum(1 for b in ballots if b.group == group) >= seats[group]:
            continue
        marks = {"z1": grade, "c1": grade} if group == "town" else {"z1": grade}
        ballots.append(Ballot(f"b{i}", group, marks, items={"c1": {"a1": a1, "a2": a2}}))
    expected = appraise(meeting, ballots, EXPERTS, INDICATORS)
    rng.shuffle(ballots)
    assert appraise(meeting, ballots, EXPERTS, INDICATORS) == expected
    for r in expected["reporters"]:
        for key in ("vote_score", "composite_score", "item_score"):
            assert r[key] is None or 0 <= r[key] <= 100
        assert r["weights"] == {} or abs(sum(r["weights"].values()) - 1) < 1e-3


def items_only(bid: str, group: str, rid: str = "c1") -> Ballot:
    """A ballot with answers on `rid`'s items and no grade at all."""
    return Ballot(bid, group, {}, items={rid: {"a1": "能", "a2": "能"}})


# fmt: off
REFUSED_BALLOTS = [
    # a group the meeting does not have: left to the engine, which names it
    ([Ballot("x9", "city", {"z1": "好"})], "选票x9", "分组“city”不存在；应为：town、rural"),
    # a reporter the meeting does not have, in the grade part or in the item part
    ([Ballot("v9", "rural", {"c9": "好"})], "选票v9", "述职人“c9”不在本次会议中"),
    ([items_only("v9", "rural", "c9")], "选票v9", "述职人“c9”不在本次会议中"),
    # 3 town ballots grade c1 and 2 more answer only its items: 5 ballots for 4 seats
    (
        [items_only("t8", "town"), items_only("t9", "town")],
        "分组town",
        "“镇机关”：4个席位，却有5张选票评议李二；选票多于发出的席位，不能计票",
    ),
]
# fmt: on


@pytest.mark.parametrize(("extra", "where", "message"), REFUSED_BALLOTS)
def test_ballots_that_cannot_be_counted_are_refused(
    extra: list[Ballot], where: str, message: str
) -> None:
    meeting = parse_meeting(base(), "m.toml")
    with pytest.raises(InputError) as caught:
        appraise(meeting, ballots_for() + extra, EXPERTS, INDICATORS)
    assert (caught.value.where, caught.value.message) == (where, message)


@pytest.mark.parametrize(
    ("experts", "indicators", "where", "message"),
    [
        (
            EXPERTS,
            None,
            "--experts",
            "会议文件[composite] sources中没有experts来源，不能使用此文件",
        ),
        (
            None,
            INDICATORS,
            "--indicators",
            "会议文件[composite] sources中没有indicators来源，不能使用此文件",
        ),
    ],
)
def test_a_table_for_a_source_the_composite_lacks_is_refused(
    experts: dict | None, indicators: dict | None, where: str, message: str
) -> None:
    data = base()
    data["composite"]["sources"] = [{"id": "vote", "name": "群众测评", "weight": 1}]
    del data["experts"], data["indicators"]
    meeting = parse_meeting(data, "m.toml")
    with pytest.raises(InputError) as caught:
        appraise(meeting, ballots_for(), experts, indicators)
    assert (caught.value.where, caught.value.message) == (where, message)


def test_a_composite_without_the_vote_ignores_the_ballots_grade_rules() -> None:
    data = base()
    data["composite"]["sources"] = [{"id": "experts", "name": "专家点评", "weight": 1}]
    del data["indicators"]
    meeting = parse_meeting(data, "m.toml")
    # 差 by the poor votes in the grade part, but the ballots are not a source of the composite
    c1 = row(appraise(meeting, ballots_for(("好", "好", "差")), EXPERTS), "c1")
    assert c1["final_grade"] == "差" and c1["vote_score"] == 72.67
    assert c1["sources"] == {"experts": 85.0} and c1["weights"] == {"experts": 1.0}
    assert list(c1["source_steps"]) == ["experts"]
    assert (c1["composite_score"], c1["composite_base_grade"], c1["composite_grade"]) == (
        85.0,
        "较好",
        "较好",
    )
    assert c1["composite_steps"] == [
        {
            "rule": "composite",
            "grade": None,
            "why": "综合得分 = 1×85.00 = 85.00（权重：专家点评100%）",
        },
        {"rule": "base", "grade": "较好", "why": "综合得分85.00 ≥ 80 → 较好"},
    ]


# The town's "both" form for c1 when its ballots carry only one part, or neither: its score
# is the part it has, or none (its weight then goes to the rural group).
# fmt: off
ONE_PART = [
    (True, False, (80.0, None, 80.0, "仅等次测评得分 80.00（无逐项作答）"),
     82.0, "群众测评 = 镇机关 0.4×80.00 + 农村 0.6×83.33 = 82.00"),
    (False, True, (None, 50.0, 50.0, "仅逐项测评得分 50.00（无有效等次票）"),
     70.0, "群众测评 = 镇机关 0.4×50.00 + 农村 0.6×83.33 = 70.00"),
    (False, False, (None, None, None, "无有效等次票，也无逐项作答"),
     83.33, "群众测评 = 农村 1×83.33 = 83.33（镇机关无有效票或作答，权重在其余组间按比例折算）"),
]
# fmt: on


@pytest.mark.parametrize(("grades", "items", "town", "vote", "why"), ONE_PART)
def test_a_both_form_with_one_part_missing_scores_the_other(
    grades: bool, items: bool, town: tuple, vote: float, why: str
) -> None:
    meeting = parse_meeting(base(), "m.toml")
    ballots = [
        Ballot(
            b.id,
            b.group,
            b.marks if grades else {"z1": b.marks["z1"]},
            items=b.items if items else {},
        )
        if b.group == "town"
        else b
        for b in ballots_for()
    ]
    c1 = row(appraise(meeting, ballots, EXPERTS, INDICATORS), "c1")
    got = c1["by_group"]["town"]
    assert (got["grade_score"], got["item_score"], got["score"], got["why"]) == town
    assert c1["vote_score"] == vote
    assert c1["source_steps"]["vote"][0]["why"] == why
