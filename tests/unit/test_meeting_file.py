"""The meeting file: defaults, exact decimals, and a Chinese message naming every bad key."""

from __future__ import annotations

import copy
import datetime
import re
import tomllib
from fractions import Fraction as F
from pathlib import Path

import pytest

from tally.errors import InputError
from tally.meeting_file import (
    AGENDA_KEYS,
    EVALUATION_KEYS,
    GROUP_KEYS,
    MEETING_KEYS,
    REPORTER_KEYS,
    RULE_KEYS,
    TOP_KEYS,
    parse_meeting,
    parse_meeting_text,
)
from tally.model import DEFAULT_GRADES, Group, Reporter

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "demo-meeting.toml"

MINIMAL = """
[meeting]
title = "述职评议大会"
date = "2026-12-28"
seats = 50

[[reporters]]
id = "r01"
name = "张三"
org = "城关镇党委"
"""


def base() -> dict:
    return {
        "meeting": {"title": "述职评议大会", "date": "2026-12-28"},
        "reporters": [
            {"id": "r01", "name": "张三", "org": "城关镇党委"},
            {
                "id": "r02",
                "name": "李四",
                "org": "青溪镇党委",
                "mode": "written",
                "flags": ["问责"],
            },
        ],
        "groups": [
            {"id": "leaders", "name": "县级领导", "seats": 15, "weight": 0.4},
            {"id": "depts", "name": "部门负责人", "seats": 30, "weight": 0.3},
            {"id": "base", "name": "基层代表", "seats": 35, "weight": 0.3},
        ],
        "rules": {"quota": {"好": 0.3}, "quorum": 0.8},
    }


def test_minimal_file_takes_every_default() -> None:
    m = parse_meeting_text(MINIMAL)
    assert (m.title, m.date, m.place, m.join, m.voting) == (
        "述职评议大会",
        "2026-12-28",
        "",
        "cards",
        "end",
    )
    assert len(m.groups) == 1
    group = m.groups[0]
    assert (group.id, group.name, group.seats, group.weight) == ("all", "全体", 50, 1)
    assert m.reporters == (Reporter("r01", "张三", "城关镇党委", "onsite", ()),)
    rules = m.rules
    assert rules.grades == DEFAULT_GRADES and rules.points == (100, 80, 60, 0)
    assert rules.score_cutoffs == (90, 80, 60) and rules.base == "score"
    assert rules.share_threshold == F(3, 5)
    assert rules.poor_share_limit == F(1, 10) and rules.poor_share_basis == "valid"
    assert rules.override_flags == ("重大失误", "问责") and rules.quorum == 0 and rules.quota == ()


def test_a_bom_is_accepted() -> None:
    assert parse_meeting_text("\ufeff" + MINIMAL) == parse_meeting_text(MINIMAL)


def test_groups_weights_and_decimals_are_exact() -> None:
    data = base()
    for group, weight in zip(data["groups"], (0.1, 0.2, 0.7), strict=True):
        group["weight"] = weight  # 0.1 + 0.2 + 0.7 != 1.0 in floats, but is 1 as decimals
    data["rules"]["poor_share_limit"] = 0.1
    m = parse_meeting(data)
    assert [g.weight for g in m.groups] == [F(1, 10), F(1, 5), F(7, 10)]
    assert m.seats == 80 and m.rules.poor_share_limit == F(1, 10)
    assert m.rules.quota == (("好", F(3, 10)),) and m.rules.quorum == F(4, 5)
    assert m.reporters[1].written and m.reporters[1].flags == ("问责",)


def test_unquoted_toml_date_and_all_options() -> None:
    data = base()
    data["meeting"].update(
        date=datetime.date(2026, 12, 28), place="县委党校", join="open", voting="each"
    )
    data["meeting"]["organizer"] = "中共某某县委组织部"
    data["rules"].update(
        grades=["优秀", "称职", "基本称职", "不称职"],
        poor_grade="不称职",
        bottom="12.5%",
        base="share",
        share_threshold=0.5,
        poor_share_basis="cast",
        override_flags=["免职"],
        quota={"优秀": 0.2, "称职": 0.5},
    )
    m = parse_meeting(data)
    assert (m.date, m.place, m.join, m.voting) == ("2026-12-28", "县委党校", "open", "each")
    assert m.organizer == "中共某某县委组织部" and parse_meeting(base()).organizer == ""
    assert m.rules.quota == (("优秀", F(1, 5)), ("称职", F(1, 2)))
    assert m.rules.share_threshold == F(1, 2) and m.rules.override_flags == ("免职",)
    assert m.rules.poor_grade == "不称职" and m.rules.bottom_share == F(1, 8)


