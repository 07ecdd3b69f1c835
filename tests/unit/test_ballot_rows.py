"""The ballot CSV read row by row, for entering a file of paper ballots into one round: each
ballot with its line and card, the round's reporters and the card column required."""

from __future__ import annotations

import pytest

from tally.ballot_csv import BallotRow, parse_ballot_rows
from tally.errors import InputError
from tally.meeting_file import parse_meeting_text
from tally.model import ABSTAIN, SPOILED, Ballot

MEETING = parse_meeting_text(
    """
[meeting]
title = "纸质选票录入"
date = "2026-12-28"

[[reporters]]
id = "r1"
name = "张三"
org = "城关镇党委"

[[reporters]]
id = "r2"
name = "李四"
org = "青溪镇党委"

[[reporters]]
id = "r3"
name = "王五"
org = "木鱼镇党委"

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
)


def test_rows_carry_their_line_and_card_code() -> None:
    text = (
        "\ufeffballot,group,card,r1,r2,r3\r\n"
        "1,a,abcd efgh,好,,废\r\n"
        "\r\n"
        ',,,,,\r\n2,基层代表,WXYZ-2345,"差",一般,-\r\n'
        "3,b,,较好,-,-\r\n"
    )
    assert parse_ballot_rows(text, MEETING) == [
        BallotRow(2, "ABCD-EFGH", Ballot("1", "a", {"r1": "好", "r2": ABSTAIN, "r3": SPOILED})),
        BallotRow(5, "WXYZ-2345", Ballot("2", "b", {"r1": "差", "r2": "一般"})),
        BallotRow(6, "", Ballot("3", "b", {"r1": "较好"})),
    ]


def test_without_a_card_column_the_rows_have_no_card() -> None:
    rows = parse_ballot_rows("ballot,group,r1,r2,r3\n1,a,好,-,好\n", MEETING)
    assert rows == [BallotRow(2, "", Ballot("1", "a", {"r1": "好", "r3": "好"}))]


def test_a_round_s_reporters_and_the_cards_are_checked() -> None:
    text = "ballot,group,r3,card,r1,r2\n1,a,-,ABCD-EFGH,好,\n2,b,-,WXYZ-2345,,废\n"
    rows = parse_ballot_rows(text, MEETING, "paper.csv", reporters=("r1", "r2"), need_card=True)
    assert [(row.line, row.card) for row in rows] == [(2, "ABCD-EFGH"), (3, "WXYZ-2345")]
    assert rows[1].ballot.marks == {"r1": ABSTAIN, "r2": SPOILED}
    assert parse_ballot_rows("ballot,group,card,r1,r2,r3\n", MEETING, need_card=True) == []


def test_errors_name_the_file_as_ballots_csv_unless_told() -> None:
    with pytest.raises(InputError) as caught:
        parse_ballot_rows("ballot,group,r1,r2,r3\n1,a,好,好,好\n", MEETING, need_card=True)
    assert caught.value.where.startswith("ballots.csv:1:")


BAD = [
    # (text, where after "paper.csv:", the message)
    (
        "ballot,group,r1,r2,r3\n1,a,好,好,-\n",
        "1:6",
        "缺少“card”列：每张纸质选票须填写所用参会卡的短码（如 ABCD-EFGH）",
    ),
    ("ballot,group,r1,card,r2,r3\n1,a,好,ABCD-EFGH,好,-\n2,a,好, ,好,-\n", "3:4", "参会卡短码为空"),
    (
        "ballot,group,card,r1,r2,r3\n1,a,ABCD-EFGH,好,-,-\n",
        "2:5",
        "述职人“r2”在本轮测评中，不能填“-”（弃权请留空）",
    ),
    (
        "ballot,group,card,r1,r2,r3\n1,a,ABCD-EFGH,好,,\n",
        "2:6",
        "述职人“r3”不在本轮测评中，应填“-”",
    ),
    # The parser's own errors come first, with their place.
    ("ballot,group,card,r1,r2,r3\n1,a,ABCD-EFGH,优,,-\n", "2:4", "无效的标记“优”"),
    (
        "ballot,group,card,r1,r2,r3\n1,a,ABCD-EFGH,好,,-\n2,a,abcd-efgh,好,,-\n",
        "3:3",
        "参会卡“ABCD-EFGH”已在第2行投过票",
    ),
]


@pytest.mark.parametrize(("text", "where", "message"), BAD)
def test_a_bad_row_is_refused_with_its_place(text: str, where: str, message: str) -> None:
    with pytest.raises(InputError) as refused:
        parse_ballot_rows(text, MEETING, "paper.csv", reporters=["r1", "r2"], need_card=True)
    assert refused.value.where == f"paper.csv:{where}"
    assert refused.value.message.startswith(message)
