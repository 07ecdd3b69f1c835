"""The item ballot CSV, 专家评分.csv and 项目指标.csv (`tally.item_csv`): what they read, and
every mistake named by file, line and column."""

from __future__ import annotations

from fractions import Fraction as F

import pytest

from tally.errors import InputError
from tally.item_csv import (
    format_score_table,
    grade_columns,
    item_columns,
    parse_experts_csv,
    parse_indicators_csv,
    parse_item_ballots_csv,
)
from tally.meeting_file import parse_meeting
from tests.unit.test_forms_file import base

HEADER = "ballot,group,z1,c1,c2,c1.a1,c1.a2,c2.a1,c2.a2"


def meeting():  # noqa: ANN201
    return parse_meeting(base(), "m.toml")


def test_the_columns_follow_the_forms() -> None:
    m = meeting()
    # z1 is graded by both groups; c1 and c2 by the town's "both" form; items on c1 and c2
    assert grade_columns(m) == ["z1", "c1", "c2"]
    assert item_columns(m) == [("c1", "a1"), ("c1", "a2"), ("c2", "a1"), ("c2", "a2")]


def test_rows_become_grade_marks_and_item_answers() -> None:
    text = (
        "\ufeffballot,group,via,z1,c1,c2,c1.a1,c1.a2,c2.a1,c2.a2\n"
        "1,town,纸质,好,较好,,能,不能,,废\n"
        "2,农村,手机,一般,,-,能,,-,-\n"
        ",,,,,,,,,\n"
    )
    first, second = parse_item_ballots_csv(text, meeting(), "b.csv")
    assert (first.group, first.paper, first.marks) == (
        "town",
        True,
        {"z1": "好", "c1": "较好", "c2": ""},
    )
    assert first.items == {"c1": {"a1": "能", "a2": "不能"}, "c2": {"a1": "", "a2": "废"}}
    # rural does not grade the 村书记: their blank cells are not marks; c2's items all "-"
    assert (second.group, second.paper, second.marks) == ("rural", False, {"z1": "一般"})
    assert second.items == {"c1": {"a1": "能", "a2": ""}}


# fmt: off
BAD = [
    ("group,ballot\n", "b.csv:1:1", "表头第一列应为“ballot”"),
    ("ballot,z1\n", "b.csv:1:2", "表头第二列应为“group”"),
    (HEADER + ",c9\n", "b.csv:1:10", "未知的列“c9”"),
    (HEADER + ",c1.a9\n", "b.csv:1:10", "未知的列“c1.a9”"),
    (HEADER + ",c1\n", "b.csv:1:10", "列“c1”重复"),
    ("ballot,group,z1,c1,c2,c1.a1,c1.a2,c2.a1\n", "b.csv:1:9", "缺少1列：c2.a2"),
    (HEADER + "\n1,town,好,好,好,能,能,能\n", "b.csv:2:9", "应有9列，实际为8列"),
    (HEADER + "\n,town,好,好,好,能,能,能,能\n", "b.csv:2:1", "选票编号为空"),
    (HEADER + "\n1,town,好,好,好,能,能,能,能\n1,town,好,好,好,能,能,能,能\n", "b.csv:3:1", "选票编号“1”重复"),
    (HEADER + "\n1,镇政府,好,好,好,能,能,能,能\n", "b.csv:2:2", "分组“镇政府”不存在"),
    (HEADER + "\n1,town,优,好,好,能,能,能,能\n", "b.csv:2:3", "无效的标记“优”（z1列）"),
    (HEADER + "\n1,town,好,好,好,可以,能,能,能\n", "b.csv:2:6", "无效的回答“可以”（c1.a1列）；应为：能、不能、空白（弃权）或废（废票）"),
    (HEADER + "\n1,town,好,好,好,-,能,能,能\n", "b.csv:2:6", "要么都填“-”"),
    (HEADER + "\n1,rural,好,较好,,能,能,能,能\n", "b.csv:2:4", "“农村”对述职人c1不作等次测评（用表“村书记表”），此格应留空，实际为“较好”"),
]
# fmt: on


