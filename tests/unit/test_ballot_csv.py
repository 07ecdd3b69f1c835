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


ONE_GROUP = parse_meeting_text(
    HEAD.format(seats="") + '[[groups]]\nid = "g1"\nname = "全体"\nseats = 30\n'
)
EXPECTED = "好、较好、一般、差、空白（弃权）、废（废票）或-（不在本张选票上）"

BAD = [
    # (text, meeting, where after "paper.csv:", the whole message)
    ("", PLAIN, "1:1", "表头第一列应为“ballot”（选票编号），实际为空文件"),
    ("\n", PLAIN, "1:1", "表头第一列应为“ballot”（选票编号），实际为空文件"),
    ("id,r1,r2\n", PLAIN, "1:1", "表头第一列应为“ballot”（选票编号），实际为“id”"),
    ("ballot,r1,r2\n", GROUPED, "1:2", "表头第二列应为“group”（分组：a、b）"),
    ("ballot\n", GROUPED, "1:2", "表头第二列应为“group”（分组：a、b）"),
    ("ballot,r1,r2\n", ONE_GROUP, "1:2", "表头第二列应为“group”（分组：g1）"),
    ("ballot\n", PLAIN, "1:2", "缺少述职人列：r1、r2"),
    ("ballot,group\n", PLAIN, "1:3", "缺少述职人列：r1、r2"),
    ("ballot,group,r1,r2,r3\n", GROUPED, "1:5", "未知的列“r3”；允许的列：ballot, group, card, via, r1, r2"),
    ("ballot,r1,group,r2\n", GROUPED, "1:2", "表头第二列应为“group”（分组：a、b）"),
    ("ballot,r1,group\n", PLAIN, "1:3", "未知的列“group”；允许的列：ballot, group, card, via, r1, r2"),
    ("ballot,group,r1,r1\n", GROUPED, "1:4", "列“r1”重复"),
    ("ballot,group,r2,r1,r2\n", GROUPED, "1:5", "列“r2”重复"),
    ("ballot,group,r1\n", GROUPED, "1:4", "缺少述职人列：r2"),
    ("ballot,group,r1,r2\n1,a,好\n", GROUPED, "2:4", "应有4列，实际为3列"),
    ("ballot,group,r1,r2\n1\n", GROUPED, "2:2", "应有4列，实际为1列"),
    ("ballot,group,r1,r2\n1,a,好,好,好\n", GROUPED, "2:5", "应有4列，实际为5列"),
    ("ballot,group,r1,r2\n,a,好,好\n", GROUPED, "2:1", "选票编号为空"),
    ("ballot,group,r1,r2\n1,a,好,好\n1,b,好,好\n", GROUPED, "3:1", "选票编号“1”重复"),
    ("ballot,group,r1,r2\n1,a,好,好\n\n 1 ,b,好,好\n", GROUPED, "4:1", "选票编号“1”重复"),
    ("ballot,group,r1,r2\n1,c,好,好\n", GROUPED, "2:2", "分组“c”不存在；应为：a（县级领导）、b（基层代表）"),
    ("ballot,group,r1,r2\n1,,好,好\n", GROUPED, "2:2", "分组“”不存在；应为：a（县级领导）、b（基层代表）"),
    ("ballot,group,r1,r2\n1,all,好,好\n", ONE_GROUP, "2:2", "分组“all”不存在；应为：g1（全体）"),
    ("ballot,r1,r2\n1,好,优\n", PLAIN, "2:3", f"无效的标记“优”（r2列）；应为：{EXPECTED}"),
    ("ballot,r2,r1\n1,好,x\n2,好,好\n", PLAIN, "2:3", f"无效的标记“x”（r1列）；应为：{EXPECTED}"),
    ("ballot,group,r1,r2\n1,a,--,好\n", GROUPED, "2:3", f"无效的标记“--”（r1列）；应为：{EXPECTED}"),
    ('ballot,r1,r2\n1,"好,好\n', PLAIN, "2", "CSV格式错误：unexpected end of data"),
    ('ballot,r1,r2\n1,好,"好"x\n', PLAIN, "2", "CSV格式错误：',' expected after '\"'"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "meeting", "where", "message"), BAD, ids=[f"case{i:02d}" for i in range(len(BAD))]
)
def test_bad_files_point_at_line_and_column(text: str, meeting, where: str, message: str) -> None:  # noqa: ANN001
    with pytest.raises(InputError) as caught:
        parse_ballots_csv(text, meeting, "paper.csv")
    assert (caught.value.where, caught.value.message) == (f"paper.csv:{where}", message)