@pytest.mark.parametrize("value", ["3", "0", "true", '"x"'])
def test_privacy_min_ballots_from_older_files_is_accepted_and_ignored(value: str) -> None:
    # It held back the chair's live counts, which went away when ballots were sealed.
    older = MINIMAL.replace("seats = 50\n", f"seats = 50\nprivacy_min_ballots = {value}\n")
    assert "privacy_min_ballots" in older
    assert parse_meeting_text(older) == parse_meeting_text(MINIMAL)


def test_the_example_meeting_loads() -> None:
    m = parse_meeting_text(EXAMPLE.read_text(encoding="utf-8"), str(EXAMPLE))
    assert len(m.reporters) == 10 and sum(r.written for r in m.reporters) == 2
    assert [g.seats for g in m.groups] == [15, 30, 35] and m.place


TOML_ERRORS = [
    # (text, where, message): tomllib's reason, the place as file:line:column
    ('[meeting]\ntitle = "x"\ndate = \n', "m.toml:3:8", "TOML语法错误：Invalid value"),
    ("[meeting]\ntitle = 'x' y\n", "m.toml:2:13", "TOML语法错误：Expected newline or end of document after a statement"),
    # Ran out of text: the place just after the last character.
    ("a = ", "m.toml:1:5", "TOML语法错误：Invalid value（文件在此处意外结束）"),
    ("\ufeffa = ", "m.toml:1:5", "TOML语法错误：Invalid value（文件在此处意外结束）"),
    ('[meeting]\r\ntitle = "x', "m.toml:2:11", "TOML语法错误：Unterminated string（文件在此处意外结束）"),
    ('a = """x\n', "m.toml:2:1", "TOML语法错误：Unterminated string（文件在此处意外结束）"),
    ("a = 1\nb = [1,\n2,", "m.toml:3:3", "TOML语法错误：Invalid value（文件在此处意外结束）"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "where", "message"),
    TOML_ERRORS,
    ids=[
        "mid-text",
        "after-a-value",
        "at-end",
        "at-end-after-bom",
        "at-end-crlf",
        "at-end-newline",
        "at-end-array",
    ],
)
def test_toml_syntax_errors_give_line_and_column(text: str, where: str, message: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_meeting_text(text, "m.toml")
    assert (caught.value.where, caught.value.message) == (where, message)


def test_a_toml_error_without_a_position_names_the_file(monkeypatch: pytest.MonkeyPatch) -> None:
    def loads(text: str) -> dict:
        raise tomllib.TOMLDecodeError("Recursion limit reached")

    monkeypatch.setattr(tomllib, "loads", loads)
    with pytest.raises(InputError) as caught:
        parse_meeting_text(MINIMAL, "m.toml")
    assert (caught.value.where, caught.value.message) == (
        "m.toml",
        "TOML语法错误：Recursion limit reached",
    )


def set_path(data: dict, path: tuple, value: object) -> None:
    for key in path[:-1]:
        data = data[key]
    if value is DELETE:
        del data[path[-1]]
    else:
        data[path[-1]] = value


DELETE = object()

# fmt: off
BAD = [
    # (path into base(), new value, the key named, the whole message)
    (("colour",), "red", "colour", "未知的键“colour”；允许的键：meeting, reporters, groups, rules, agenda, evaluation"),
    (("meeting", "venue"), "x", "meeting.venue", "未知的键“venue”；允许的键：title, date, place, organizer, join, voting, privacy_min_ballots, seats"),
    (("meeting", "title"), 7, "meeting.title", "应是字符串，实际为7"),
    (("meeting", "title"), DELETE, "meeting.title", "缺少此项（必填，字符串）"),
    (("meeting", "title"), "  ", "meeting.title", "不能为空"),
    (("meeting", "date"), "2026/12/28", "meeting.date", "应是YYYY-MM-DD格式的日期，实际为“2026/12/28”"),
    (("meeting", "date"), "2026-02-30", "meeting.date", "应是YYYY-MM-DD格式的日期，实际为“2026-02-30”"),
    (("meeting", "join"), "qr", "meeting.join", "应为“cards” 或 “open”，实际为“qr”"),
    (("meeting", "voting"), "now", "meeting.voting", "应为“end” 或 “each”，实际为“now”"),
    (("meeting", "seats"), 80, "meeting.seats", "已用[[groups]]分组时，应到人数写在各组的seats里，这里不要写"),
    (("meeting",), DELETE, "meeting", "缺少[meeting]表（至少要写title和date）"),
    (("reporters",), [], "reporters", "至少要有一位述职人（[[reporters]]）"),
    (("reporters",), DELETE, "reporters", "至少要有一位述职人（[[reporters]]）"),
    (("reporters",), {"id": "x"}, "reporters", "应是数组，实际为一个表"),
    (("reporters", 1, "id"), "张三", "reporters[2].id", "述职人编号只能含ASCII字母、数字、_或-，实际为“张三”"),
    (("reporters", 1, "id"), "r01", "reporters[2].id", "述职人编号“r01”重复"),
    (("reporters", 1, "id"), 2, "reporters[2].id", "应是字符串，实际为2"),
    (("reporters", 0, "name"), DELETE, "reporters[1].name", "缺少此项（必填，字符串）"),
    (("reporters", 0, "name"), "", "reporters[1].name", "不能为空"),
    (("reporters", 0, "mode"), "video", "reporters[1].mode", "应为“onsite” 或 “written”，实际为“video”"),
    (("reporters", 0, "flags"), "问责", "reporters[1].flags", "应是数组，实际为“问责”"),
    (("reporters", 0, "flags"), [1], "reporters[1].flags[1]", "应是非空字符串，实际为1"),
    (("reporters", 0, "age"), 50, "reporters[1].age", "未知的键“age”；允许的键：id, name, org, mode, flags, commenters"),
    (("reporters", 0), "r01", "reporters[1]", "应是一个表（table），实际为“r01”"),
    (("groups", 2, "id"), "leaders", "groups[3].id", "分组编号“leaders”重复"),
    (("groups", 2, "seats"), 0, "groups[3].seats", "应是不小于1的整数，实际为0"),
    (("groups", 2, "seats"), 3.5, "groups[3].seats", "应是不小于1的整数，实际为3.5"),
    (("groups", 2, "weight"), 0, "groups[3].weight", "权重应大于0，实际为0"),
    (("groups", 2, "weight"), -0.3, "groups[3].weight", "应是0到1之间的数，实际为-0.3"),
    (("groups", 2, "weight"), "0.3", "groups[3].weight", "应是0到1之间的数，实际为“0.3”"),
    (("groups", 2, "weight"), DELETE, "groups[3].weight", "有多个分组时每组都要写权重weight（各组之和为1）"),
    (("groups", 2, "weight"), 0.31, "groups[*].weight", "各组权重之和应为1，实际为0.4 + 0.3 + 0.31 = 1.01"),
    (("rules", "grade"), [], "rules.grade", "未知的键“grade”；允许的键：grades, points, base, score_cutoffs, share_threshold, poor_share_limit, poor_share_basis, override_flags, quorum, quota, poor_grade, bottom"),
    (("rules", "grades"), ["好"], "rules.grades", "应有2到10个等次，实际为1个"),
    (("rules", "grades"), ["好", "好", "差", "x"], "rules.grades[2]", "等次“好”重复"),
    (("rules", "grades"), ["好", "废", "一般", "差"], "rules.grades[2]", "“废”不能用作等次（保留字或含逗号、引号、空白）"),
    (("rules", "grades"), ["好", "较,好", "一般", "差"], "rules.grades[2]", "“较,好”不能用作等次（保留字或含逗号、引号、空白）"),
    (("rules", "points"), [100, 80, 60], "rules.points", "应有4个分值（与grades一一对应），实际为3个"),
    (("rules", "points"), [100, 80, 80, 0], "rules.points", "应从高到低严格递减，实际为[100, 80, 80, 0]"),
    (("rules", "points"), [100, "80", 60, 0], "rules.points[2]", "应是数，实际为“80”"),
    (("rules", "score_cutoffs"), [90, 80], "rules.score_cutoffs", "应有3个分数线（比grades少一个），实际为2个"),
    (("rules", "score_cutoffs"), [60, 80, 90], "rules.score_cutoffs", "应从高到低严格递减，实际为[60, 80, 90]"),
    (("rules", "base"), "rank", "rules.base", "应为“score” 或 “share”，实际为“rank”"),
    (("rules", "share_threshold"), 1.5, "rules.share_threshold", "应是0到1之间的数，实际为1.5"),
    (("rules", "poor_share_limit"), -0.1, "rules.poor_share_limit", "应是0到1之间的数，实际为-0.1"),
    (("rules", "poor_share_basis"), "all", "rules.poor_share_basis", "应为“valid” 或 “cast”，实际为“all”"),
    (("rules", "override_flags"), ["问责", ""], "rules.override_flags[2]", "应是非空字符串，实际为“”"),
    (("rules", "quorum"), 80, "rules.quorum", "应是0到1之间的数，实际为80"),
    (("rules", "quorum"), float("nan"), "rules.quorum", "应是0到1之间的数，实际为nan"),
    (("rules", "points"), [100, 80, float("inf"), 0], "rules.points[3]", "应是数，实际为inf"),
    (("rules", "quota"), {"优": 0.3}, "rules.quota.优", "未知的键“优”；允许的键：好, 较好, 一般"),
    (("rules", "quota"), {"差": 0.3}, "rules.quota.差", "未知的键“差”；允许的键：好, 较好, 一般"),
    (("rules", "quota"), {"好": 1.2}, "rules.quota.好", "应是0到1之间的数，实际为1.2"),
    (("rules", "quota"), 0.3, "rules.quota", "应是一个表（table），实际为0.3"),
    (("meeting", "date"), "20261228", "meeting.date", "应是YYYY-MM-DD格式的日期，实际为“20261228”"),
    (("meeting", "date"), datetime.datetime(2026, 12, 28, 9, 30), "meeting.date", "应是字符串，实际为datetime.datetime(2026, 12, 28, 9, 30)"),
    (("meeting", "date"), DELETE, "meeting.date", "缺少此项（必填，字符串）"),
    (("reporters", 0, "org"), DELETE, "reporters[1].org", "缺少此项（必填，字符串）"),
    (("reporters", 0, "flags"), ["问责", "  "], "reporters[1].flags[2]", "应是非空字符串，实际为“  ”"),
    (("groups", 0, "name"), DELETE, "groups[1].name", "缺少此项（必填，字符串）"),
    (("groups", 0, "seats"), DELETE, "groups[1].seats", "缺少此项（必填，不小于1的整数）"),
    (("groups", 0, "seats"), False, "groups[1].seats", "应是不小于1的整数，实际为false"),
    (("groups", 2, "weight"), 1, "groups[*].weight", "各组权重之和应为1，实际为0.4 + 0.3 + 1 = 1.7"),
    (("groups", 2, "weight"), 0.3000001, "groups[*].weight", "各组权重之和应为1，实际为0.4 + 0.3 + 3000001/10000000 = 10000001/10000000"),
    (("groups", 2, "weight"), 1.5, "groups[3].weight", "应是0到1之间的数，实际为1.5"),
    (("rules", "grades"), [f"等{i}" for i in range(11)], "rules.grades", "应有2到10个等次，实际为11个"),
    (("rules", "grades"), "好", "rules.grades", "应是数组，实际为“好”"),
    (("rules", "grades"), ["好", "-", "一般", "差"], "rules.grades[2]", "“-”不能用作等次（保留字或含逗号、引号、空白）"),
    (("rules", "grades"), ["好", " 较好", "一般", "差"], "rules.grades[2]", "“ 较好”不能用作等次（保留字或含逗号、引号、空白）"),
    (("rules", "grades"), ["好", "较好", "一般 ", "差"], "rules.grades[3]", "“一般 ”不能用作等次（保留字或含逗号、引号、空白）"),
    (("rules", "grades"), ["好", '较"好', "一般", "差"], "rules.grades[2]", "“较\"好”不能用作等次（保留字或含逗号、引号、空白）"),
    (("rules", "grades"), ["好", "较好", "一\t般", "差"], "rules.grades[3]", "“一\t般”不能用作等次（保留字或含逗号、引号、空白）"),
    (("rules", "grades"), ["好", "较好", "一\n般", "差"], "rules.grades[3]", "“一\n般”不能用作等次（保留字或含逗号、引号、空白）"),
    (("rules", "grades"), ["好", "较好", "一\r般", "差"], "rules.grades[3]", "“一\r般”不能用作等次（保留字或含逗号、引号、空白）"),
    (("rules", "grades"), ["好", "较好", "好", "差"], "rules.grades[3]", "等次“好”重复"),
    (("rules", "points"), [80, 100, 60, 0], "rules.points", "应从高到低严格递减，实际为[80, 100, 60, 0]"),
    (("rules", "points"), [100, 80.5, 90, 0], "rules.points", "应从高到低严格递减，实际为[100, 80.5, 90, 0]"),
    (("rules", "points"), 100, "rules.points", "应是数组，实际为100"),
    (("rules", "score_cutoffs"), [90, 80, 60, 40], "rules.score_cutoffs", "应有3个分数线（比grades少一个），实际为4个"),
    (("rules", "score_cutoffs"), [90, 60, 60], "rules.score_cutoffs", "应从高到低严格递减，实际为[90, 60, 60]"),
    (("rules", "quorum"), True, "rules.quorum", "应是0到1之间的数，实际为true"),
    (("rules", "quorum"), False, "rules.quorum", "应是0到1之间的数，实际为false"),
    (("rules", "quorum"), 1.0000001, "rules.quorum", "应是0到1之间的数，实际为1.0000001"),
    (("rules", "quorum"), [0.5], "rules.quorum", "应是0到1之间的数，实际为[0.5]"),
    (("rules", "share_threshold"), {"a": 1}, "rules.share_threshold", "应是0到1之间的数，实际为一个表"),
    (("rules", "points"), [100, 80, 60, float("-inf")], "rules.points[4]", "应是数，实际为-inf"),
    (("rules", "points"), [100, 80, True, 0], "rules.points[3]", "应是数，实际为true"),
    (("rules", "override_flags"), "问责", "rules.override_flags", "应是数组，实际为“问责”"),
    (("rules", "quota"), {"较好": -0.5}, "rules.quota.较好", "应是0到1之间的数，实际为-0.5"),
    (("rules",), [], "rules", "应是一个表（table），实际为[]"),
    (("agenda",), {"report_minutes": 0}, "agenda.report_minutes", "应是大于0、不超过600的分钟数，实际为0"),
    (("agenda",), {"report_minutes": -5}, "agenda.report_minutes", "应是大于0、不超过600的分钟数，实际为-5"),
    (("agenda",), {"comment_minutes": 601}, "agenda.comment_minutes", "应是大于0、不超过600的分钟数，实际为601"),
    (("agenda",), {"comment_minutes": "5"}, "agenda.comment_minutes", "应是大于0、不超过600的分钟数，实际为“5”"),
    (("agenda",), {"report_minutes": True}, "agenda.report_minutes", "应是大于0、不超过600的分钟数，实际为true"),
    (("agenda",), {"vote_minutes": 5}, "agenda.vote_minutes", "未知的键“vote_minutes”；允许的键：report_minutes, comment_minutes, commenters, comments, closing_speech"),
    (("agenda",), 5, "agenda", "应是一个表（table），实际为5"),
]
# fmt: on


@pytest.mark.parametrize(
    ("path", "value", "key", "message"),
    BAD,
    ids=[f"{i:02d}-" + re.sub(r"\W", "_", b[2], flags=re.ASCII) for i, b in enumerate(BAD)],
)
def test_every_bad_value_is_named(path: tuple, value: object, key: str, message: str) -> None:
    data = copy.deepcopy(base())
    set_path(data, path, value)
    with pytest.raises(InputError) as caught:
        parse_meeting(data, "m.toml")
    assert (caught.value.where, caught.value.message) == (f"m.toml {key}", message)


def test_a_file_that_is_not_a_table() -> None:
    with pytest.raises(InputError) as caught:
        parse_meeting([], "m.toml")  # type: ignore[arg-type]
    assert (caught.value.where, caught.value.message) == ("m.toml", "应是一个表（table），实际为[]")
    assert str(caught.value) == "m.toml：应是一个表（table），实际为[]"


@pytest.mark.parametrize(
    ("seats", "message"),
    [
        (DELETE, "缺少此项（必填，不小于1的整数）"),
        (0, "应是不小于1的整数，实际为0"),
        ("50", "应是不小于1的整数，实际为“50”"),
    ],
)
def test_no_groups_needs_meeting_seats(seats: object, message: str) -> None:
    data = base()
    del data["groups"]
    if seats is not DELETE:
        data["meeting"]["seats"] = seats
    with pytest.raises(InputError) as caught:
        parse_meeting(data)
    assert (caught.value.where, caught.value.message) == ("meeting.toml meeting.seats", message)


def test_without_groups_one_group_holds_every_seat() -> None:
    data = base()
    del data["groups"]
    data["meeting"]["seats"] = 1
    group = parse_meeting(data).groups[0]
    assert (group.id, group.name, group.seats, group.weight) == ("all", "全体", 1, 1)


def test_with_two_groups_both_need_a_weight() -> None:
    data = base()
    data["groups"] = [
        {"id": "a", "name": "县级领导", "seats": 15, "weight": 1},
        {"id": "b", "name": "基层代表", "seats": 30},
    ]
    with pytest.raises(InputError) as caught:
        parse_meeting(data)
    assert (caught.value.where, caught.value.message) == (
        "meeting.toml groups[2].weight",
        "有多个分组时每组都要写权重weight（各组之和为1）",
    )


def test_errors_after_parsing_name_the_file_too() -> None:
    with pytest.raises(InputError) as caught:
        parse_meeting_text(MINIMAL.replace('title = "述职评议大会"', "title = 3"), "m.toml")
    assert str(caught.value) == "m.toml meeting.title：应是字符串，实际为3"
    with pytest.raises(InputError) as caught:
        parse_meeting_text(MINIMAL.replace("seats = 50", "seats = 0"))
    assert str(caught.value) == "meeting.toml meeting.seats：应是不小于1的整数，实际为0"
    with pytest.raises(InputError) as caught:
        parse_meeting_text("a = ")
    assert caught.value.where == "meeting.toml:1:5"


def test_a_single_group_may_leave_out_its_weight() -> None:
    data = base()
    data["groups"] = [{"id": "all-voters", "name": "全体", "seats": 60}]
    assert parse_meeting(data).groups == (Group("all-voters", "全体", 60, F(1)),)


@pytest.mark.parametrize(
    ("path", "value", "read"),
    [
        # Every limit is inclusive.
        (("rules", "quorum"), 0, lambda m: m.rules.quorum == 0),
        (("rules", "quorum"), 1, lambda m: m.rules.quorum == 1),
        (("rules", "share_threshold"), 0, lambda m: m.rules.share_threshold == 0),
        (("rules", "share_threshold"), 1.0, lambda m: m.rules.share_threshold == 1),
        (("rules", "poor_share_limit"), 0.0, lambda m: m.rules.poor_share_limit == 0),
        (("rules", "poor_share_limit"), 1, lambda m: m.rules.poor_share_limit == 1),
        (("rules", "quota"), {"较好": 1, "好": 0}, lambda m: m.rules.quota == (("好", 0), ("较好", 1))),
        (("rules", "quota"), {}, lambda m: m.rules.quota == ()),
        (("rules", "quota"), {"一般": 0.5, "较好": 0.25, "好": 0.125}, lambda m: m.rules.quota == (("好", F(1, 8)), ("较好", F(1, 4)), ("一般", F(1, 2)))),
        (("groups", 0, "seats"), 1, lambda m: m.groups[0].seats == 1),
        (("groups",), [{"id": "g", "name": "全体", "seats": 9, "weight": 1}], lambda m: m.groups[0].weight == 1),
        (("reporters", 0, "flags"), [], lambda m: m.reporters[0].flags == ()),
        (("rules", "override_flags"), [], lambda m: m.rules.override_flags == ()),
        (("reporters", 0, "id"), "Ab_9-z", lambda m: m.reporters[0].id == "Ab_9-z"),
        (("meeting", "date"), "2028-02-29", lambda m: m.date == "2028-02-29"),
        (("rules", "points"), [1.5, 0.5, 0, -1], lambda m: m.rules.points == (F(3, 2), F(1, 2), 0, -1)),
    ],
)  # fmt: skip
def test_values_on_the_limits_are_accepted(path: tuple, value: object, read) -> None:  # noqa: ANN001
    data = copy.deepcopy(base())
    set_path(data, path, value)
    assert read(parse_meeting(data))


@pytest.mark.parametrize("count", [2, 10])
def test_two_to_ten_grades(count: int) -> None:
    data = base()
    data["rules"] = {
        "grades": [f"等{i}" for i in range(count)],
        "points": list(range(count, 0, -1)),
        "score_cutoffs": [i + 0.5 for i in range(count - 1, 0, -1)],
        "poor_grade": f"等{count - 1}",
    }
    rules = parse_meeting(data).rules
    assert (
        rules.grades == tuple(f"等{i}" for i in range(count))
        and rules.poor_grade == f"等{count - 1}"
    )
    assert rules.points[0] == count and rules.score_cutoffs[-1] == F(3, 2)


def test_every_key_is_documented() -> None:
    from tally import forms_file

    doc = (EXAMPLE.parents[1] / "docs" / "meeting-file.md").read_text(encoding="utf-8")
    for key in (
        *TOP_KEYS,
        *MEETING_KEYS,
        *REPORTER_KEYS,
        *GROUP_KEYS,
        *RULE_KEYS,
        *AGENDA_KEYS,
        *EVALUATION_KEYS,
        *forms_file.FORM_KEYS,
        *forms_file.ITEM_KEYS,
        *forms_file.ITEMS_FILE_KEYS,
        *forms_file.COMPOSITE_KEYS,
        *forms_file.SOURCE_KEYS,
        *forms_file.EXPERTS_KEYS,
        *forms_file.INDICATOR_KEYS,
    ):
        assert (
            f"`{key}`" in doc or f"[{key}]" in doc or f"[[{key}]]" in doc or f"[rules.{key}]" in doc
        ), key


# -- the poor grade and 倒排 ----------------------------------------------------------------

QUALIFIED = ["优秀", "合格", "基本合格", "不合格"]
FLAGS = ["红旗", "先进", "达标", "后进"]


def with_rules(**rules: object) -> dict:
    data = base()
    data["rules"] = dict(rules)
    return data


@pytest.mark.parametrize(
    ("rules", "poor"),
    [
        ({}, "差"),  # the default scale: its last grade, 差
        ({"poor_grade": "差"}, "差"),
        ({"grades": list(DEFAULT_GRADES)}, "差"),  # the default scale written out
        ({"grades": QUALIFIED, "poor_grade": "不合格"}, "不合格"),
        ({"grades": FLAGS, "poor_grade": "后进"}, "后进"),
        ({"grades": ["称职", "不称职"], "points": [1, 0], "score_cutoffs": [0.5], "poor_grade": "不称职"}, "不称职"),
    ],
)  # fmt: skip
def test_the_poor_grade_defaults_only_for_the_default_scale(rules: dict, poor: str) -> None:
    assert parse_meeting(with_rules(**rules)).rules.poor_grade == poor


ALL_FOUR = "优秀、合格、基本合格、不合格"


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ({"grades": QUALIFIED}, f"使用自定义等次（{ALL_FOUR}）时必须写明差票规则和标记定为哪个等次，应为最后一个等次：poor_grade = \"不合格\""),
        ({"grades": ["好", "较好", "差"], "points": [2, 1, 0], "score_cutoffs": [2, 1]}, "使用自定义等次（好、较好、差）时必须写明差票规则和标记定为哪个等次，应为最后一个等次：poor_grade = \"差\""),
        ({"grades": QUALIFIED, "poor_grade": "差"}, f"“差”不是rules.grades中的等次；等次为：{ALL_FOUR}"),
        ({"poor_grade": "不合格"}, "“不合格”不是rules.grades中的等次；等次为：好、较好、一般、差"),
        ({"grades": QUALIFIED, "poor_grade": "基本合格"}, "应为最后（最差）一个等次“不合格”，实际为“基本合格”：差票规则和标记把等次定为最差一档，等次按从好到差排列"),
        ({"poor_grade": "好"}, "应为最后（最差）一个等次“差”，实际为“好”：差票规则和标记把等次定为最差一档，等次按从好到差排列"),
        ({"grades": QUALIFIED, "poor_grade": 4}, "应是字符串，实际为4"),
    ],
)  # fmt: skip
def test_a_missing_or_wrong_poor_grade_is_refused_naming_the_key_and_the_grades(
    rules: dict, message: str
) -> None:
    with pytest.raises(InputError) as caught:
        parse_meeting(with_rules(**rules))
    assert (caught.value.where, caught.value.message) == ("meeting.toml rules.poor_grade", message)


