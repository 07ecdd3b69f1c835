"""The ballot CSV: what it accepts, where it points when it refuses, and the round trip."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tally.ballot_csv import format_ballots_csv, parse_ballots_csv
from tally.errors import InputError
from tally.meeting_file import parse_meeting_text
from tally.model import ABSTAIN, SPOILED, Ballot

HEAD = """
[meeting]
title = "述职评议大会"
date = "2026-12-28"
{seats}
[[reporters]]
id = "r1"
name = "张三"
org = "城关镇党委"

[[reporters]]
id = "r2"
name = "李四"
org = "青溪镇党委"
"""
GROUPS = """
[[groups]]
id = "a"
name = "县级领导"
seats = 10
weight = 0.5

[[groups]]
id = "b"
name = "基层代表"
seats = 20
weight = 0.5
"""
PLAIN = parse_meeting_text(HEAD.format(seats="seats = 30"))
GROUPED = parse_meeting_text(HEAD.format(seats="") + GROUPS)


def test_plain_meeting_without_group_column_and_with_bom() -> None:
    text = "\ufeffballot,r2,r1\r\n001,较好,好\r\n002,,废\r\n\r\n003,差,-\r\n,,\r\n"
    assert parse_ballots_csv(text, PLAIN) == [
        Ballot("001", "all", {"r2": "较好", "r1": "好"}),
        Ballot("002", "all", {"r2": ABSTAIN, "r1": SPOILED}),
        Ballot("003", "all", {"r2": "差"}),
    ]


def test_grouped_meeting_with_spaces_and_quotes() -> None:
    text = 'ballot,group,r1,r2\n 1 , a ,好," 一般 "\n2,b,差,\n'
    assert parse_ballots_csv(text, GROUPED) == [
        Ballot("1", "a", {"r1": "好", "r2": "一般"}),
        Ballot("2", "b", {"r1": "差", "r2": ABSTAIN}),
    ]


def test_an_empty_ballot_file_has_no_ballots() -> None:
    assert parse_ballots_csv("ballot,group,r1,r2\n", GROUPED) == []


BAD = [
    ("", PLAIN, "1:1", "实际为空文件"),
    ("id,r1,r2\n", PLAIN, "1:1", "第一列应为“ballot”"),
    ("ballot,r1,r2\n", GROUPED, "1:2", "第二列应为“group”（分组：a、b）"),
    ("ballot,group,r1,r2,r3\n", GROUPED, "1:5", "未知的列“r3”；允许的列：ballot, group, r1, r2"),
    ("ballot,group,r1,r1\n", GROUPED, "1:4", "列“r1”重复"),
    ("ballot,group,r1\n", GROUPED, "1:4", "缺少述职人列：r2"),
    ("ballot,group,r1,r2\n1,a,好\n", GROUPED, "2:4", "应有4列，实际为3列"),
    ("ballot,group,r1,r2\n1,a,好,好,好\n", GROUPED, "2:5", "应有4列，实际为5列"),
    ("ballot,group,r1,r2\n,a,好,好\n", GROUPED, "2:1", "选票编号为空"),
    ("ballot,group,r1,r2\n1,a,好,好\n1,b,好,好\n", GROUPED, "3:1", "选票编号“1”重复"),
    ("ballot,group,r1,r2\n1,c,好,好\n", GROUPED, "2:2", "分组“c”不存在；应为：a、b"),
    ("ballot,group,r1,r2\n1,,好,好\n", GROUPED, "2:2", "分组“”不存在"),
    (
        "ballot,r1,r2\n1,好,优\n",
        PLAIN,
        "2:3",
        "无效的标记“优”（r2列）；应为：好、较好、一般、差、空白",
    ),
    ("ballot,r1,r2\n1,好,x\n2,好,好\n", PLAIN, "2:3", "-（不在本张选票上）"),
    ('ballot,r1,r2\n1,"好,好\n', PLAIN, "2", "CSV格式错误"),
]


@pytest.mark.parametrize(("text", "meeting", "where", "words"), BAD, ids=[b[3] for b in BAD])
def test_bad_files_point_at_line_and_column(text: str, meeting, where: str, words: str) -> None:  # noqa: ANN001
    with pytest.raises(InputError) as caught:
        parse_ballots_csv(text, meeting, "paper.csv")
    assert caught.value.where == f"paper.csv:{where}"
    assert words in caught.value.message


def test_format_writes_meeting_order_sorted_by_ballot() -> None:
    ballots = [Ballot("2", "b", {"r2": "好"}), Ballot("1", "a", {"r1": ABSTAIN, "r2": SPOILED})]
    text = format_ballots_csv(GROUPED, ballots)
    assert text == "ballot,group,r1,r2\n1,a,,废\n2,b,-,好\n"


@pytest.mark.parametrize(
    "ballot",
    [
        Ballot("", "a", {}),
        Ballot(" 1", "a", {}),
        Ballot("1", "z", {}),
        Ballot("1", "a", {"r1": "优"}),
    ],
)
def test_format_refuses_what_would_not_read_back(ballot: Ballot) -> None:
    with pytest.raises(InputError):
        format_ballots_csv(GROUPED, [ballot])


MARK = st.sampled_from(["好", "较好", "一般", "差", ABSTAIN, SPOILED, None])
BALLOT_ID = st.text(
    st.characters(blacklist_categories=("Cs", "Cc", "Zs", "Zl", "Zp")), min_size=1, max_size=8
)


@settings(deadline=None)
@given(st.dictionaries(BALLOT_ID, st.tuples(st.sampled_from("ab"), MARK, MARK), max_size=20))
def test_format_then_parse_round_trips(rows: dict) -> None:
    ballots = [
        Ballot(ballot_id, group, {rid: m for rid, m in (("r1", m1), ("r2", m2)) if m is not None})
        for ballot_id, (group, m1, m2) in rows.items()
    ]
    text = format_ballots_csv(GROUPED, ballots)
    assert parse_ballots_csv(text, GROUPED) == sorted(ballots, key=lambda b: b.id)
    assert format_ballots_csv(GROUPED, parse_ballots_csv(text, GROUPED)) == text
