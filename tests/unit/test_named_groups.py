"""部分实名 (named voter groups) and 分管 (supervising leaders' marks weighed apart), issue 17:
the meeting file, the refusals, the arithmetic, the CSV and the 三评 appraisal."""

from __future__ import annotations

import copy
from dataclasses import replace
from fractions import Fraction as F
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tally.appraisal import appraise
from tally.ballot_csv import format_ballots_csv, parse_ballots_csv
from tally.engine import result_to_json, tally
from tally.errors import InputError
from tally.meeting_file import parse_meeting, parse_meeting_text
from tally.meeting_toml import to_toml
from tally.model import (
    ABSTAIN,
    SPOILED,
    SUPERVISION_GROUP,
    Ballot,
    Group,
    Member,
    Supervision,
)
from tests.unit.test_appraisal import ballots_for
from tests.unit.test_forms_file import base
from tests.unit.test_meeting_toml import TEXT

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
GRADES = ("好", "较好", "一般", "差")


def named() -> dict[str, Any]:
    """党组成员 named (王明 分管 r1 and r2), 职工代表 anonymous; r3 nobody supervises."""
    return {
        "meeting": {"title": "述职评议", "date": "2026-12-28"},
        "reporters": [
            {"id": "r1", "name": "甲", "org": "一局"},
            {"id": "r2", "name": "乙", "org": "二局"},
            {"id": "r3", "name": "丙", "org": "三局"},
        ],
        "groups": [
            {
                "id": "dangzu",
                "name": "党组成员",
                "weight": 0.25,
                "named": True,
                "members": [
                    {"id": "wang", "name": "王明", "supervises": ["r1", "r2"]},
                    {"id": "li", "name": "李华"},
                ],
            },
            {"id": "staff", "name": "职工代表", "weight": 0.6, "seats": 6},
        ],
        "supervision": {"weight": 0.15},  # with the groups' weights: exactly 1
    }


MEETING = parse_meeting(named(), "m.toml")


# -- the meeting file ---------------------------------------------------------------------------


def test_the_meeting_file_is_read_into_the_model() -> None:
    dangzu, staff = MEETING.groups
    assert dangzu == Group(
        "dangzu",
        "党组成员",
        2,  # a named group's seats are its members
        F(1, 4),
        named=True,
        members=(Member("wang", "王明", ("r1", "r2")), Member("li", "李华")),
    )
    assert not staff.named and staff.members == () and MEETING.named
    assert MEETING.supervision == Supervision("分管领导", F(3, 20))
    assert MEETING.supervisors_of("r1") == frozenset({"wang"})
    assert MEETING.supervisors_of("r3") == frozenset()
    assert MEETING.member("li") == Member("li", "李华")
    with pytest.raises(KeyError):
        MEETING.member("nobody")
    assert MEETING.supervision_group == Group(SUPERVISION_GROUP, "分管领导", 1, F(3, 20))
    assert MEETING.seats == 8


def test_seats_equal_to_the_members_and_a_name_of_ones_own_are_accepted() -> None:
    data = named()
    data["groups"][0]["seats"] = 2
    data["supervision"]["name"] = "分管县领导"
    meeting = parse_meeting(data)
    assert meeting.groups[0].seats == 2 and meeting.supervision == Supervision(
        "分管县领导", F(3, 20)
    )


def test_without_supervision_nothing_is_supervised_and_the_reserved_id_is_free() -> None:
    data = named()
    del data["supervision"], data["groups"][0]["members"][0]["supervises"]
    data["groups"][1]["weight"] = 0.75  # the groups' weights alone sum to 1 again
    data["groups"][1]["id"] = SUPERVISION_GROUP  # reserved only when [supervision] is declared
    meeting = parse_meeting(data)
    assert meeting.supervision is None and meeting.supervision_group is None
    assert meeting.supervisors_of("r1") == frozenset()
    plain = parse_meeting_text(
        '[meeting]\ntitle = "t"\ndate = "2026-01-02"\nseats = 3\n'
        '[[reporters]]\nid = "r1"\nname = "甲"\norg = "乙"\n'
    )
    assert not plain.named and plain.groups[0].members == ()


def _set(path: str, value: Any) -> Any:
    def change(data: dict[str, Any]) -> None:
        *parents, last = path.split("/")
        node: Any = data
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        if value is _DELETE:
            del node[last]
        elif isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value

    return change