def test_a_group_may_be_given_by_its_name_as_ticked_on_the_paper() -> None:
    text = "ballot,group,r1,r2\n1,县级领导,好,好\n2,b,差,\n"
    assert [b.group for b in parse_ballots_csv(text, GROUPED)] == ["a", "b"]


def test_a_group_name_two_groups_share_must_be_given_by_id() -> None:
    twins = parse_meeting_text(HEAD.format(seats="") + GROUPS.replace("基层代表", "县级领导"))
    assert [b.group for b in parse_ballots_csv("ballot,group,r1,r2\n1,b,好,好\n", twins)] == ["b"]
    with pytest.raises(InputError) as caught:
        parse_ballots_csv("ballot,group,r1,r2\n1,县级领导,好,好\n", twins, "p.csv")
    assert (caught.value.where, caught.value.message) == (
        "p.csv:2:2",
        "分组名称“县级领导”不唯一，请填分组编号：a、b",
    )


def test_the_card_column_is_optional_anywhere_and_not_a_mark() -> None:
    text = "ballot,r1,card,group,r2\n1,好,abcd efgh,a,好\n2,差,,a,\n3,差,,b,一般\n"
    with pytest.raises(InputError):  # group must still be the second column
        parse_ballots_csv(text, GROUPED)
    text = "ballot,group,r1,card,r2\n1,a,好,abcd efgh,好\n2,a,差,,\n3,b,差,,一般\n"
    assert parse_ballots_csv(text, GROUPED) == [
        Ballot("1", "a", {"r1": "好", "r2": "好"}),
        Ballot("2", "a", {"r1": "差", "r2": ABSTAIN}),
        Ballot("3", "b", {"r1": "差", "r2": "一般"}),
    ]


def test_a_card_on_two_ballots_is_refused_with_both_lines() -> None:
    text = "ballot,group,card,r1,r2\n1,a,ABCD-EFGH,好,好\n2,a,WXYZ-2345,好,好\n3,b,abcdefgh,差,\n"
    with pytest.raises(InputError) as caught:
        parse_ballots_csv(text, GROUPED, "p.csv")
    assert (caught.value.where, caught.value.message) == (
        "p.csv:4:3",
        "参会卡“ABCD-EFGH”已在第2行投过票；一张卡只能投一张选票",
    )


def test_card_codes_are_compared_as_printed() -> None:
    from tally.ballot_csv import card_code

    assert card_code(" ab cd-efgh ") == card_code("ABCDEFGH") == "ABCD-EFGH"
    assert card_code("abc-defgh") == "ABCD-EFGH"  # a dash in the wrong place
    assert card_code("abc") == "ABC"  # not a card's length: kept as typed, upper case


def test_the_default_source_name() -> None:
    with pytest.raises(InputError) as caught:
        parse_ballots_csv("id\n", PLAIN)
    assert caught.value.where == "ballots.csv:1:1"


def test_a_plain_meeting_may_still_have_a_group_column() -> None:
    text = " ballot , group , r1 , r2 \n7,all,好,-\n"
    assert parse_ballots_csv(text, PLAIN) == [Ballot("7", "all", {"r1": "好"})]


def test_line_endings_of_any_kind() -> None:
    expected = [Ballot("1", "all", {"r1": "好", "r2": "差"}), Ballot("2", "all", {"r1": "较好"})]
    for end in ("\n", "\r\n", "\r"):  # the last is what old Mac spreadsheets write
        text = end.join(["ballot,r1,r2", "1,好,差", "2,较好,-", ""])
        assert parse_ballots_csv(text, PLAIN) == expected


