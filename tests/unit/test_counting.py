"""Counting marks per reporter and group, and refusing the ballots that cannot be counted."""

from __future__ import annotations

from collections import Counter
from fractions import Fraction as F

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tally.counting import count_marks
from tally.errors import InputError
from tally.model import ABSTAIN, SPOILED, Ballot, Group, Meeting, Reporter, Rules

GROUPS = (Group("a", "县级领导", 10, F(1, 2)), Group("b", "基层代表", 20, F(1, 2)))
REPORTERS = (Reporter("r1", "张三", "城关镇"), Reporter("r2", "李四", "青溪镇"))
MEETING = Meeting("测试会议", "2026-12-28", REPORTERS, GROUPS)
EXPECTED = "好、较好、一般、差、空白（弃权）或“废”"


def plain(counts: tuple[dict, dict]) -> tuple[dict, dict]:
    """Counters as plain dicts without zero entries, so that == compares exactly."""
    tallies, groups = counts
    return (
        {
            rid: {gid: {k: v for k, v in c.items() if v} for gid, c in per.items()}
            for rid, per in tallies.items()
        },
        groups,
    )


def test_few_ballots_counted_row_by_row() -> None:
    ballots = [
        Ballot("1", "a", {"r1": "好", "r2": "差"}),
        Ballot("2", "a", {"r1": "好", "r2": ABSTAIN}),
        Ballot("3", "b", {"r2": SPOILED}),  # r1 is not on this ballot
        Ballot("4", "b", {"r2": "较好", "r1": "一般"}),  # another column order
    ]
    assert plain(count_marks(MEETING, ballots)) == (
        {
            "r1": {"a": {"好": 2}, "b": {"一般": 1}},
            "r2": {"a": {"差": 1, ABSTAIN: 1}, "b": {SPOILED: 1, "较好": 1}},
        },
        {"a": 2, "b": 2},
    )


def test_many_alike_ballots_counted_by_column() -> None:
    # Every mark a reporter can get, in one bucket of more than four ballots.
    column = ["好", "好", "较好", "一般", "差", ABSTAIN, SPOILED, SPOILED]
    ballots = [Ballot(f"{i}", "b", {"r1": m, "r2": "好"}) for i, m in enumerate(column)]
    tallies, groups = count_marks(MEETING, ballots)
    assert tallies["r1"] == {
        "a": Counter(),
        "b": Counter({"好": 2, "较好": 1, "一般": 1, "差": 1, ABSTAIN: 1, SPOILED: 2}),
    }
    assert tallies["r2"]["b"] == Counter({"好": 8}) and groups == {"a": 0, "b": 8}


def test_no_ballots_and_empty_ballots() -> None:
    assert plain(count_marks(MEETING, [])) == (
        {"r1": {"a": {}, "b": {}}, "r2": {"a": {}, "b": {}}},
        {"a": 0, "b": 0},
    )
    # A ballot that lists nobody still counts as handed in for its group.
    assert count_marks(MEETING, [Ballot("1", "b", {})])[1] == {"a": 0, "b": 1}


def test_custom_grades_are_the_allowed_marks() -> None:
    meeting = Meeting(
        "t", "2026-12-28", REPORTERS[:1], GROUPS, Rules(grades=("优秀", "合格", "不合格"))
    )
    tallies, _ = count_marks(
        meeting, [Ballot("1", "a", {"r1": "优秀"}), Ballot("2", "a", {"r1": "不合格"})]
    )
    assert tallies["r1"]["a"] == Counter({"优秀": 1, "不合格": 1})
    with pytest.raises(InputError) as caught:
        count_marks(meeting, [Ballot("1", "a", {"r1": "好"})])
    assert (caught.value.where, caught.value.message) == (
        "选票1 r1",
        "无效的标记“好”；应为：优秀、合格、不合格、空白（弃权）或“废”",
    )