@pytest.mark.parametrize(("text", "where", "message"), BAD)
def test_every_mistake_names_line_and_column(text: str, where: str, message: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_item_ballots_csv(text, meeting(), "b.csv")
    assert caught.value.where == where, caught.value
    assert message in caught.value.message, caught.value


def test_items_where_the_group_answers_none_are_refused() -> None:
    data = base()
    data["groups"][1]["forms"] = {}
    del data["groups"][1]["forms"]  # rural: grades everyone, answers no items
    data["groups"][1]["weights"] = {"村党支部书记": 0.6}
    m = parse_meeting(data, "m.toml")
    text = HEADER + "\n1,rural,好,好,好,能,,,\n"
    with pytest.raises(InputError) as caught:
        parse_item_ballots_csv(text, m, "b.csv")
    assert caught.value.where == "b.csv:2:6"
    assert "“农村”对述职人c1不作逐项测评（用表“等次测评”），c1.a1应留空" in caught.value.message


def test_a_card_twice_is_refused() -> None:
    text = (
        "ballot,group,card," + HEADER[13:] + "\n1,town,ABCD-EFGH,,,,,,,\n2,town,abcdefgh,,,,,,,\n"
    )
    with pytest.raises(InputError) as caught:
        parse_item_ballots_csv(text, meeting(), "b.csv")
    assert caught.value.where == "b.csv:3:3" and "已在第2行投过票" in caught.value.message


def test_expert_scores() -> None:
    text = "reporter,e1,e2,e3\nc1,80,90.5,\nz1,100,0,75\n"
    assert parse_experts_csv(text, meeting(), "x.csv") == {
        "c1": {"e1": F(80), "e2": F(181, 2), "e3": None},
        "z1": {"e1": F(100), "e2": F(0), "e3": F(75)},
    }


# fmt: off
BAD_EXPERTS = [
    ("name,e1\n", "x.csv:1:1", "表头第一列应为“reporter”"),
    ("reporter\n", "x.csv:1:2", "表头缺少专家列"),
    ("reporter,e1,e1\n", "x.csv:1:3", "专家列“e1”重复"),
    ("reporter,e 1\n", "x.csv:1:2", "专家编号“e 1”无效"),
    ("reporter,e1\nc9,80\n", "x.csv:2:1", "述职人“c9”不在本次会议中"),
    ("reporter,e1\nc1,80\nc1,90\n", "x.csv:3:1", "述职人“c1”已在第2行出现"),
    ("reporter,e1,e2\nc1,80,优\n", "x.csv:2:3", "“优”不是数（e2列）"),
    ("reporter,e1,e2\nc1,80,120\n", "x.csv:2:3", "评分120超出范围；应在0到100之间（e2列）"),
    ("reporter,e1,e2\nc1,-1,80\n", "x.csv:2:2", "超出范围"),
    ("reporter,e1,e2\nc1,80\n", "x.csv:2:3", "应有3列，实际为2列"),
]
# fmt: on


@pytest.mark.parametrize(("text", "where", "message"), BAD_EXPERTS)
def test_every_mistake_in_the_expert_scores_is_named(text: str, where: str, message: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_experts_csv(text, meeting(), "x.csv")
    assert caught.value.where == where, caught.value
    assert message in caught.value.message, caught.value


def test_indicator_values() -> None:
    text = "reporter,income\nc1,12.5\nc2,\n"
    assert parse_indicators_csv(text, meeting(), "i.csv") == {
        "c1": {"income": F(25, 2)},
        "c2": {"income": None},
    }


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        (
            "reporter,income,jobs\n",
            "i.csv:1:3",
            "指标“jobs”不在会议文件的[[indicators]]中；应为：income",
        ),
        ("reporter,e1\n", "i.csv:1:2", "指标“e1”不在"),
        ("reporter,income\nc1,十万\n", "i.csv:2:2", "“十万”不是数（income列）"),
    ],
)
def test_every_mistake_in_the_indicators_is_named(text: str, where: str, message: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_indicators_csv(text, meeting(), "i.csv")
    assert caught.value.where == where, caught.value
    assert message in caught.value.message, caught.value


def test_every_indicator_needs_its_column() -> None:
    data = base()
    data["indicators"].append({"id": "jobs", "name": "就业", "target": 5})
    with pytest.raises(InputError) as caught:
        parse_indicators_csv("reporter,income\n", parse_meeting(data, "m.toml"), "i.csv")
    assert caught.value.where == "i.csv:1:3" and "缺少指标列：jobs" in caught.value.message


def test_a_grade_cell_marked_not_on_the_ballot_is_no_mark() -> None:
    text = HEADER + "\n1,town,-,好,,能,能,-,-\n"
    (ballot,) = parse_item_ballots_csv(text, meeting(), "b.csv")
    # z1 "-": not on this ballot (no mark at all); c2 blank: abstained
    assert ballot.marks == {"c1": "好", "c2": ""}
    assert ballot.items == {"c1": {"a1": "能", "a2": "能"}}


def twin_group_names():  # noqa: ANN201
    data = base()
    data["groups"][1]["name"] = "镇机关"
    return parse_meeting(data, "m.toml")


VIA_HEADER = "ballot,group,via," + HEADER[13:]

# Every message whole: the file, line and column, and the words.
# fmt: off
BAD_EXACT = [
    (HEADER + '\n1,town,好,"好"x,好,能,能,能,能\n', meeting, "b.csv:2", "CSV格式错误：',' expected after '\"'"),
    (HEADER + '\n1,town,"好,好,好,能,能,能,能\n', meeting, "b.csv:2", "CSV格式错误：unexpected end of data"),
    (HEADER + "\n1,镇机关,好,好,好,能,能,能,能\n", twin_group_names, "b.csv:2:2", "分组名称“镇机关”不唯一，请填分组编号：town、rural"),
    (VIA_HEADER + "\n1,town,邮寄,好,好,好,能,能,能,能\n", meeting, "b.csv:2:3", "无效的投票方式“邮寄”（via列）；应为：纸质或手机（也可写 paper 或 phone）"),
]
# fmt: on


@pytest.mark.parametrize(("text", "make", "where", "message"), BAD_EXACT)
def test_item_ballot_mistakes_word_for_word(text: str, make, where: str, message: str) -> None:  # noqa: ANN001
    with pytest.raises(InputError) as caught:
        parse_item_ballots_csv(text, make(), "b.csv")
    assert (caught.value.where, caught.value.message) == (where, message)


def test_blank_lines_in_a_score_table_are_skipped_and_lines_still_counted() -> None:
    text = "reporter,e1\n\nc1,80\n,\nz1,90\n"
    assert parse_experts_csv(text, meeting(), "x.csv") == {"c1": {"e1": F(80)}, "z1": {"e1": F(90)}}
    with pytest.raises(InputError) as caught:
        parse_experts_csv(text.replace("90", "优"), meeting(), "x.csv")
    assert (caught.value.where, caught.value.message) == (
        "x.csv:5:2",
        "“优”不是数（e1列）；不填请留空",
    )


@pytest.mark.parametrize(
    ("parse", "text", "where", "message"),
    [
        (
            parse_experts_csv,
            'reporter,e1\nc1,"80\n',
            "t.csv:2",
            "CSV格式错误：unexpected end of data",
        ),
        (
            parse_indicators_csv,
            'reporter,income\n\nc1,"8"0\n',
            "t.csv:3",
            "CSV格式错误：',' expected after '\"'",
        ),
    ],
)
def test_a_broken_score_table_is_a_csv_error(parse, text: str, where: str, message: str) -> None:  # noqa: ANN001
    with pytest.raises(InputError) as caught:
        parse(text, meeting(), "t.csv")
    assert (caught.value.where, caught.value.message) == (where, message)


def test_indicator_values_need_indicators_in_the_meeting() -> None:
    data = base()
    del data["indicators"]
    data["composite"]["sources"] = [
        {"id": "vote", "name": "群众测评", "weight": 0.8},
        {"id": "experts", "name": "专家点评", "weight": 0.2},
    ]
    with pytest.raises(InputError) as caught:
        parse_indicators_csv("reporter,income\nc1,1\n", parse_meeting(data, "m.toml"), "i.csv")
    assert (caught.value.where, caught.value.message) == (
        "i.csv",
        "会议文件没有[[indicators]]，不能读取项目指标",
    )


def test_expert_and_indicator_tables_are_written_as_they_are_read() -> None:
    m = meeting()
    experts = {"c1": {"e1": F(185, 2), "e2": None}, "z1": {"e1": F(80), "e2": F(1, 3)}}
    text = format_score_table(m, experts, ["e1", "e2"])
    assert text.splitlines()[0] == "reporter,e1,e2"
    assert text.splitlines()[1].startswith("z1,")  # speaking order
    assert parse_experts_csv(text, m, "x.csv") == experts
    values = {"c2": {"income": F(25, 2)}}
    assert parse_indicators_csv(format_score_table(m, values, ["income"]), m) == values


@pytest.mark.parametrize("cell", ["1e999999", "9" * 16, "1/0", "0x10", "1_000", "١٢"])
def test_a_cell_that_is_no_plain_number_is_refused_before_it_is_built(cell: str) -> None:
    """Never an exponent (Fraction("1e999999") would take seconds and a megabyte)."""
    with pytest.raises(InputError, match="不是数"):
        parse_experts_csv(f"reporter,e1\nz1,{cell}\n", meeting(), "x.csv")
