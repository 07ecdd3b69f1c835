"""The roster (名单) a secretariat fills in Excel: its rows → the meeting file's reporters and
groups, or every mistake in it.

Two sheets, read by `server/roster_xlsx.py` into rows of text (the first row the headers):

- 述职人: 序号 (optional, ignored), 编号, 姓名, 单位, 述职方式 (现场 or 书面, blank: 现场),
  标记 (e.g. 问责; several separated by 、 or a comma);
- 投票组别: 编号, 名称, 应到人数, 权重 (a decimal or a percentage; with one group it may be
  left blank).

A blank 编号 is made from the row's place (述职人 r01, r02 …; 投票组别 g1, g2 …). Every mistake
is reported, each as (sheet, row, column, message) with the sheet's own row number and the
column's letter and header, and nothing is taken from a roster with any: all or nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

REPORTERS_SHEET = "述职人"
GROUPS_SHEET = "投票组别"
FILE = "文件"  # the sheet of an error about the file as a whole (not a workbook, too big)
REPORTER_COLUMNS = ("序号", "编号", "姓名", "单位", "述职方式", "标记")
GROUP_COLUMNS = ("编号", "名称", "应到人数", "权重")
REPORTER_REQUIRED = ("姓名", "单位")
GROUP_REQUIRED = ("名称", "应到人数")
MODES = {"现场": "onsite", "现场述职": "onsite", "书面": "written", "书面述职": "written"}
MAX_ROWS = 500

_ID = re.compile(r"[A-Za-z0-9_-]+")
_FLAG_SPLIT = re.compile(r"[、，,；;\s]+")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


@dataclass(frozen=True)
class RosterError:
    """One mistake: the sheet, its row number in the sheet (None: the sheet as a whole), the
    column as ``C（单位）`` (None: the row as a whole) and what is wrong, in Chinese."""

    sheet: str
    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = "文件" if self.sheet == FILE else f"工作表“{self.sheet}”"
        if self.row is not None:
            where += f"第{self.row}行"
        if self.column is not None:
            where += f"{self.column}列"
        return f"{where}：{self.message}"

    def as_dict(self) -> dict[str, Any]:
        return {"sheet": self.sheet, "row": self.row, "column": self.column, "msg": self.message}


class RosterRejected(ValueError):
    """The roster had mistakes: all of them, in sheet and row order; nothing was taken."""

    def __init__(self, errors: list[RosterError]) -> None:
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


class _Sheet:
    """One sheet's rows with its header: finds the columns, names them in messages."""

    def __init__(
        self,
        name: str,
        rows: list[list[str]],
        known: tuple[str, ...],
        required: tuple[str, ...],
        errors: list[RosterError],
    ) -> None:
        self.name, self.errors = name, errors
        header = [cell.strip().rstrip("*＊") for cell in (rows[0] if rows else [])]
        self.where = {title: i for i, title in reversed(list(enumerate(header))) if title}
        for title in required:
            if title not in self.where:
                self.fail(1, None, f"缺少“{title}”列（表头应为：{'、'.join(known)}）")
        for i, title in enumerate(header):
            if title and title not in known:
                self.fail(1, self.column(title, i), f"未知的列“{title}”；应为：{'、'.join(known)}")
        self.rows = [
            (number, row)
            for number, row in enumerate(rows[1:], 2)
            if any(cell.strip() for cell in row) and not _is_note(row)
        ]
        if any(e.sheet == name for e in errors):
            self.rows = []  # with the header wrong, each row's cells would be wrong too
        if len(self.rows) > MAX_ROWS:
            self.fail(None, None, f"行数过多（{len(self.rows)}行）；最多{MAX_ROWS}行")
            self.rows = []

    def column(self, title: str, index: int | None = None) -> str:
        index = self.where.get(title) if index is None else index
        return title if index is None else f"{column_letter(index)}（{title}）"

    def cell(self, row: list[str], title: str) -> str:
        index = self.where.get(title)
        if index is None or index >= len(row):
            return ""
        return row[index].strip()

    def fail(self, row: int | None, column: str | None, message: str) -> None:
        self.errors.append(RosterError(self.name, row, column, message))


def _is_note(row: list[str]) -> bool:
    """The template's explanation row: its first cell starts with 说明 or 填写说明."""
    first = next((cell.strip() for cell in row if cell.strip()), "")
    return first.startswith(("说明", "填写说明", "（说明"))


def read_roster(sheets: dict[str, list[list[str]]]) -> dict[str, list[dict[str, Any]]]:
    """{"reporters": [...], "groups": [...]} in the meeting file's shape, or RosterRejected
    with every mistake."""
    errors: list[RosterError] = []
    reporters: list[dict[str, Any]] = []
    groups: list[dict[str, Any]] = []
    for name in (REPORTERS_SHEET, GROUPS_SHEET):
        if name not in sheets:
            found = "、".join(sheets) or "无"
            errors.append(RosterError(name, None, None, f"缺少工作表“{name}”（现有：{found}）"))
    if REPORTERS_SHEET in sheets:
        reporters = _reporters(sheets[REPORTERS_SHEET], errors)
    if GROUPS_SHEET in sheets:
        groups = _groups(sheets[GROUPS_SHEET], errors)
    if errors:
        raise RosterRejected(errors)
    return {"reporters": reporters, "groups": groups}