def test_a_custom_scale_without_a_poor_grade_is_refused_in_the_toml_text_too() -> None:
    text = MINIMAL + '\n[rules]\ngrades = ["红旗", "先进", "达标", "后进"]\n'
    with pytest.raises(InputError) as caught:
        parse_meeting_text(text, "县委.toml")
    assert str(caught.value).startswith("县委.toml rules.poor_grade：")
    assert "红旗、先进、达标、后进" in str(caught.value) and 'poor_grade = "后进"' in str(
        caught.value
    )


@pytest.mark.parametrize(
    ("value", "count", "share", "sizes"),
    [
        # value, bottom_count, bottom_share, then the size for 1, 2, 7, 10 and 21 reporters
        (1, 1, None, (1, 1, 1, 1, 1)),
        (2, 2, None, (1, 2, 2, 2, 2)),
        ("10%", None, F(1, 10), (1, 1, 1, 1, 3)),  # rounded up: 10% of 21 is 2.1 → 3
        ("20%", None, F(1, 5), (1, 1, 2, 2, 5)),
        ("12.5%", None, F(1, 8), (1, 1, 1, 2, 3)),
        (" 50% ", None, F(1, 2), (1, 1, 4, 5, 11)),
        ("100%", None, F(1), (1, 2, 7, 10, 21)),
    ],
)
def test_bottom_is_a_count_or_a_share_rounded_up(
    value: object, count: int | None, share: F | None, sizes: tuple
) -> None:
    rules = parse_meeting(with_rules(bottom=value)).rules
    assert (rules.bottom_count, rules.bottom_share) == (count, share)
    assert tuple(rules.bottom_size(n) for n in (1, 2, 7, 10, 21)) == sizes


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (0, "应是1到2（述职人数）之间的整数，或“10%”这样的比例，实际为0"),
        (3, "应是1到2（述职人数）之间的整数，或“10%”这样的比例，实际为3"),
        (-1, "应是1到2（述职人数）之间的整数，或“10%”这样的比例，实际为-1"),
        (True, "应是1到2（述职人数）之间的整数，或“10%”这样的比例，实际为true"),
        (0.1, "应是1到2（述职人数）之间的整数，或“10%”这样的比例，实际为0.1"),
        ([2], "应是1到2（述职人数）之间的整数，或“10%”这样的比例，实际为[2]"),
        ("0%", "比例应写成大于0、不超过100的百分数，如“10%”，实际为“0%”"),
        ("101%", "比例应写成大于0、不超过100的百分数，如“10%”，实际为“101%”"),
        ("10", "比例应写成大于0、不超过100的百分数，如“10%”，实际为“10”"),
        ("十%", "比例应写成大于0、不超过100的百分数，如“10%”，实际为“十%”"),
        ("-10%", "比例应写成大于0、不超过100的百分数，如“10%”，实际为“-10%”"),
    ],
)
def test_a_bad_bottom_is_refused_naming_the_key(value: object, message: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_meeting(with_rules(bottom=value))
    assert (caught.value.where, caught.value.message) == ("meeting.toml rules.bottom", message)