_DELETE = object()


def _second_named(data: dict[str, Any]) -> None:
    data["groups"][1] = {
        "id": "staff",
        "name": "职工代表",
        "weight": 0.6,
        "named": True,
        "members": [{"id": "wang", "name": "王二"}],
    }


def _no_supervises(data: dict[str, Any]) -> None:
    del data["groups"][0]["members"][0]["supervises"]


BAD_FILES = [
    (
        _set("meeting/join", "open"),
        "groups[1].named",
        '开放入场（join = "open"）的会议不能设实名分组',
    ),
    (
        _set("supervision/weight", 0.3),
        "groups[*].weight",
        "各组权重与分管领导权重（[supervision] weight）之和应为1，实际为0.25 + 0.6 + 0.3 = 1.15",
    ),
    (
        _set("groups/0/members/0/supervises", ["r1", "r9"]),
        "groups[1].members[1].supervises[2]",
        "述职人“r9”不在[[reporters]]中",
    ),
    (
        _set("groups/0/members/0/supervises", ["r1", "r1"]),
        "groups[1].members[1].supervises[2]",
        "述职人“r1”重复",
    ),
    (_second_named, "groups[2].members[1].id", "成员编号“wang”重复"),
    (_set("groups/0/members/1/id", "wang"), "groups[1].members[2].id", "成员编号“wang”重复"),
    (_set("groups/0/members/1/id", "王"), "groups[1].members[2].id", "成员编号只能含"),
    (
        _set("groups/1/members", [{"id": "x", "name": "某"}]),
        "groups[2].members",
        "匿名分组不能列出成员",
    ),
    (_set("groups/0/members", []), "groups[1].members", "至少要有一名成员"),
    (_set("groups/0/members", _DELETE), "groups[1].members", "至少要有一名成员"),
    (_set("groups/0/members", "wang"), "groups[1].members", "应是数组"),
    (_set("groups/0/members/1", "li"), "groups[1].members[2]", "应是一个表"),
    (_set("groups/0/members/1/name", " "), "groups[1].members[2].name", "不能为空"),
    (_set("groups/0/members/1/post", "x"), "groups[1].members[2].post", "未知的键“post”"),
    (_set("groups/0/seats", 3), "groups[1].seats", "seats应为2（或不写），实际为3"),
    (_set("groups/0/named", "yes"), "groups[1].named", "应为true或false"),
    (_no_supervises, "supervision", "没有成员写分管的述职人"),
    (_set("supervision", _DELETE), "groups[1].members[1].supervises", "没有[supervision]表"),
    (_set("supervision/weight", 0), "supervision.weight", "权重应大于0，实际为0"),
    (_set("supervision/weight", 1.5), "supervision.weight", "应是0到1之间的数"),
    (_set("supervision/weight", _DELETE), "supervision.weight", "缺少此项"),
    (_set("supervision/name", ""), "supervision.name", "不能为空"),
    (_set("supervision/share", 1), "supervision.share", "未知的键“share”"),
    (_set("supervision", 0.3), "supervision", "应是一个表"),
    (
        _set("groups/1/id", SUPERVISION_GROUP),
        "groups[2].id",
        "分组编号“supervision”留作分管领导的评价",
    ),
]


@pytest.mark.parametrize(("change", "where", "message"), BAD_FILES)
def test_bad_meeting_files_are_refused_naming_the_key(change, where: str, message: str) -> None:  # noqa: ANN001
    data = named()
    change(data)
    with pytest.raises(InputError) as caught:
        parse_meeting(data, "m.toml")
    assert caught.value.where == f"m.toml {where}"
    assert message in caught.value.message