def _reporters(rows: list[list[str]], errors: list[RosterError]) -> list[dict[str, Any]]:
    sheet = _Sheet(REPORTERS_SHEET, rows, REPORTER_COLUMNS, REPORTER_REQUIRED, errors)
    if not sheet.rows and not any(e.sheet == REPORTERS_SHEET for e in errors):
        sheet.fail(None, None, "没有述职人：从第2行起每行填写一位述职人")
    seen: dict[str, int] = {}
    out = []
    for place, (number, row) in enumerate(sheet.rows, 1):
        rid = _ident(sheet, row, number, f"r{place:02d}", seen, "述职人")
        name, org = sheet.cell(row, "姓名"), sheet.cell(row, "单位")
        if not name:
            sheet.fail(number, sheet.column("姓名"), "姓名不能为空")
        if not org:
            sheet.fail(number, sheet.column("单位"), "单位不能为空")
        mode_text = sheet.cell(row, "述职方式")
        mode = MODES.get(mode_text, "onsite" if not mode_text else "")
        if not mode:
            sheet.fail(
                number,
                sheet.column("述职方式"),
                f"应为“现场”或“书面”（空白即现场），实际为“{mode_text}”",
            )
        flags = [flag for flag in _FLAG_SPLIT.split(sheet.cell(row, "标记")) if flag]
        reporter: dict[str, Any] = {"id": rid, "name": name, "org": org, "mode": mode or "onsite"}
        if flags:
            reporter["flags"] = flags
        out.append(reporter)
    return out


def _groups(rows: list[list[str]], errors: list[RosterError]) -> list[dict[str, Any]]:
    sheet = _Sheet(GROUPS_SHEET, rows, GROUP_COLUMNS, GROUP_REQUIRED, errors)
    if not sheet.rows and not any(e.sheet == GROUPS_SHEET for e in errors):
        sheet.fail(None, None, "没有投票组别：从第2行起每行填写一个组别（只有一组也要填写）")
    seen: dict[str, int] = {}
    out = []
    weights: list[Fraction] = []
    for place, (number, row) in enumerate(sheet.rows, 1):
        gid = _ident(sheet, row, number, f"g{place}", seen, "组别")
        name = sheet.cell(row, "名称")
        if not name:
            sheet.fail(number, sheet.column("名称"), "名称不能为空")
        seats_text = sheet.cell(row, "应到人数")
        seats = _whole(seats_text)
        if seats is None or seats < 1:
            sheet.fail(number, sheet.column("应到人数"), f"应是不小于1的整数，实际为“{seats_text}”")
        group: dict[str, Any] = {"id": gid, "name": name, "seats": seats or 1}
        weight_text = sheet.cell(row, "权重")
        if weight_text or len(sheet.rows) > 1:
            weight = _share(weight_text)
            if weight is not None and _number(weight) is None:
                weight = None  # more decimals than the meeting file keeps exactly
            if weight is None or not 0 < weight <= 1:
                shown = f"实际为“{weight_text}”" if weight_text else "未填写"
                sheet.fail(
                    number,
                    sheet.column("权重"),
                    f"应是大于0、不超过1的小数或百分数（如0.3或30%；各组之和为1），{shown}",
                )
            else:
                weights.append(weight)
                group["weight"] = _number(weight)
        out.append(group)
    total = sum(weights, Fraction(0))
    if len(weights) == len(sheet.rows) > 1 and total != 1:
        shown = " + ".join(_plain(w) for w in weights)
        sheet.fail(
            None, sheet.column("权重"), f"各组权重之和应为1，实际为{shown} = {_plain(total)}"
        )
    return out


def _ident(
    sheet: _Sheet, row: list[str], number: int, made: str, seen: dict[str, int], what: str
) -> str:
    value = sheet.cell(row, "编号") or made
    if not _ID.fullmatch(value):
        sheet.fail(
            number,
            sheet.column("编号"),
            f"{what}编号只能含ASCII字母、数字、_或-（也可留空，自动编号），实际为“{value}”",
        )
    elif value in seen:
        sheet.fail(
            number, sheet.column("编号"), f"{what}编号“{value}”重复（第{seen[value]}行已用）"
        )
    else:
        seen[value] = number
    return value


def _whole(text: str) -> int | None:
    """An integer as Excel gives it: "12", or "12.0" from a number cell."""
    if not _NUMBER.fullmatch(text):
        return None
    value = Fraction(text)
    return int(value) if value.denominator == 1 else None


def _share(text: str) -> Fraction | None:
    """0.3, 30% or 30％ → 3/10."""
    text = text.replace("％", "%").strip()
    percent = text.endswith("%")
    text = text.removesuffix("%").strip()
    if not _NUMBER.fullmatch(text):
        return None
    value = Fraction(text)
    return value / 100 if percent else value


def _number(value: Fraction) -> int | float | None:
    """For the meeting file: 1 as 1, a decimal as the float whose repr is that decimal (None:
    too many decimals for that)."""
    if value.denominator == 1:
        return int(value)
    as_float = float(value)
    return as_float if Fraction(repr(as_float)) == value else None


def _plain(value: Fraction) -> str:
    if value.denominator == 1:
        return str(value.numerator)
    text = f"{float(value):.6f}".rstrip("0").rstrip(".")
    return text if Fraction(text) == value else str(value)
