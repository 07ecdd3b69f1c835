"""The meeting file: defaults, exact decimals, and a Chinese message naming every bad key."""

from __future__ import annotations

import copy
import datetime
from fractions import Fraction as F
from pathlib import Path

import pytest

from tally.errors import InputError
from tally.meeting_file import (
    GROUP_KEYS,
    MEETING_KEYS,
    REPORTER_KEYS,
    RULE_KEYS,
    TOP_KEYS,
    parse_meeting,
    parse_meeting_text,
)
from tally.model import DEFAULT_GRADES

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
    assert (m.title, m.date, m.place, m.join, m.voting, m.privacy_min_ballots) == (
        "述职评议大会",
        "2026-12-28",
        "",
        "cards",
        "end",
        5,
    )
    assert len(m.groups) == 1
    group = m.groups[0]
    assert (group.id, group.name, group.seats, group.weight) == ("all", "全体", 50, 1)
    assert m.reporters[0].mode == "onsite" and m.reporters[0].flags == ()
    rules = m.rules
    assert rules.grades == DEFAULT_GRADES and rules.points == (100, 80, 60, 0)
    assert rules.score_cutoffs == (90, 80, 60) and rules.base == "score"
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
    data["meeting"]["privacy_min_ballots"] = 1
    data["rules"].update(
        grades=["优秀", "称职", "基本称职", "不称职"],
        base="share",
        share_threshold=0.5,
        poor_share_basis="cast",
        override_flags=["免职"],
        quota={"优秀": 0.2, "称职": 0.5},
    )
    m = parse_meeting(data)
    assert (m.date, m.place, m.join, m.voting, m.privacy_min_ballots) == (
        "2026-12-28",
        "县委党校",
        "open",
        "each",
        1,
    )
    assert m.rules.quota == (("优秀", F(1, 5)), ("称职", F(1, 2)))
    assert m.rules.share_threshold == F(1, 2) and m.rules.override_flags == ("免职",)


def test_the_example_meeting_loads() -> None:
    m = parse_meeting_text(EXAMPLE.read_text(encoding="utf-8"), str(EXAMPLE))
    assert len(m.reporters) == 10 and sum(r.written for r in m.reporters) == 2
    assert [g.seats for g in m.groups] == [15, 30, 35] and m.place


def test_toml_syntax_errors_give_line_and_column() -> None:
    with pytest.raises(InputError) as caught:
        parse_meeting_text('[meeting]\ntitle = "x"\ndate = \n', "m.toml")
    assert caught.value.where == "m.toml:3:8"
    assert caught.value.message.startswith("TOML语法错误")


def set_path(data: dict, path: tuple, value: object) -> None:
    for key in path[:-1]:
        data = data[key]
    if value is DELETE:
        del data[path[-1]]
    else:
        data[path[-1]] = value


DELETE = object()