def test_the_meeting_round_trips_through_toml() -> None:
    data = named()
    data["supervision"]["name"] = "分管领导"
    data["groups"][0]["seats"] = 2
    text = to_toml(data)
    assert '{ id = "wang", name = "王明", supervises = ["r1", "r2"] }' in text
    assert text.index("[supervision]") < text.index("weight = 0.15")
    assert parse_meeting_text(text) == parse_meeting(data)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(TEXT, min_size=1, max_size=4),
    st.lists(st.sampled_from(["r1", "r2", "r3"]), unique=True),
    st.sampled_from([0.05, 0.15, 0.5]),
)
def test_any_named_group_round_trips_through_toml(
    names: list[str], supervises: list[str], weight: float
) -> None:
    data = named()
    data["groups"][0]["members"] = [{"id": f"m{i}", "name": name} for i, name in enumerate(names)]
    data["groups"][0]["members"][0]["supervises"] = supervises
    if supervises:
        data["supervision"] = {"name": names[0], "weight": weight}
        data["groups"][1]["weight"] = 0.75 - weight  # the shares sum to exactly 1
    else:
        del data["supervision"]
        data["groups"][1]["weight"] = 0.75
    assert parse_meeting_text(to_toml(data)) == parse_meeting(data)


# -- ballot refusals ----------------------------------------------------------------------------


def ballot(bid: str, group: str, voter: str = "", **marks: str) -> Ballot:
    return Ballot(bid, group, dict(marks), voter=voter)


REFUSED = [
    (
        [ballot("1", "dangzu", r1="好")],
        "选票1",
        "“党组成员”为实名分组，投票人“”不是其成员；应为：wang、li",
    ),
    (
        [ballot("1", "dangzu", "zhang", r1="好")],
        "选票1",
        "“党组成员”为实名分组，投票人“zhang”不是其成员；应为：wang、li",
    ),
    (
        [ballot("1", "staff", "wang", r1="好")],
        "选票1",
        "“职工代表”为匿名分组，选票不应记录投票人（实际为“wang”）",
    ),
    (
        [ballot("1", "dangzu", "wang", r1="好"), ballot("2", "dangzu", "wang", r2="好", r1="差")],
        "选票2 r1",
        "投票人“wang”已在选票1上评议过述职人“r1”；每人只能评议一次",
    ),
]


@pytest.mark.parametrize(("ballots", "where", "message"), REFUSED)
def test_ballots_with_a_wrong_voter_are_refused(
    ballots: list[Ballot], where: str, message: str
) -> None:
    with pytest.raises(InputError) as caught:
        tally(MEETING, ballots)
    assert (caught.value.where, caught.value.message) == (where, message)


def test_a_voter_has_one_ballot_per_round() -> None:
    # voting = "each": wang's ballots of two rounds, one reporter each, are fine
    rounds = [ballot("1", "dangzu", "wang", r1="好"), ballot("2", "dangzu", "wang", r2="好")]
    result = tally(MEETING, rounds)
    assert [r.cast for r in result.reporters] == [1, 1, 0]


def test_a_voter_in_a_meeting_without_named_groups_is_refused() -> None:
    data = named()
    data["groups"] = [data["groups"][1]]
    data["groups"][0]["weight"] = 1
    del data["supervision"]
    meeting = parse_meeting(data)
    with pytest.raises(InputError) as caught:
        tally(meeting, [ballot("1", "staff", "wang", r1="好")])
    assert caught.value.where == "选票1"


# -- the arithmetic -----------------------------------------------------------------------------


def day() -> list[Ballot]:
    """王明 gives r1 好 and abstains on r2; 李华 一般 and 较好; six 职工代表 ballots."""
    staff = ["好", "好", "好", "较好", "一般", "一般"]
    return [
        ballot("d1", "dangzu", "wang", r1="好", r2=ABSTAIN, r3="差"),
        ballot("d2", "dangzu", "li", r1="一般", r2="较好", r3="好"),
        *(ballot(f"s{i}", "staff", r1=m, r2="好", r3="好") for i, m in enumerate(staff)),
    ]