def test_a_one_group_meeting_with_its_own_group_id() -> None:
    text = "ballot,group,r1,r2\n1,g1,差,好\n"
    assert parse_ballots_csv(text, ONE_GROUP) == [Ballot("1", "g1", {"r1": "差", "r2": "好"})]


def test_cells_with_only_spaces_are_blank_and_rows_of_them_are_skipped() -> None:
    text = "ballot,group,r1,r2\n  ,  ,  ,  \n1,b,  , - \n"
    assert parse_ballots_csv(text, GROUPED) == [Ballot("1", "b", {"r1": ABSTAIN})]


def test_format_writes_meeting_order_sorted_by_ballot() -> None:
    ballots = [Ballot("2", "b", {"r2": "好"}), Ballot("1", "a", {"r1": ABSTAIN, "r2": SPOILED})]
    text = format_ballots_csv(GROUPED, ballots)
    assert text == "ballot,group,r1,r2\n1,a,,废\n2,b,-,好\n"


@pytest.mark.parametrize(
    ("ballot", "where", "message"),
    [
        (Ballot("", "a", {}), "选票''", "选票编号为空、首尾有空白或分组不存在"),
        (Ballot(" 1", "a", {}), "选票' 1'", "选票编号为空、首尾有空白或分组不存在"),
        (Ballot("1\t", "a", {}), "选票'1\\t'", "选票编号为空、首尾有空白或分组不存在"),
        (Ballot("1", "z", {}), "选票'1'", "选票编号为空、首尾有空白或分组不存在"),
        (Ballot("1", "a", {"r1": "优"}), "选票1", "述职人“r1”不在会议中或标记无效"),
        (Ballot("1", "a", {"r1": "好", "r2": "-"}), "选票1", "述职人“r2”不在会议中或标记无效"),
        (Ballot("1", "a", {"r9": "好", "r1": "x"}), "选票1", "述职人“r9”不在会议中或标记无效"),
    ],
)
def test_format_refuses_what_would_not_read_back(ballot: Ballot, where: str, message: str) -> None:
    with pytest.raises(InputError) as caught:
        format_ballots_csv(GROUPED, [Ballot("0", "a", {"r1": "好"}), ballot])
    assert (caught.value.where, caught.value.message) == (where, message)


def test_format_of_no_ballots_is_the_header() -> None:
    assert format_ballots_csv(GROUPED, []) == "ballot,group,r1,r2\n"


def test_ids_with_commas_quotes_and_line_breaks_round_trip() -> None:
    ballots = [Ballot('a,"b"', "a", {"r1": "好"}), Ballot("c\r\nd", "b", {"r2": SPOILED})]
    text = format_ballots_csv(GROUPED, ballots)
    assert text == 'ballot,group,r1,r2\n"a,""b""",a,好,-\n"c\r\nd",b,-,废\n'
    assert parse_ballots_csv(text, GROUPED) == ballots


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


# -- the via column: how each ballot came ----------------------------------------------------


def test_an_export_without_paper_ballots_has_no_via_column_and_is_as_before() -> None:
    ballots = [Ballot("1", "a", {"r1": "好", "r2": SPOILED}), Ballot("2", "b", {"r2": "好"})]
    assert format_ballots_csv(GROUPED, ballots) == "ballot,group,r1,r2\n1,a,好,废\n2,b,-,好\n"


def test_an_export_with_a_paper_ballot_says_how_every_ballot_came() -> None:
    ballots = [Ballot("2", "b", {"r2": "好"}, paper=True), Ballot("1", "a", {"r1": "好"})]
    text = format_ballots_csv(GROUPED, ballots)
    assert text == "ballot,group,via,r1,r2\n1,a,手机,好,-\n2,b,纸质,-,好\n"
    assert parse_ballots_csv(text, GROUPED) == sorted(ballots, key=lambda b: b.id)
    assert format_ballots_csv(GROUPED, parse_ballots_csv(text, GROUPED)) == text


