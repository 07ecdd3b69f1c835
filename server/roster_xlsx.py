"""The roster workbook (名单.xlsx): read into rows of text for `tally.roster`, and written as
the template the setup page offers (Chinese headers, a comment on each explaining it, a
drop-down list for 述职方式) or filled (`examples/名单示例.xlsx`)."""

from __future__ import annotations

import datetime
import io
import zipfile
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation

from tally.roster import (
    FILE,
    GROUP_COLUMNS,
    GROUPS_SHEET,
    REPORTER_COLUMNS,
    REPORTERS_SHEET,
    RosterError,
    RosterRejected,
)

MAX_BYTES = 2 * 1024 * 1024
MAX_READ_ROWS = 1000  # per sheet: a roster is a few dozen rows
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

REPORTER_NOTES = {
    "序号": "可选：只为方便核对，不读取。发言顺序就是各行的顺序。",
    "编号": "可留空（自动编为r01、r02…）。如填写，只能用英文字母、数字、_或-，不能重复；选票表格的列名就是它。",
    "姓名": "必填：述职人姓名。",
    "单位": "必填：述职人所在单位（所领导的党组织）。",
    "述职方式": "从下拉列表选择：现场 或 书面；空白即现场。书面述职的不上台发言，但照样测评。",
    "标记": "可选：如“问责”“重大失误”，几个之间用顿号分隔。测评规则中的“直接定为差的标记”会使其测评等次定为差。",
}
GROUP_NOTES = {
    "编号": "可留空（自动编为g1、g2…）。如填写，只能用英文字母、数字、_或-，不能重复。",
    "名称": "必填：如“县级领导”“部门代表”“基层代表”。",
    "应到人数": "必填：本组发出的参会卡（选票）张数，不小于1的整数。",
    "权重": "本组在测评中所占的比重，如0.3或30%；各组之和必须为1。只有一个组别时可留空。",
}
EXAMPLE_REPORTERS = [
    ("r01", "王建国", "城关镇党委", "现场", ""),
    ("r02", "李秀英", "河东镇党委", "现场", ""),
    ("r03", "张伟", "河西镇党委", "现场", ""),
    ("r04", "刘洋", "北山乡党委", "现场", "问责"),
    ("r05", "陈静", "南湖乡党委", "现场", ""),
    ("r06", "杨光", "县教育局党组", "现场", ""),
    ("r07", "赵敏", "县卫健局党组", "书面", ""),
    ("r08", "黄磊", "县农业农村局党组", "现场", ""),
    ("r09", "周丽", "县住建局党组", "现场", ""),
    ("r10", "吴强", "县市场监管局党组", "书面", ""),
]
EXAMPLE_GROUPS = [
    ("leaders", "县级领导", 15, 0.3),
    ("cadres", "部门代表", 25, 0.3),
    ("grassroots", "基层代表", 40, 0.4),
]

_HEAD_FONT = Font(bold=True, size=14)
_HEAD_FILL = PatternFill("solid", fgColor="FBECEB")


def read_roster_xlsx(data: bytes) -> dict[str, list[list[str]]]:
    """Each sheet's rows as text (blank cells ""), or RosterRejected naming what is wrong."""
    if len(data) > MAX_BYTES:
        raise RosterRejected([_file_error(f"文件过大（最多{MAX_BYTES // 1024 // 1024} MB）")])
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError):
        raise RosterRejected(
            [_file_error("不是Excel工作簿（.xlsx）：请用“下载名单模板”得到的文件填写后上传")]
        ) from None
    try:
        sheets: dict[str, list[list[str]]] = {}
        for sheet in book.worksheets:
            rows = []
            for row in sheet.iter_rows(max_row=MAX_READ_ROWS, values_only=True):
                rows.append([_text(value) for value in row])
            while rows and not any(rows[-1]):
                rows.pop()
            sheets[sheet.title.strip()] = rows
        return sheets
    finally:
        book.close()


def _file_error(message: str) -> RosterError:
    return RosterError(FILE, None, None, message)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    return str(value).strip()


def roster_template() -> bytes:
    """The empty roster: the two sheets with their headers, comments and lists."""
    return roster_workbook([], [])


def roster_example() -> bytes:
    """A filled roster: 10 reporters, 3 groups (`examples/名单示例.xlsx`)."""
    return roster_workbook(EXAMPLE_REPORTERS, EXAMPLE_GROUPS)


def roster_workbook(
    reporters: list[tuple[str, str, str, str, str]],
    groups: list[tuple[str, str, int, float]],
) -> bytes:
    book = Workbook()
    people = book.active
    assert people is not None
    people.title = REPORTERS_SHEET
    _header(people, REPORTER_COLUMNS, REPORTER_NOTES, (6, 10, 12, 30, 12, 16))
    for i, (rid, name, org, mode, flags) in enumerate(reporters, 1):
        people.append([i, rid, name, org, mode, flags])
    modes = DataValidation(
        type="list",
        formula1='"现场,书面"',
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="述职方式",
        error="请选择“现场”或“书面”",
        promptTitle="述职方式",
        prompt="现场 或 书面（空白即现场）",
    )
    modes.add("E2:E500")
    people.add_data_validation(modes)
    teams = book.create_sheet(GROUPS_SHEET)
    _header(teams, GROUP_COLUMNS, GROUP_NOTES, (12, 20, 12, 10))
    for gid, name, seats, weight in groups:
        teams.append([gid, name, seats, weight])
    seats_rule = DataValidation(
        type="whole",
        operator="greaterThanOrEqual",
        formula1="1",
        allow_blank=True,
        showErrorMessage=True,
        error="应到人数应是不小于1的整数",
    )
    seats_rule.add("C2:C200")
    teams.add_data_validation(seats_rule)
    guide = book.create_sheet("填写说明")
    guide.column_dimensions["A"].width = 100
    lines = [
        "填写说明（本页不读取）",
        "1. 在“述职人”表中，从第2行起每行填写一位述职人，按述职（发言）顺序排列；姓名、单位必填。",
        "2. 在“投票组别”表中，每行填写一个投票组别：名称、应到人数必填；有多个组别时，每组都要填写权重，各组之和为1。",
        "3. 编号可以留空，系统自动编号；不要修改表头，也不要改工作表的名称。",
        "4. 填好后在设置页面点击“导入名单”上传本文件；有错误时页面逐条列出行号和列，改正后重新上传，未改正前不会导入任何一行。",
    ]
    for line in lines:
        guide.append([line])
    guide["A1"].font = _HEAD_FONT
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _header(sheet: Any, columns: tuple[str, ...], notes: dict[str, str], widths: tuple) -> None:
    sheet.append(list(columns))
    for index, title in enumerate(columns, 1):
        cell = sheet.cell(row=1, column=index)
        cell.font = _HEAD_FONT
        cell.fill = _HEAD_FILL
        cell.alignment = Alignment(horizontal="center")
        cell.comment = Comment(notes[title], "评议")
        letter = cell.column_letter
        sheet.column_dimensions[letter].width = widths[index - 1]
    sheet.freeze_panes = "A2"