def test_the_supervisors_mark_is_weighed_apart_exactly_at_a_cutoff() -> None:
    result = tally(MEETING, day())
    r1 = result.reporters[0]
    # 党组成员 (李华 alone) 60, 职工代表 500/6, 分管 100; weights 0.25, 0.6, 0.15 (sum 1):
    # 0.25×60 + 0.6×500/6 + 0.15×100 = 15 + 50 + 15 = 80, exactly 较好
    assert r1.score == F(80)
    assert r1.score_by_group == {"dangzu": F(60), "staff": F(250, 3), SUPERVISION_GROUP: F(100)}
    assert r1.best_share == F(3, 5) * F(1, 2) + F(15, 100) == F(9, 20)
    assert r1.counts_by_group["dangzu"] == {"好": 0, "较好": 0, "一般": 1, "差": 0}
    assert r1.counts_by_group[SUPERVISION_GROUP] == {"好": 1, "较好": 0, "一般": 0, "差": 0}
    assert r1.counts == {"好": 4, "较好": 1, "一般": 3, "差": 0}  # pooled: nothing lost
    assert r1.cast == 8 and r1.final_grade == "较好"
    assert [(s.rule, s.why) for s in r1.steps] == [
        ("supervision", "分管领导（王明）的评价单列，权重0.15"),
        ("base", "得分80.00 ≥ 80"),
    ]
    assert r1.decided_by == "得分80.00 ≥ 80"
    # the seats, the casts and the quorum stay per real group: 王明's ballot is 党组成员's
    assert [(g.group.id, g.cast) for g in result.groups] == [("dangzu", 2), ("staff", 6)]
    assert result.quorum.cast == 8 and result.quorum.seats == 8


def test_a_supervisor_who_abstains_has_the_weight_renormalised_with_the_reason() -> None:
    r2 = tally(MEETING, day()).reporters[1]
    # 分管 has no valid mark: (0.25×80 + 0.6×100) / 0.85 = 80 / 0.85 = 1600/17
    assert r2.score == F(1600, 17)
    assert r2.counts_by_group[SUPERVISION_GROUP] == {g: 0 for g in GRADES}
    assert r2.abstain == 1
    assert [s.why for s in r2.steps] == [
        "得分94.12 ≥ 90（分管领导无有效票，权重在其余组间按比例折算）"
    ]


def test_a_reporter_nobody_supervises_has_no_supervision_constituency() -> None:
    result = result_to_json(tally(MEETING, day()))
    r3 = result["reporters"][2]
    assert SUPERVISION_GROUP not in r3["counts_by_group"]
    assert SUPERVISION_GROUP not in r3["score_by_group"]
    # 王明's 差 on r3 stays in 党组成员; 分管's share goes to the groups, with the reason:
    # (0.25×50 + 0.6×100) / 0.85 = 72.5 / 0.85 = 1450/17
    assert r3["score"] == 85.29 and r3["steps"][0]["why"] == (
        "得分85.29 ≥ 80（分管领导（无人分管此述职人）无有效票，权重在其余组间按比例折算）"
    )
    assert [g["id"] for g in result["groups"]] == ["dangzu", "staff"]


def test_without_supervision_the_same_ballots_are_counted_as_before() -> None:
    plain = replace(MEETING, supervision=None)
    r1 = tally(plain, day()).reporters[0]
    # 党组成员 (好 + 一般)/2 = 80, 职工代表 250/3: (0.25×80 + 0.6×250/3) / 0.85 = 1400/17
    assert r1.score == F(1400, 17) and set(r1.counts_by_group) == {"dangzu", "staff"}
    assert [s.rule for s in r1.steps] == ["base"]


MARK = st.sampled_from([*GRADES, ABSTAIN, SPOILED, None])  # None: not on this ballot


@st.composite
def days(draw: st.DrawFn) -> list[Ballot]:
    def marks() -> dict[str, str]:
        drawn = {rid: draw(MARK) for rid in ("r1", "r2", "r3")}
        return {rid: mark for rid, mark in drawn.items() if mark is not None}

    out = [
        Ballot(f"d{voter}", "dangzu", marks(), voter=voter)
        for voter in ("wang", "li")
        if draw(st.booleans())
    ]
    out += [Ballot(f"s{i}", "staff", marks()) for i in range(draw(st.integers(0, 6)))]
    return out


@settings(max_examples=120, deadline=None)
@given(days(), st.randoms(use_true_random=False))
def test_the_order_of_ballots_never_matters(ballots: list[Ballot], rng: Any) -> None:
    shuffled = list(ballots)
    rng.shuffle(shuffled)
    assert result_to_json(tally(MEETING, shuffled)) == result_to_json(tally(MEETING, ballots))
    # the supervision moves marks between constituencies, it never loses or adds one
    plain = tally(replace(MEETING, supervision=None), ballots)
    for with_, without in zip(tally(MEETING, ballots).reporters, plain.reporters, strict=True):
        assert (with_.counts, with_.cast, with_.abstain, with_.invalid) == (
            without.counts,
            without.cast,
            without.abstain,
            without.invalid,
        )


