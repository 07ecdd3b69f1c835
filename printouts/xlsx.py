"""The results table for the upward report (上报), as an Excel workbook (openpyxl).

Sheet 测评结果: one row per reporter in speaking order with counts and shares per grade,
abstentions, spoiled marks, 差票%, score, base and final grade, rank and the reasons.
Sheet 分组票数: the counts per voter group. Numbers are written as numbers, not text.
`results_xlsx` returns the workbook's bytes; `cli` writes them.
"""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from tally.model import Meeting

MODE_LABEL = {"onsite": "现场述职", "written": "书面述职"}


def results_xlsx(result_json: dict, meeting: Meeting) -> bytes:
    """The workbook (.xlsx) for the engine's result JSON."""
    workbook = Workbook()
    sheet = workbook.active
    if not isinstance(sheet, Worksheet):  # a new Workbook's one sheet is a worksheet
        raise TypeError(f"openpyxl gave {type(sheet).__name__} as the first sheet")
    sheet.title = "测评结果"
    grades = list(result_json.get("grades") or meeting.rules.grades)
    quorum = result_json["quorum"]
    sheet.append([f"{meeting.title} 测评结果"])
    sheet.append(
        [
            f"日期：{meeting.date}",
            f"地点：{meeting.place}",
            f"应到：{quorum['seats']}",
            f"实到：{quorum['cast']}",
            "测评有效" if result_json["valid"] else "测评无效",
        ]
    )
    sheet.append([])
    header = (
        ["序号", "姓名", "单位", "述职方式"]
        + [f"{g}（票）" for g in grades]
        + [f"{g}（%）" for g in grades]
        + ["弃权", "废票", "差票%", "得分", "基础等次", "最终等次", "名次", "评定依据"]
    )
    sheet.append(header)
    for cell in sheet[4]:
        cell.font = Font(bold=True)
    sheet["A1"].font = Font(bold=True, size=14)
    for index, row in enumerate(result_json["reporters"], start=1):
        votes = sum(row["counts"].get(g, 0) for g in grades)
        counts = [row["counts"].get(g, 0) for g in grades]
        shares = [round(100 * c / votes, 1) if votes else None for c in counts]
        poor = None if row["poor_share"] is None else round(100 * row["poor_share"], 1)
        sheet.append(
            [
                index,
                row["name"],
                row.get("org", ""),
                MODE_LABEL.get(row.get("mode", ""), row.get("mode", "")),
            ]
            + counts
            + shares
            + [
                row["abstain"],
                row["invalid"],
                poor,
                row["score"],
                row["base_grade"],
                row["final_grade"],
                row.get("rank"),
                "；".join(step["why"] for step in row.get("steps", [])),
            ]
        )
    widths = [6, 10, 22, 10] + [8] * (2 * len(grades)) + [6, 6, 8, 8, 9, 9, 6, 60]
    for column, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = width
    for cells in sheet.iter_rows(min_row=5, min_col=len(widths), max_col=len(widths)):
        cells[0].alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "C5"
    _groups_sheet(workbook.create_sheet("分组票数"), result_json, meeting, grades)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _groups_sheet(sheet: Worksheet, result_json: dict, meeting: Meeting, grades: list[str]) -> None:
    groups = result_json.get("groups") or [
        {"id": g.id, "name": g.name, "seats": g.seats, "cast": None} for g in meeting.groups
    ]
    sheet.append(["组别", "应到", "实到"])
    for group in groups:
        sheet.append([group["name"], group["seats"], group["cast"]])
    sheet.append([])
    sheet.append(["姓名", "组别", *grades])
    for row in result_json["reporters"]:
        for group in groups:
            counts = row.get("counts_by_group", {}).get(group["id"], {})
            sheet.append([row["name"], group["name"], *(counts.get(g, 0) for g in grades)])
    sheet.column_dimensions["A"].width = 12
    sheet.column_dimensions["B"].width = 14