def alike(n: int, group: str = "a") -> list[Ballot]:
    return [Ballot(f"ok{i}", group, {"r1": "好", "r2": "好"}) for i in range(n)]


BAD = [
    # (ballots, where, message); the bad ballot follows 0 or 8 good ones (see the test)
    ([Ballot("b9", "c", {"r1": "好"})], "选票b9", "分组“c”不存在；应为：a、b"),
    ([Ballot("b9", "", {})], "选票b9", "分组“”不存在；应为：a、b"),
    ([Ballot("b9", "a", {}), Ballot("b9", "b", {})], "选票b9", "选票编号重复"),
    (
        [Ballot("b8", "a", {"r1": "好"}), Ballot("b9", "a", {"r1": "好", "zz": "好"})],
        "选票b9",
        "述职人“zz”不在本次会议中",
    ),
    (
        [Ballot("b9", "a", {"zz": "好", "r1": "好"}), Ballot("c1", "a", {"zz": "差"})],
        "选票b9",
        "述职人“zz”不在本次会议中",
    ),
    ([Ballot("b9", "a", {"r1": "优"})], "选票b9 r1", f"无效的标记“优”；应为：{EXPECTED}"),
    (
        [Ballot("b8", "b", {"r1": "好"}), Ballot("b9", "b", {"r1": "-"})],
        "选票b9 r1",
        f"无效的标记“-”；应为：{EXPECTED}",
    ),
    (
        [Ballot("b8", "b", {}), Ballot("b9", "b", {"r2": "x"}), Ballot("c1", "b", {"r2": "y"})],
        "选票b9 r2",
        f"无效的标记“x”；应为：{EXPECTED}",
    ),
]


@pytest.mark.parametrize(
    ("bad", "where", "message"), BAD, ids=[f"case{i}" for i in range(len(BAD))]
)
@pytest.mark.parametrize("before", [0, 8])
def test_bad_ballots_are_refused_by_name(
    bad: list[Ballot], where: str, message: str, before: int
) -> None:
    with pytest.raises(InputError) as caught:
        count_marks(MEETING, [*alike(before), *bad])
    assert (caught.value.where, caught.value.message) == (where, message)


def test_a_bad_mark_among_many_alike_ballots_is_found() -> None:
    # The bad mark is counted in one column with eight good ones before it is noticed.
    good = [Ballot(f"g{i}", "b", {"r1": "好", "r2": "好"}) for i in range(8)]
    others = [Ballot(f"h{i}", "a", {"r2": "差", "r1": "好"}) for i in range(6)]
    ballots = [*good[:4], Ballot("b9", "b", {"r1": "好", "r2": "優"}), *good[4:], *others]
    with pytest.raises(InputError) as caught:
        count_marks(MEETING, ballots)
    assert (caught.value.where, caught.value.message) == (
        "选票b9 r2",
        f"无效的标记“優”；应为：{EXPECTED}",
    )


MARK = st.sampled_from(["好", "较好", "一般", "差", ABSTAIN, SPOILED, None])


@settings(deadline=None, max_examples=60)
@given(st.lists(st.tuples(st.sampled_from("ab"), MARK, MARK, st.booleans()), max_size=30))
def test_counts_agree_with_a_plain_count(rows: list[tuple]) -> None:
    ballots = []
    for i, (group, m1, m2, swap) in enumerate(rows):
        marks = [(rid, m) for rid, m in (("r1", m1), ("r2", m2)) if m is not None]
        ballots.append(Ballot(f"{i}", group, dict(reversed(marks) if swap else marks)))
    tallies, groups = count_marks(MEETING, ballots)
    for rid in ("r1", "r2"):
        for gid in ("a", "b"):
            marks = [b.marks[rid] for b in ballots if b.group == gid and rid in b.marks]
            assert +tallies[rid][gid] == Counter(marks)
    assert groups == {gid: sum(b.group == gid for b in ballots) for gid in ("a", "b")}