# -- the CSV ------------------------------------------------------------------------------------


def test_the_csv_has_a_voter_column_and_round_trips() -> None:
    ballots = [*day(), replace(ballot("p1", "staff", r1="好", r2="好"), paper=True)]
    text = format_ballots_csv(MEETING, ballots)
    assert text.splitlines()[:3] == [
        "ballot,group,via,voter,r1,r2,r3",
        "d1,dangzu,手机,wang,好,,差",
        "d2,dangzu,手机,li,一般,较好,好",
    ]
    assert "p1,staff,纸质,,好,好,-" in text.splitlines()
    assert parse_ballots_csv(text, MEETING) == sorted(ballots, key=lambda b: b.id)


def test_a_file_of_anonymous_paper_ballots_may_leave_the_voter_column_out() -> None:
    text = "ballot,group,r1,r2,r3\ns1,职工代表,好,,-\n"
    assert parse_ballots_csv(text, MEETING) == [Ballot("s1", "staff", {"r1": "好", "r2": ""})]


BAD_CSV = [
    ("ballot,group,voter,r1,r2,r3\nd1,dangzu,zhao,好,,\n", "2:3", "无效的投票人“zhao”（voter列）"),
    ("ballot,group,voter,r1,r2,r3\nd1,dangzu,,好,,\n", "2:3", "无效的投票人“”（voter列）"),
    ("ballot,group,voter,r1,r2,r3\ns1,staff,wang,好,,\n", "2:3", "“职工代表”为匿名分组"),
    ("ballot,group,r1,r2,r3\n\nd1,dangzu,好,,\n", "3:2", "“党组成员”为实名分组，须有“voter”列"),
    (
        "ballot,group,card,r1,r2,r3\nd1,dangzu,,好,,\n",
        "2:2",
        "（或“card”列填写其本人参会卡的短码）",
    ),
]


def test_a_paper_ballot_with_its_card_needs_no_voter_column() -> None:
    """The tellers' file: the card is its member's own, so the server names the voter."""
    text = "ballot,group,card,r1,r2,r3\nd1,dangzu,ABCD-EFGH,好,,-\n"
    (only,) = parse_ballots_csv(text, MEETING)
    assert (only.group, only.voter, only.marks) == ("dangzu", "", {"r1": "好", "r2": ""})


