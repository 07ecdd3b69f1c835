"""The plain data: its defaults, its small lookups, and that it cannot be changed."""

from __future__ import annotations

import dataclasses
from fractions import Fraction as F

import pytest

from tally.model import (
    ABSTAIN,
    DEFAULT_CUTOFFS,
    DEFAULT_GRADES,
    DEFAULT_POINTS,
    NOT_ON_BALLOT,
    SPOILED,
    Ballot,
    Group,
    Meeting,
    Reporter,
    Rules,
)

REPORTERS = (
    Reporter("r1", "张三", "城关镇"),
    Reporter("r2", "李四", "青溪镇", "written", ("问责",)),
)
GROUPS = (Group("a", "县级领导", 15, F(2, 5)), Group("b", "基层代表", 35, F(3, 5)))


def test_the_marks_and_the_default_rules() -> None:
    assert (ABSTAIN, SPOILED, NOT_ON_BALLOT) == ("", "废", "-")
    assert DEFAULT_GRADES == ("好", "较好", "一般", "差")
    assert DEFAULT_POINTS == (100, 80, 60, 0) and DEFAULT_CUTOFFS == (90, 80, 60)
    assert all(type(n) is F for n in (*DEFAULT_POINTS, *DEFAULT_CUTOFFS))


def test_rules_defaults() -> None:
    rules = Rules()
    assert dataclasses.asdict(rules) == {
        "grades": ("好", "较好", "一般", "差"),
        "points": (100, 80, 60, 0),
        "base": "score",
        "score_cutoffs": (90, 80, 60),
        "share_threshold": F(3, 5),
        "poor_share_limit": F(1, 10),
        "poor_share_basis": "valid",
        "override_flags": ("重大失误", "问责"),
        "quorum": 0,
        "quota": (),
        "bottom_count": None,
        "bottom_share": None,
    }
    assert rules.poor_grade == "差" and rules.bottom_size(10) == 0
    assert Rules(grades=("优秀", "合格", "不合格")).poor_grade == "不合格"


def test_reporter_and_group_defaults() -> None:
    reporter = Reporter("r1", "张三", "城关镇")
    assert (reporter.mode, reporter.flags, reporter.written) == ("onsite", (), False)
    assert Reporter("r2", "李四", "青溪镇", mode="written").written is True
    group = Group("all", "全体", 50)
    assert group.weight == 1 and type(group.weight) is F


def test_meeting_defaults_and_seats() -> None:
    meeting = Meeting("述职评议大会", "2026-12-28", REPORTERS, GROUPS)
    assert (meeting.place, meeting.join, meeting.voting) == ("", "cards", "end")
    assert meeting.rules == Rules() and meeting.seats == 50
    assert Meeting("t", "2026-12-28", REPORTERS, (Group("all", "全体", 7),)).seats == 7


@pytest.mark.parametrize("reporter", REPORTERS)
def test_reporter_lookup(reporter: Reporter) -> None:
    assert Meeting("t", "d", REPORTERS, GROUPS).reporter(reporter.id) is reporter


@pytest.mark.parametrize("group", GROUPS)
def test_group_lookup(group: Group) -> None:
    assert Meeting("t", "d", REPORTERS, GROUPS).group(group.id) is group


@pytest.mark.parametrize(("lookup", "key"), [("reporter", "r3"), ("group", "c"), ("group", "r1")])
def test_unknown_ids_raise_key_error_naming_them(lookup: str, key: str) -> None:
    meeting = Meeting("t", "d", REPORTERS, GROUPS)
    with pytest.raises(KeyError) as caught:
        getattr(meeting, lookup)(key)
    assert caught.value.args == (key,)


@pytest.mark.parametrize(
    "value",
    [
        Reporter("r1", "张三", "城关镇"),
        Group("a", "县级领导", 15),
        Rules(),
        Meeting("t", "d", REPORTERS, GROUPS),
        Ballot("1", "a", {"r1": "好"}),
    ],
)
def test_everything_is_frozen(value: object) -> None:
    field = dataclasses.fields(value)[0].name  # type: ignore[arg-type]
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(value, field, "x")


@pytest.mark.parametrize(
    ("marks", "spoiled"),
    [
        ({}, False),  # carries no reporter: not spoiled, it counts as 有效票 for no one
        ({"r1": "废"}, True),
        ({"r1": "废", "r2": "废"}, True),
        ({"r1": "废", "r2": ""}, False),  # a blank beside 废 is an abstention, not 废
        ({"r1": "废", "r2": "好"}, False),
        ({"r1": ""}, False),
    ],
)
def test_a_ballot_is_spoiled_as_a_whole_only_when_every_mark_is_spoiled(
    marks: dict[str, str], spoiled: bool
) -> None:
    assert Ballot("1", "g", marks).spoiled_as_a_whole is spoiled