def test_a_file_without_the_via_column_is_read_as_not_paper() -> None:
    # An export of phone ballots, or paper ballots typed without the column: the engine
    # reports how they came as unknown (see the module's docstring).
    (ballot,) = parse_ballots_csv("ballot,group,r1,r2\n1,a,好,好\n", GROUPED)
    assert ballot.paper is False


@pytest.mark.parametrize(
    ("cell", "paper"),
    [
        ("纸质", True),
        ("手机", False),
        ("paper", True),
        ("phone", False),
        (" Paper ", True),
        ("PHONE", False),
    ],
)
def test_the_via_column_may_be_anywhere_in_chinese_or_english(cell: str, paper: bool) -> None:
    text = f"ballot,r2,via,r1\n1,好,{cell},差\n"
    assert parse_ballots_csv(text, PLAIN) == [Ballot("1", "all", {"r2": "好", "r1": "差"}, paper)]


def test_a_typed_file_with_via_and_card_columns() -> None:
    text = "ballot,group,card,r1,r2,via\n7,县级领导,abcd efgh,好,,纸质\n"
    assert parse_ballots_csv(text, GROUPED) == [Ballot("7", "a", {"r1": "好", "r2": ""}, True)]


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        ("ballot,group,via,r1,r2\n1,a,,好,好\n", "2:3", "无效的投票方式“”（via列）；应为：纸质或手机（也可写 paper 或 phone）"),
        ("ballot,group,r1,r2,via\n1,a,好,好,纸\n", "2:5", "无效的投票方式“纸”（via列）；应为：纸质或手机（也可写 paper 或 phone）"),
        ("ballot,group,via,r1,via,r2\n", "1:5", "列“via”重复"),
    ],
)  # fmt: skip
def test_a_bad_via_cell_points_at_its_line_and_column(text: str, where: str, message: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_ballots_csv(text, GROUPED, "paper.csv")
    assert (caught.value.where, caught.value.message) == (f"paper.csv:{where}", message)


VIA_REPORTER = parse_meeting_text(
    HEAD.format(seats="seats = 30") + '[[reporters]]\nid = "via"\nname = "王五"\norg = "某镇"\n'
)


def test_a_reporter_whose_id_is_via_keeps_the_column_as_marks() -> None:
    text = "ballot,r1,r2,via\n1,好,好,差\n"
    assert parse_ballots_csv(text, VIA_REPORTER) == [
        Ballot("1", "all", {"r1": "好", "r2": "好", "via": "差"})
    ]
    assert format_ballots_csv(VIA_REPORTER, [Ballot("1", "all", {"via": "好"})]).startswith(
        "ballot,group,r1,r2,via\n"
    )
    with pytest.raises(InputError) as caught:
        format_ballots_csv(VIA_REPORTER, [Ballot("1", "all", {"via": "好"}, paper=True)])
    assert caught.value.where == "via" and "同名" in caught.value.message


@settings(deadline=None)
@given(
    st.dictionaries(
        BALLOT_ID, st.tuples(st.sampled_from("ab"), MARK, MARK, st.booleans()), max_size=20
    )
)
def test_format_then_parse_round_trips_with_paper_ballots(rows: dict) -> None:
    ballots = [
        Ballot(
            ballot_id,
            group,
            {rid: m for rid, m in (("r1", m1), ("r2", m2)) if m is not None},
            paper,
        )
        for ballot_id, (group, m1, m2, paper) in rows.items()
    ]
    text = format_ballots_csv(GROUPED, ballots)
    assert text.startswith("ballot,group,via,") == any(b.paper for b in ballots)
    assert parse_ballots_csv(text, GROUPED) == sorted(ballots, key=lambda b: b.id)
    assert format_ballots_csv(GROUPED, parse_ballots_csv(text, GROUPED)) == text