@pytest.mark.parametrize(("text", "where", "message"), BAD_CSV)
def test_a_bad_voter_is_refused_with_the_line(text: str, where: str, message: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_ballots_csv(text, MEETING, "b.csv")
    assert caught.value.where == f"b.csv:{where}"
    assert message in caught.value.message


def test_the_export_refuses_a_voter_that_would_not_read_back() -> None:
    with pytest.raises(InputError) as caught:
        format_ballots_csv(MEETING, [ballot("1", "staff", "wang", r1="好")])
    assert caught.value.message == "投票人“wang”与分组“staff”不符"
    with pytest.raises(InputError):
        format_ballots_csv(MEETING, [ballot("1", "dangzu", r1="好")])
    data = named()
    data["reporters"][2]["id"] = "voter"
    with pytest.raises(InputError) as clash:
        format_ballots_csv(parse_meeting(data), [])
    assert clash.value.where == "voter"


def test_without_named_groups_the_csv_is_byte_for_byte_todays() -> None:
    meeting = parse_meeting_text((EXAMPLES / "demo-meeting.toml").read_text(encoding="utf-8"))
    text = (EXAMPLES / "demo-ballots.csv").read_text(encoding="utf-8-sig")
    ballots = parse_ballots_csv(text, meeting)
    assert all(b.voter == "" for b in ballots)
    assert format_ballots_csv(meeting, ballots) == text
    with pytest.raises(InputError) as caught:  # no named group: no voter column
        parse_ballots_csv("ballot,group,voter,r01\n", meeting)
    assert "未知的列“voter”" in caught.value.message


def sanping_named() -> dict[str, Any]:
    """The 三评 meeting of test_forms_file with 镇机关 named: t0 (王明) 分管 z1."""
    data = copy.deepcopy(base())
    town = data["groups"][0]
    del town["seats"]
    town["named"] = True
    town["members"] = [
        {"id": "t0", "name": "王明", "supervises": ["z1"]},
        *({"id": f"t{i}", "name": f"镇干部{i}"} for i in range(1, 4)),
    ]
    data["groups"][0]["weight"] = data["groups"][1]["weight"] = 0.4  # 镇党委: 0.4 + 0.4 + 0.2
    data["groups"][0]["weights"] = {"村党支部书记": 0.3}  # 村党支部书记: 0.3 + 0.5 + 0.2
    data["groups"][1]["weights"] = {"村党支部书记": 0.5}
    data["supervision"] = {"weight": 0.2}
    return data


def test_a_supervised_reporter_must_be_one_the_supervisors_group_grades() -> None:
    data = sanping_named()
    rural = data["groups"][1]
    del rural["seats"]
    rural["named"] = True
    rural["members"] = [{"id": "v0", "name": "某甲", "supervises": ["z1", "c1"]}]
    with pytest.raises(InputError) as caught:
        parse_meeting(data, "m.toml")  # 农村 answers only the items on c1 (村书记表)
    assert caught.value.where == "m.toml groups[2].members[1].supervises[2]"
    assert caught.value.message.startswith("“农村”对述职人“c1”不作等次测评（用表“村书记表”）")


def sanping_ballots() -> list[Ballot]:
    return [replace(b, voter=b.id) if b.group == "town" else b for b in ballots_for()]


def test_the_item_csv_carries_the_voter_and_round_trips() -> None:
    meeting = parse_meeting(sanping_named())
    ballots = sanping_ballots()
    text = format_ballots_csv(meeting, ballots)
    head, first = text.splitlines()[:2]
    assert (head, first) == (
        "ballot,group,voter,z1,c1,c2,c1.a1,c1.a2,c2.a1,c2.a2",
        "t0,town,t0,好,好,-,能,能,-,-",
    )
    assert parse_ballots_csv(text, meeting) == ballots
    with pytest.raises(InputError) as caught:
        parse_ballots_csv(text.replace("t1,town,t1", "t1,town,t9"), meeting, "b.csv")
    assert caught.value.where == "b.csv:3:3"
    plain = parse_meeting(base())
    assert format_ballots_csv(plain, ballots_for()).startswith("ballot,group,z1,c1,c2,c1.a1")


# -- the 三评 appraisal -------------------------------------------------------------------------


def test_a_supervised_reporters_vote_score_weighs_the_supervision() -> None:
    meeting = parse_meeting(sanping_named())
    result = appraise(meeting, sanping_ballots())
    z1 = next(r for r in result["reporters"] if r["id"] == "z1")
    # 镇机关 好 好 (t0's 好 apart) = 100, 农村 较好 ×4 = 80, 分管 100; weights 0.4, 0.4, 0.2:
    # 40 + 32 + 20 = 92 for the grade part and for the vote score alike
    assert z1["score"] == z1["vote_score"] == 92.0
    supervision = z1["by_group"][SUPERVISION_GROUP]
    assert supervision == {
        "name": "分管领导",
        "form": "grade",
        "kind": "grade",
        "weight": 0.2,
        "grade_score": 100.0,
        "item_score": None,
        "score": 100.0,
        "why": "等次测评得分 100.00",
    }
    assert z1["by_group"]["town"]["grade_score"] == 100.0
    assert z1["source_steps"]["vote"][0]["why"] == (
        "群众测评 = 镇机关 0.4×100.00 + 农村 0.4×80.00 + 分管领导 0.2×100.00 = 92.00"
    )
    c1 = next(r for r in result["reporters"] if r["id"] == "c1")
    assert SUPERVISION_GROUP not in c1["by_group"]


def test_a_silent_supervisor_is_named_in_the_appraisal_reason() -> None:
    meeting = parse_meeting(sanping_named())
    ballots = [
        replace(b, marks={**b.marks, "z1": ABSTAIN}) if b.voter == "t0" else b
        for b in sanping_ballots()
    ]
    z1 = next(r for r in appraise(meeting, ballots)["reporters"] if r["id"] == "z1")
    assert z1["decided_by"].endswith("（分管领导无有效票，权重在其余组间按比例折算）")
    assert z1["source_steps"]["vote"][0]["why"].endswith(
        "（分管领导无有效票或作答，权重在其余组间按比例折算）"
    )
