"""The roster (名单.xlsx): rows → reporters and groups, every mistake with its sheet, row and
column, nothing taken from a roster with any; the template and the example workbooks."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from server.roster_xlsx import read_roster_xlsx, roster_example, roster_template
from tally.meeting_file import parse_meeting
from tally.roster import RosterError, RosterRejected, read_roster

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
R_HEAD = ["序号", "编号", "姓名", "单位", "述职方式", "标记"]
G_HEAD = ["编号", "名称", "应到人数", "权重"]
GOOD_R = [
    ["1", "r01", "王建国", "城关镇党委", "现场", ""],
    ["2", "r02", "李秀英", "河东镇党委", "书面", "问责、重大失误"],
]
GOOD_G = [["a", "县级领导", "15", "0.3"], ["b", "基层代表", "40", "70%"]]


def sheets(reporters: list[list[str]] | None = None, groups: list[list[str]] | None = None) -> dict:
    return {
        "述职人": [R_HEAD, *(GOOD_R if reporters is None else reporters)],
        "投票组别": [G_HEAD, *(GOOD_G if groups is None else groups)],
    }


def errors_of(found: dict) -> list[tuple[str, int | None, str | None, str]]:
    with pytest.raises(RosterRejected) as caught:
        read_roster(found)
    return [(e.sheet, e.row, e.column, e.message) for e in caught.value.errors]


def test_a_good_roster() -> None:
    roster = read_roster(sheets())
    assert roster["reporters"][1] == {
        "id": "r02",
        "name": "李秀英",
        "org": "河东镇党委",
        "mode": "written",
        "flags": ["问责", "重大失误"],
    }
    assert roster["groups"] == [
        {"id": "a", "name": "县级领导", "seats": 15, "weight": 0.3},
        {"id": "b", "name": "基层代表", "seats": 40, "weight": 0.7},
    ]
    meeting = parse_meeting({"meeting": {"title": "t", "date": "2026-12-28"}, **roster})
    assert [r.name for r in meeting.reporters] == ["王建国", "李秀英"]


def test_blank_ids_are_made_and_one_group_needs_no_weight() -> None:
    roster = read_roster(
        sheets(
            [["", "", "甲", "单位一", "", ""], ["", "", "乙", "单位二", "", ""]],
            [["", "全体", "30", ""]],
        )
    )
    assert [r["id"] for r in roster["reporters"]] == ["r01", "r02"]
    assert roster["groups"] == [{"id": "g1", "name": "全体", "seats": 30}]


BAD_ROWS = [
    # (reporter rows, group rows, the one error expected)
    (
        [["1", "r 1", "甲", "单位", "", ""]],
        None,
        (
            "述职人",
            2,
            "B（编号）",
            "述职人编号只能含ASCII字母、数字、_或-（也可留空，自动编号），实际为“r 1”",
        ),
    ),
    ([["1", "r1", "", "单位", "", ""]], None, ("述职人", 2, "C（姓名）", "姓名不能为空")),
    ([["1", "r1", "甲", "", "", ""]], None, ("述职人", 2, "D（单位）", "单位不能为空")),
    (
        [["1", "r1", "甲", "单位", "视频", ""]],
        None,
        ("述职人", 2, "E（述职方式）", "应为“现场”或“书面”（空白即现场），实际为“视频”"),
    ),
    (
        [["1", "r1", "甲", "单位", "", ""], ["2", "r1", "乙", "单位", "", ""]],
        None,
        ("述职人", 3, "B（编号）", "述职人编号“r1”重复（第2行已用）"),
    ),
    (
        None,
        [["a", "县级领导", "十五", "0.3"], ["b", "基层", "40", "0.7"]],
        ("投票组别", 2, "C（应到人数）", "应是不小于1的整数，实际为“十五”"),
    ),
    (
        None,
        [["a", "县级领导", "0", "0.3"], ["b", "基层", "40", "0.7"]],
        ("投票组别", 2, "C（应到人数）", "应是不小于1的整数，实际为“0”"),
    ),
    (
        None,
        [["a", "", "15", "0.3"], ["b", "基层", "40", "0.7"]],
        ("投票组别", 2, "B（名称）", "名称不能为空"),
    ),
    (
        None,
        [["a", "县级领导", "15", ""], ["b", "基层", "40", "0.7"]],
        (
            "投票组别",
            2,
            "D（权重）",
            "应是大于0、不超过1的小数或百分数（如0.3或30%；各组之和为1），未填写",
        ),
    ),
    (
        None,
        [["a", "县级领导", "15", "0.3"], ["b", "基层", "40", "0.6"]],
        ("投票组别", None, "D（权重）", "各组权重之和应为1，实际为0.3 + 0.6 = 0.9"),
    ),
    ([], None, ("述职人", None, None, "没有述职人：从第2行起每行填写一位述职人")),
]


@pytest.mark.parametrize(("reporters", "groups", "expected"), BAD_ROWS)
def test_each_bad_row_is_named(
    reporters: list | None, groups: list | None, expected: tuple
) -> None:
    assert errors_of(sheets(reporters, groups)) == [expected]


def test_every_error_at_once_and_nothing_taken() -> None:
    found = sheets(
        [
            ["1", "r1", "", "单位", "", ""],
            ["2", "r1", "乙", "", "远程", ""],
            ["3", "r3", "丙", "单位", "", ""],
        ],
        [["a", "县级领导", "x", "0.5"], ["a", "", "10", "0.5"]],
    )
    errors = errors_of(found)
    assert [(sheet, row, column) for sheet, row, column, _ in errors] == [
        ("述职人", 2, "C（姓名）"),
        ("述职人", 3, "B（编号）"),
        ("述职人", 3, "D（单位）"),
        ("述职人", 3, "E（述职方式）"),
        ("投票组别", 2, "C（应到人数）"),
        ("投票组别", 3, "A（编号）"),
        ("投票组别", 3, "B（名称）"),
    ]


def test_missing_sheets_and_columns() -> None:
    assert errors_of({"Sheet1": [["a"]]}) == [
        ("述职人", None, None, "缺少工作表“述职人”（现有：Sheet1）"),
        ("投票组别", None, None, "缺少工作表“投票组别”（现有：Sheet1）"),
    ]
    found = sheets()
    found["述职人"] = [["编号", "名字", "单位"], ["r1", "甲", "单位"]]
    assert errors_of(found) == [
        ("述职人", 1, None, "缺少“姓名”列（表头应为：序号、编号、姓名、单位、述职方式、标记）"),
        ("述职人", 1, "B（名字）", "未知的列“名字”；应为：序号、编号、姓名、单位、述职方式、标记"),
    ]


def test_error_text_names_sheet_row_and_column() -> None:
    assert (
        str(RosterError("述职人", 4, "C（姓名）", "姓名不能为空"))
        == "工作表“述职人”第4行C（姓名）列：姓名不能为空"
    )


def test_not_a_workbook() -> None:
    with pytest.raises(RosterRejected) as caught:
        read_roster_xlsx(b"PK\x03\x04 not really")
    assert caught.value.errors[0].sheet == "文件"


def test_the_template_has_headers_comments_and_a_list() -> None:
    book = load_workbook(io.BytesIO(roster_template()))
    people = book["述职人"]
    assert [c.value for c in people[1]] == R_HEAD
    assert all(c.comment is not None and c.comment.text for c in people[1])
    lists = [v for v in people.data_validations.dataValidation if v.type == "list"]
    assert lists and lists[0].formula1 == '"现场,书面"'
    assert [c.value for c in book["投票组别"][1]] == G_HEAD
    with pytest.raises(RosterRejected):  # empty: no reporter, no group
        read_roster(read_roster_xlsx(roster_template()))


def test_the_example_files_are_what_the_code_makes() -> None:
    for name, made in (("名单模板.xlsx", roster_template()), ("名单示例.xlsx", roster_example())):
        assert read_roster_xlsx((EXAMPLES / name).read_bytes()) == read_roster_xlsx(made), name
    roster = read_roster(read_roster_xlsx((EXAMPLES / "名单示例.xlsx").read_bytes()))
    assert len(roster["reporters"]) == 10 and len(roster["groups"]) == 3
    parse_meeting({"meeting": {"title": "t", "date": "2026-12-28"}, **roster})


def test_numbers_from_excel_cells() -> None:
    book = Workbook()
    people = book.active
    assert people is not None
    people.title = "述职人"
    people.append(R_HEAD)
    people.append([1, "r01", "甲", "单位", "现场", None])
    groups = book.create_sheet("投票组别")
    groups.append(G_HEAD)
    groups.append(["a", "一组", 12.0, 0.25])
    groups.append(["b", "二组", 30, 0.75])
    out = io.BytesIO()
    book.save(out)
    roster = read_roster(read_roster_xlsx(out.getvalue()))
    assert roster["groups"][0] == {"id": "a", "name": "一组", "seats": 12, "weight": 0.25}


def test_an_error_as_the_page_receives_it() -> None:
    error = RosterError("投票组别", 3, "D（权重）", "应在0到1之间")
    assert error.as_dict() == {
        "sheet": "投票组别",
        "row": 3,
        "column": "D（权重）",
        "msg": "应在0到1之间",
    }


def test_too_many_rows_are_refused_whole() -> None:
    many = [[str(i), "", f"人{i}", "单位", "现场", ""] for i in range(1, 502)]
    assert errors_of(sheets(many)) == [("述职人", None, None, "行数过多（501行）；最多500行")]


def test_short_rows_read_their_missing_cells_as_blank() -> None:
    roster = read_roster(sheets([["1", "r01", "王建国", "城关镇党委"]]))  # no 述职方式, no 标记
    assert roster["reporters"] == [
        {"id": "r01", "name": "王建国", "org": "城关镇党委", "mode": "onsite"}
    ]


@pytest.mark.parametrize(
    ("weights", "written", "problem"),
    [
        (
            ["1", "0"],
            None,
            "应是大于0、不超过1的小数或百分数（如0.3或30%；各组之和为1），实际为“0”",
        ),
        (["0.3333333333333333333", "0.6666666666666666667"], None, "实际为“0.3333333333333333333”"),
        (["1"], [1], None),
    ],
    ids=["zero", "too many decimals", "whole numbers"],
)
def test_weights_are_kept_exactly_or_refused(
    weights: list[str], written: list | None, problem: str | None
) -> None:
    groups = [[gid, "组别", "15", weight] for gid, weight in zip("ab", weights, strict=False)]
    if problem is None:
        assert [g["weight"] for g in read_roster(sheets(None, groups))["groups"]] == written
        return
    found = errors_of(sheets(None, groups))
    assert found and found[0][:3] == ("投票组别", 2 if weights[0] != "1" else 3, "D（权重）")
    assert problem in found[0][3]


def test_weights_that_do_not_add_up_are_shown_as_written() -> None:
    groups = [["a", "县级领导", "15", "1"], ["b", "基层代表", "40", "1"]]
    assert errors_of(sheets(None, groups)) == [
        ("投票组别", None, "D（权重）", "各组权重之和应为1，实际为1 + 1 = 2")
    ]