BAD = [
    # (path into base(), new value, key named in the message, words in the message)
    (("colour",), "red", "colour", "允许的键：meeting, reporters, groups, rules"),
    (("meeting", "venue"), "x", "meeting.venue", "未知的键“venue”"),
    (("meeting", "title"), 7, "meeting.title", "应是字符串，实际为7"),
    (("meeting", "title"), DELETE, "meeting.title", "缺少此项"),
    (("meeting", "title"), "  ", "meeting.title", "不能为空"),
    (("meeting", "date"), "2026/12/28", "meeting.date", "YYYY-MM-DD"),
    (("meeting", "date"), "2026-02-30", "meeting.date", "“2026-02-30”"),
    (("meeting", "join"), "qr", "meeting.join", "应为“cards” 或 “open”，实际为“qr”"),
    (("meeting", "voting"), "now", "meeting.voting", "“now”"),
    (("meeting", "privacy_min_ballots"), 0, "meeting.privacy_min_ballots", "不小于1的整数"),
    (("meeting", "privacy_min_ballots"), True, "meeting.privacy_min_ballots", "true"),
    (("meeting", "seats"), 80, "meeting.seats", "这里不要写"),
    (("meeting",), DELETE, "meeting", "缺少[meeting]"),
    (("reporters",), [], "reporters", "至少要有一位述职人"),
    (("reporters",), {"id": "x"}, "reporters", "应是数组"),
    (("reporters", 1, "id"), "张三", "reporters[2].id", "ASCII字母"),
    (("reporters", 1, "id"), "r01", "reporters[2].id", "“r01”重复"),
    (("reporters", 1, "id"), 2, "reporters[2].id", "应是字符串"),
    (("reporters", 0, "name"), DELETE, "reporters[1].name", "缺少此项"),
    (("reporters", 0, "name"), "", "reporters[1].name", "不能为空"),
    (("reporters", 0, "mode"), "video", "reporters[1].mode", "“onsite” 或 “written”"),
    (("reporters", 0, "flags"), "问责", "reporters[1].flags", "应是数组"),
    (("reporters", 0, "flags"), [1], "reporters[1].flags[1]", "非空字符串"),
    (("reporters", 0, "age"), 50, "reporters[1].age", "允许的键：id, name, org, mode, flags"),
    (("reporters", 0), "r01", "reporters[1]", "应是一个表"),
    (("groups", 2, "id"), "leaders", "groups[3].id", "分组编号“leaders”重复"),
    (("groups", 2, "seats"), 0, "groups[3].seats", "不小于1的整数"),
    (("groups", 2, "seats"), 3.5, "groups[3].seats", "3.5"),
    (("groups", 2, "weight"), 0, "groups[3].weight", "权重应大于0"),
    (("groups", 2, "weight"), -0.3, "groups[3].weight", "0到1之间"),
    (("groups", 2, "weight"), "0.3", "groups[3].weight", "“0.3”"),
    (("groups", 2, "weight"), DELETE, "groups[3].weight", "每组都要写权重"),
    (("groups", 2, "weight"), 0.31, "groups[*].weight", "0.4 + 0.3 + 0.31 = 1.01"),
    (("rules", "grade"), [], "rules.grade", "未知的键“grade”"),
    (("rules", "grades"), ["好"], "rules.grades", "2到10个等次"),
    (("rules", "grades"), ["好", "好", "差", "x"], "rules.grades[2]", "“好”重复"),
    (("rules", "grades"), ["好", "废", "一般", "差"], "rules.grades[2]", "不能用作等次"),
    (("rules", "grades"), ["好", "较,好", "一般", "差"], "rules.grades[2]", "逗号"),
    (("rules", "points"), [100, 80, 60], "rules.points", "应有4个分值"),
    (("rules", "points"), [100, 80, 80, 0], "rules.points", "严格递减，实际为[100, 80, 80, 0]"),
    (("rules", "points"), [100, "80", 60, 0], "rules.points[2]", "应是数"),
    (("rules", "score_cutoffs"), [90, 80], "rules.score_cutoffs", "应有3个分数线"),
    (("rules", "score_cutoffs"), [60, 80, 90], "rules.score_cutoffs", "严格递减"),
    (("rules", "base"), "rank", "rules.base", "“score” 或 “share”"),
    (("rules", "share_threshold"), 1.5, "rules.share_threshold", "0到1之间的数，实际为1.5"),
    (("rules", "poor_share_limit"), -0.1, "rules.poor_share_limit", "0到1之间"),
    (("rules", "poor_share_basis"), "all", "rules.poor_share_basis", "“valid” 或 “cast”"),
    (("rules", "override_flags"), ["问责", ""], "rules.override_flags[2]", "非空字符串"),
    (("rules", "quorum"), 80, "rules.quorum", "0到1之间的数，实际为80"),
    (("rules", "quorum"), float("nan"), "rules.quorum", "0到1之间的数，实际为nan"),
    (("rules", "points"), [100, 80, float("inf"), 0], "rules.points[3]", "应是数，实际为inf"),
    (("rules", "quota"), {"优": 0.3}, "rules.quota.优", "允许的键：好, 较好, 一般"),
    (("rules", "quota"), {"差": 0.3}, "rules.quota.差", "未知的键"),
    (("rules", "quota"), {"好": 1.2}, "rules.quota.好", "0到1之间"),
    (("rules", "quota"), 0.3, "rules.quota", "应是一个表"),
]


@pytest.mark.parametrize(
    ("path", "value", "key", "words"), BAD, ids=[b[2] + ":" + b[3] for b in BAD]
)
def test_every_bad_value_is_named(path: tuple, value: object, key: str, words: str) -> None:
    data = copy.deepcopy(base())
    set_path(data, path, value)
    with pytest.raises(InputError) as caught:
        parse_meeting(data, "m.toml")
    assert caught.value.where == f"m.toml {key}"
    assert words in caught.value.message
    assert str(caught.value).startswith(f"m.toml {key}：")


def test_a_file_that_is_not_a_table() -> None:
    with pytest.raises(InputError) as caught:
        parse_meeting([], "m.toml")  # type: ignore[arg-type]
    assert caught.value.where == "m.toml" and "应是一个表" in caught.value.message


def test_no_groups_needs_meeting_seats() -> None:
    data = base()
    del data["groups"]
    with pytest.raises(InputError) as caught:
        parse_meeting(data)
    assert caught.value.where == "meeting.toml meeting.seats" and "缺少此项" in caught.value.message


def test_a_single_group_may_leave_out_its_weight() -> None:
    data = base()
    data["groups"] = [{"id": "all-voters", "name": "全体", "seats": 60}]
    assert parse_meeting(data).groups[0].weight == 1


def test_every_key_is_documented() -> None:
    doc = (EXAMPLE.parents[1] / "docs" / "meeting-file.md").read_text(encoding="utf-8")
    for key in (*TOP_KEYS, *MEETING_KEYS, *REPORTER_KEYS, *GROUP_KEYS, *RULE_KEYS):
        assert (
            f"`{key}`" in doc or f"[{key}]" in doc or f"[[{key}]]" in doc or f"[rules.{key}]" in doc
        ), key
